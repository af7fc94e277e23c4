/**
 * Download attempt bookkeeping for one offer (pure; `now` and the random draw are inputs).
 *
 * - a failed download schedules a retry after a jittered exponential backoff;
 * - after `maxAttempts` failures the round is over: nothing happens until the next DHCP
 *   ACK, which opens a new round;
 * - an image that failed verification (MD5 mismatch) is not fetched again until the offer
 *   changes (a new offer key), whatever the ACKs say.
 */
import type { RetryPolicy } from './policy.ts';

export interface AttemptState {
  /** offer these counters belong to (softwareOfferKey); null: none yet */
  offerKey: string | null;
  /** failures in the current round */
  failures: number;
  /** all failures for this offer, across rounds (reporting only) */
  totalFailures: number;
  /** ms since the epoch before which no new attempt is made */
  nextAttemptAt: number | null;
  /** the round is exhausted; waits for the next DHCP ACK */
  gaveUp: boolean;
  /** the offered image failed verification; waits for a different offer */
  verifyFailed: boolean;
  lastFailureAt: number | null;
  lastFailureCode: string | null;
}

export function emptyAttempts(): AttemptState {
  return {
    offerKey: null,
    failures: 0,
    totalFailures: 0,
    nextAttemptAt: null,
    gaveUp: false,
    verifyFailed: false,
    lastFailureAt: null,
    lastFailureCode: null,
  };
}

/** The counters for `offerKey`: unchanged when it is the same offer, fresh otherwise. */
export function forOffer(s: AttemptState, offerKey: string): AttemptState {
  return s.offerKey === offerKey ? s : { ...emptyAttempts(), offerKey };
}

/** A DHCP ACK arrived: an exhausted round starts over (a verification failure does not). */
export function onAck(s: AttemptState): AttemptState {
  if (!s.gaveUp) return s;
  return { ...s, gaveUp: false, failures: 0, nextAttemptAt: null };
}

/** Delay before retry number `failures` (1-based), jittered by `rand` in [0, 1). */
export function backoffMs(policy: RetryPolicy, failures: number, rand: number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  const r = Math.min(Math.max(rand, 0), 1);
  return Math.round(exp * (1 - policy.jitter + policy.jitter * r));
}

/** A download of `offerKey` failed with `code` at `now`. */
export function recordFailure(s: AttemptState, offerKey: string, code: string, now: number, policy: RetryPolicy, rand: number): AttemptState {
  const cur = forOffer(s, offerKey);
  const failures = cur.failures + 1;
  const gaveUp = failures >= policy.maxAttempts;
  return {
    ...cur,
    failures,
    totalFailures: cur.totalFailures + 1,
    gaveUp,
    nextAttemptAt: gaveUp ? null : now + backoffMs(policy, failures, rand),
    lastFailureAt: now,
    lastFailureCode: code,
  };
}

/** The image of `offerKey` was downloaded but failed verification. */
export function recordVerifyFailure(s: AttemptState, offerKey: string, code: string, now: number): AttemptState {
  const cur = forOffer(s, offerKey);
  return {
    ...cur,
    failures: cur.failures + 1,
    totalFailures: cur.totalFailures + 1,
    verifyFailed: true,
    nextAttemptAt: null,
    lastFailureAt: now,
    lastFailureCode: code,
  };
}

/** The download of `offerKey` succeeded: counters cleared. */
export function recordSuccess(_s: AttemptState, offerKey: string): AttemptState {
  return { ...emptyAttempts(), offerKey };
}
