import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoTime, toEvent } from '../../agent/leg/events.ts';
import { EventBuffer } from '../../agent/leg/event-buffer.ts';
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

describe('EventBuffer', () => {
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 12, size: 'max' }),
    fc.constantFrom('', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udfff', '\ud83d\ude00', 'a"b\\c', 'IP_198.18.0.1', '02:0d:00:00:00:01'),
  );
  const opt = fc.option(text, { nil: null });
  const common = {
    time: fc.oneof(fc.integer({ min: -1e13, max: 3e14 }), fc.double()),
    modem: fc.boolean(),
    chaddr: opt,
    xid: fc.option(fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer()), { nil: null }),
    transaction: fc.constantFrom('initial' as const, 'extension' as const, 'ack' as const, 'release' as const, 'decline' as const, 'expiry' as const),
  };
  const lease = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.double());
  const logon = fc.record({ kind: fc.constantFrom('logon' as const, 'extend' as const), subscriber: text, ip: opt, leaseSeconds: lease, expiresAt: fc.option(fc.integer(), { nil: null }), package: opt, ...common });
  const logout = fc.record({
    kind: fc.constantFrom('logout' as const, 'auto-logout' as const),
    subscriber: text,
    ip: text,
    reason: fc.constantFrom('release' as const, 'decline' as const, 'reassigned' as const, 'expired' as const),
    ...common,
  });
  const rejected = fc.record({ kind: fc.constant('rejected' as const), subscriber: opt, ip: opt, reason: text, leaseSeconds: fc.option(lease, { nil: null }), ...common });

  it('writes JSON.stringify(toEvent(op)) + newline per event, for every kind of event and any text', { timeout: 30_000 }, () => {
    const buf = new EventBuffer();
    fc.assert(
      fc.property(fc.array(fc.oneof(logon, logout, rejected), { maxLength: 8 }), (ops) => {
        for (const op of ops) buf.add(op);
        expect(buf.count).toBe(ops.length);
        expect(buf.take()).toBe(ops.map((op) => JSON.stringify(toEvent(op)) + '\n').join(''));
        expect(buf.count).toBe(0);
        expect(buf.take()).toBe('');
      }),
      { numRuns: 5000 },
    );
  });

  it('takeParts: the same text in parts of whole lines, each within the limit unless one line is longer', () => {
    const buf = new EventBuffer();
    fc.assert(
      fc.property(fc.array(fc.oneof(logon, logout, rejected), { maxLength: 12, size: 'max' }), fc.integer({ min: 1, max: 2000 }), (ops, max) => {
        for (const op of ops) buf.add(op);
        const parts = buf.takeParts(max);
        expect(parts.join('')).toBe(ops.map((op) => JSON.stringify(toEvent(op)) + '\n').join(''));
        for (const p of parts) {
          expect(p.endsWith('\n')).toBe(true);
          if (Buffer.byteLength(p) > max) expect(p.indexOf('\n')).toBe(p.length - 1);
        }
        expect(buf.count).toBe(0);
        expect(buf.takeParts(max)).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it('grows past its first buffer without losing bytes', () => {
    const buf = new EventBuffer();
    const long = 'x'.repeat(70_000);
    const ops = [
      { kind: 'rejected' as const, reason: long, subscriber: null, ip: null, leaseSeconds: null, modem: false, time: T0, chaddr: null, xid: null, transaction: 'ack' as const },
      { kind: 'rejected' as const, reason: 'é'.repeat(30_000), subscriber: 'ü', ip: null, leaseSeconds: 4294967295, modem: true, time: T0, chaddr: null, xid: 0, transaction: 'ack' as const },
    ];
    let want = '';
    for (let i = 0; i < 200; i++) {
      for (const op of ops) {
        buf.add(op);
        want += JSON.stringify(toEvent(op)) + '\n';
      }
    }
    expect(buf.take()).toBe(want);
  });
});
