import { describe, expect, it } from 'vitest';
import { autoLogout, isExpired } from '../../../agent/leg/rules/expiry.ts';
import { T0, mapping } from '../helpers.ts';

describe('auto-logout on lease expiry', () => {
  const m = mapping({ ip: '198.18.80.10', subscriber: 's', expiresAt: T0 + 1000 });
  it.each([
    ['before expiry', m, T0 + 999, false],
    ['exactly at expiry: not yet (a renewal now still extends)', m, T0 + 1000, false],
    ['after expiry', m, T0 + 1001, true],
    ['infinite lease never expires', { ...m, expiresAt: null }, T0 + 1e12, false],
    ['already logged out', { ...m, active: false }, T0 + 2000, false],
  ])('%s', (_n, x, now, want) => {
    expect(isExpired(x, now)).toBe(want);
  });
  it('the auto-logout happens at the expiry time', () => {
    expect(autoLogout(m)).toMatchObject({ kind: 'auto-logout', subscriber: 's', ip: '198.18.80.10', reason: 'expired', time: T0 + 1000, transaction: 'expiry' });
  });
});
