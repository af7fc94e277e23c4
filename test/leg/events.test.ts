import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoTime, toEvent } from '../../agent/leg/events.ts';
import { T0 } from './helpers.ts';

describe('events', () => {
  it('isoTime equals Date#toISOString for whole milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799999 }), (ms) => {
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 2000 },
    );
    for (const ms of [0, 999, 1000, 86_399_999, 86_400_000, T0 + 0.7, 951782400000 /* 2000-02-29 */]) expect(isoTime(ms)).toBe(new Date(Math.floor(ms)).toISOString());
    expect(isoTime(-1)).toBe(new Date(-1).toISOString());
    expect(isoTime(NaN)).toBe('1970-01-01T00:00:00.000Z');
  });

  it('every event has the same keys; xid as 0x-hex', () => {
    const e = toEvent({ kind: 'auto-logout', subscriber: 's', ip: '198.18.80.1', modem: false, reason: 'expired', time: T0, chaddr: 'aa:bb:cc:00:00:01', xid: 0xabc, transaction: 'expiry' });
    expect(Object.keys(e)).toEqual(['event', 'time', 'subscriber', 'ip', 'modem', 'leaseSeconds', 'package', 'reason', 'transaction', 'chaddr', 'xid']);
    expect(e).toMatchObject({ event: 'auto-logout', reason: 'expired', xid: '0x00000abc', leaseSeconds: null, package: null });
  });
});
