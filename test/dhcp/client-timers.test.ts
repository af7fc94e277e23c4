import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { INFINITE_LEASE, nextRandom, renewRetransmitAt, renewTimes, retransmitDelay } from '../../agent/dhcp/client-timers.ts';

describe('client timers', () => {
  it('retransmission delays: 4, 8, 16, 32, 64, 64 s, each within ± 1 s', () => {
    fc.assert(
      fc.property(fc.nat(), (seed) => {
        let rng = seed;
        [4, 8, 16, 32, 64, 64, 64].forEach((base, i) => {
          const [d, next] = retransmitDelay(i + 1, rng);
          rng = next;
          expect(d).toBeGreaterThanOrEqual(base * 1000 - 1000);
          expect(d).toBeLessThanOrEqual(base * 1000 + 1000);
        });
      }),
    );
  });

  it('the PRNG is deterministic and in [0, 1)', () => {
    fc.assert(
      fc.property(fc.nat(), (seed) => {
        const [a, s1] = nextRandom(seed);
        expect(nextRandom(seed)).toEqual([a, s1]);
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThan(1);
      }),
    );
  });

  it('RENEWING/REBINDING retransmit: half the remaining time, at least 60 s, never past the deadline', () => {
    expect(renewRetransmitAt(0, 1_000_000)).toBe(500_000);
    expect(renewRetransmitAt(0, 100_000)).toBe(60_000);
    expect(renewRetransmitAt(0, 30_000)).toBe(30_000);
  });

  it('T1/T2: server values when consistent, RFC defaults otherwise', () => {
    expect(renewTimes(3600)).toEqual({ renewSeconds: 1800, rebindSeconds: 3150 });
    expect(renewTimes(3600, 600, 1200)).toEqual({ renewSeconds: 600, rebindSeconds: 1200 });
    expect(renewTimes(3600, 2000, 1000)).toEqual({ renewSeconds: 1000, rebindSeconds: 1000 });
    expect(renewTimes(3600, 0, 9000)).toEqual({ renewSeconds: 1800, rebindSeconds: 3150 });
    expect(renewTimes(1)).toEqual({ renewSeconds: 1, rebindSeconds: 1 });
    expect(renewTimes(3, 0, 0)).toEqual({ renewSeconds: 1, rebindSeconds: 2 });
    expect(renewTimes(INFINITE_LEASE)).toEqual({ renewSeconds: INFINITE_LEASE, rebindSeconds: INFINITE_LEASE });
  });
});
