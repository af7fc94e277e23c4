/**
 * Auto-logout rule (seeds/003 note): when the SM performs auto logouts, an IP mapping whose
 * lease expired is logged out at its expiry time. A lease that ends exactly at `now` has
 * not yet expired (a renewal at that instant still extends it). Pure.
 */
import type { IpMapping, LogoutOp } from '../state.ts';

export function isExpired(m: IpMapping, now: number): boolean {
  return m.active && m.expiresAt !== null && m.expiresAt < now;
}

export function autoLogout(m: IpMapping): LogoutOp {
  return {
    kind: 'auto-logout',
    subscriber: m.subscriber,
    ip: m.ip,
    modem: false,
    reason: 'expired',
    time: m.expiresAt ?? m.updatedAt,
    chaddr: m.chaddr,
    xid: m.xid,
    transaction: 'expiry',
  };
}
