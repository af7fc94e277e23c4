import { describe, expect, it } from 'vitest';
import { leaseRule } from '../../../agent/leg/rules/lease-time.ts';
import { T0, tx } from '../helpers.ts';

describe('lease time from option 51', () => {
  it.each([
    ['present → expiry = time + lease', tx({ lease: 900 }), { ok: true, seconds: 900, expiresAt: T0 + 900_000 }],
    ['zero lease is a lease (expires at once)', tx({ lease: 0 }), { ok: true, seconds: 0, expiresAt: T0 }],
    ['0xffffffff → infinite (never expires)', tx({ lease: 0xffffffff }), { ok: true, seconds: 0xffffffff, expiresAt: null }],
    ['absent → no logon', tx({ lease: null }), { ok: false, reason: 'missing-lease-time' }],
  ])('%s', (_n, t, want) => {
    expect(leaseRule(t)).toEqual(want);
  });
  it('option 51 of the wrong length is a bad lease', () => {
    const t = tx({});
    t.leaseSeconds = NaN;
    expect(leaseRule(t)).toEqual({ ok: false, reason: 'bad-lease-time' });
  });
});
