/**
 * Timing rules of the client (RFC 2131 §4.1, §4.4.5) as pure functions, plus the machine's
 * deterministic PRNG (mulberry32): randomness enters only through the seed.
 */
import type { Lease } from './lease.ts';
import { mulberry32Step } from '../util/prng.ts';

/** Initial retransmission delay and its cap (RFC 2131 §4.1: 4, 8, 16, 32, 64 s). */
export const RETRANSMIT_BASE_MS = 4_000;
export const RETRANSMIT_CAP_MS = 64_000;
/** Randomisation of every retransmission delay: ± 1 s, uniform. */
export const JITTER_MS = 1_000;
/** RENEWING/REBINDING: retransmit after half the remaining time, never sooner than 60 s (§4.4.5). */
export const RENEW_RETRANSMIT_MIN_MS = 60_000;
/** DISCOVERs per xid before the client starts a fresh exchange (keeps discovering forever). */
export const DISCOVER_SENDS = 6;
/** REQUESTs for one OFFER before going back to INIT. */
export const REQUEST_SENDS = 4;
/**
 * INIT-REBOOT REQUESTs before giving up on the remembered address (sent at 0 and 4 s, DISCOVER
 * at ~12 s): a non-authoritative server stays silent for an address it does not know, so the
 * wait must stay short.
 */
export const REBOOT_SENDS = 2;
/** Pause after a NAK before a new DISCOVER (avoids a NAK storm; udhcpc uses 3 s too). */
export const NAK_PAUSE_MS = 3_000;
/** Pause after DECLINE (RFC 2131 §3.1.5: at least 10 s). */
export const DECLINE_PAUSE_MS = 10_000;
/** Pause after the shell failed to apply a lease. */
export const APPLY_FAIL_PAUSE_MS = 10_000;
/** Lease time meaning "infinite" (RFC 2131 §3.3). */
export const INFINITE_LEASE = 0xffffffff;

/** One PRNG draw: a float in [0, 1) and the next state. */
export function nextRandom(rng: number): [number, number] {
  return mulberry32Step(rng);
}

/** A fresh 32-bit xid and the next PRNG state. */
export function nextXid(rng: number): [number, number] {
  const [r, n] = nextRandom(rng);
  return [Math.floor(r * 4294967296) >>> 0, n];
}

/**
 * Delay before retransmission number `sends` (1 = after the first send): 4, 8, 16, 32, 64, 64 … s,
 * each ± 1 s. Returns the delay in ms and the next PRNG state.
 */
export function retransmitDelay(sends: number, rng: number): [number, number] {
  const base = Math.min(RETRANSMIT_BASE_MS * 2 ** Math.max(0, sends - 1), RETRANSMIT_CAP_MS);
  const [r, n] = nextRandom(rng);
  return [base + Math.round((r * 2 - 1) * JITTER_MS), n];
}

export function isInfinite(lease: Lease): boolean {
  return lease.leaseSeconds >= INFINITE_LEASE;
}

/** Absolute T1, T2 and expiry of a lease, ms (Infinity for an infinite lease). */
export function leaseDeadlines(lease: Lease): { t1: number; t2: number; expiry: number } {
  if (isInfinite(lease)) return { t1: Infinity, t2: Infinity, expiry: Infinity };
  return {
    t1: lease.acquiredAt + lease.renewSeconds * 1000,
    t2: lease.acquiredAt + lease.rebindSeconds * 1000,
    expiry: lease.acquiredAt + lease.leaseSeconds * 1000,
  };
}

/**
 * Next retransmission in RENEWING (deadline T2) / REBINDING (deadline expiry): half of the
 * remaining time, at least 60 s, but never past the deadline itself (§4.4.5).
 */
export function renewRetransmitAt(now: number, deadline: number): number {
  const half = (deadline - now) / 2;
  return Math.min(deadline, now + Math.max(RENEW_RETRANSMIT_MIN_MS, Math.floor(half)));
}

/**
 * T1/T2 from the server's options 58/59 when they are consistent (0 < T1 ≤ T2 ≤ lease),
 * otherwise RFC 2131 §4.4.5 defaults 0.5 × lease and 0.875 × lease; T1 is at least 1 s.
 */
export function renewTimes(leaseSeconds: number, t1?: number, t2?: number): { renewSeconds: number; rebindSeconds: number } {
  if (leaseSeconds >= INFINITE_LEASE) return { renewSeconds: INFINITE_LEASE, rebindSeconds: INFINITE_LEASE };
  let rebind = t2 !== undefined && t2 > 0 && t2 <= leaseSeconds ? t2 : Math.floor(leaseSeconds * 0.875);
  let renew = t1 !== undefined && t1 > 0 && t1 <= rebind ? t1 : Math.floor(leaseSeconds * 0.5);
  if (renew > rebind) renew = rebind;
  if (rebind <= 0) rebind = leaseSeconds;
  // never renew the instant a lease is bound: a 0-second T1 would turn every ACK into the
  // next REQUEST (a tight loop against a misconfigured server)
  if (renew < 1) renew = 1;
  if (rebind < renew) rebind = renew;
  return { renewSeconds: renew, rebindSeconds: rebind };
}
