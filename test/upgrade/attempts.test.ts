import { describe, expect, it } from 'vitest';
import { backoffMs, emptyAttempts, onAck, recordFailure, recordSuccess, recordVerifyFailure, forOffer } from '../../agent/upgrade/attempts.ts';
import type { RetryPolicy } from '../../agent/upgrade/policy.ts';

const policy: RetryPolicy = { maxAttempts: 3, baseMs: 1000, maxMs: 5000, jitter: 0.5 };

describe('backoffMs', () => {
  it.each([
    [1, 0, 500],
    [1, 0.999999, 1000],
    [2, 0, 1000],
    [3, 0.5, 3000],
    [4, 1, 5000],
    [10, 1, 5000],
  ])('failure %d rand %d → %d ms', (n, r, ms) => {
    expect(backoffMs(policy, n, r)).toBe(ms);
  });
  it('no jitter is exact', () => {
    expect(backoffMs({ ...policy, jitter: 0 }, 2, 0.3)).toBe(2000);
  });
});

describe('attempt rounds on a fake clock', () => {
  it('three failures give up until the next ACK, which opens a new round', () => {
    let s = emptyAttempts();
    s = recordFailure(s, 'k', 'TFTP_NOT_FOUND', 1000, policy, 0);
    expect(s).toMatchObject({ failures: 1, gaveUp: false, nextAttemptAt: 1500 });
    s = recordFailure(s, 'k', 'TFTP_NOT_FOUND', 2000, policy, 0);
    expect(s).toMatchObject({ failures: 2, gaveUp: false, nextAttemptAt: 3000 });
    s = recordFailure(s, 'k', 'TFTP_NOT_FOUND', 4000, policy, 0);
    expect(s).toMatchObject({ failures: 3, gaveUp: true, nextAttemptAt: null, totalFailures: 3 });
    s = onAck(s);
    expect(s).toMatchObject({ failures: 0, gaveUp: false, nextAttemptAt: null, totalFailures: 3, offerKey: 'k' });
  });

  it('an ACK during backoff changes nothing', () => {
    const s = recordFailure(emptyAttempts(), 'k', 'X', 0, policy, 0);
    expect(onAck(s)).toBe(s);
  });

  it('a verification failure survives ACKs but not a new offer', () => {
    let s = recordVerifyFailure(emptyAttempts(), 'k', 'UPGRADE_MD5_MISMATCH', 5);
    expect(s.verifyFailed).toBe(true);
    s = onAck(s);
    expect(s.verifyFailed).toBe(true);
    expect(forOffer(s, 'k2')).toMatchObject({ offerKey: 'k2', verifyFailed: false, failures: 0 });
  });

  it('a failure for a different offer starts fresh counters', () => {
    let s = recordFailure(emptyAttempts(), 'a', 'X', 0, policy, 0);
    s = recordFailure(s, 'a', 'X', 0, policy, 0);
    s = recordFailure(s, 'b', 'X', 0, policy, 0);
    expect(s).toMatchObject({ offerKey: 'b', failures: 1, totalFailures: 1 });
  });

  it('success clears the counters', () => {
    const s = recordFailure(emptyAttempts(), 'a', 'X', 0, policy, 0);
    expect(recordSuccess(s, 'a')).toEqual({ ...emptyAttempts(), offerKey: 'a' });
  });
});
