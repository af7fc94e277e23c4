/**
 * Idempotency rule. A DHCP transaction may be seen twice: a mirror port shows both legs of
 * a relayed exchange, a client retransmits its REQUEST and the server answers again with
 * the same xid. Such a repeat must not produce a second logon. An ACK is a duplicate of the
 * one already applied to the IP when it has the same xid and client, arrives
 * within `windowMs` and agrees on the expiry within max(1 s, lease/10) (a renewal moves the
 * expiry by about half a lease, a repeat by seconds) and is of the same kind: busybox udhcpc
 * renews with the xid of its initial exchange, and a server may answer an early renewal
 * with the expiry unchanged (ISC dhcpd's dhcp-cache-threshold), so an ACK to a renewal
 * (ciaddr set) is never a repeat of the initial ACK (ciaddr 0). Pure.
 */
import type { IpMapping, SubscriberRecord } from '../state.ts';

export function isDuplicateAck(
  prev: IpMapping | undefined,
  tx: { xid: number; chaddr: string; time: number; renewing?: boolean | undefined },
  expiresAt: number | null,
  leaseSeconds: number,
  windowMs: number,
): boolean {
  if (!prev || !prev.active) return false;
  if (prev.xid !== tx.xid || prev.chaddr !== tx.chaddr) return false;
  if (tx.renewing !== undefined && prev.renewing !== undefined && tx.renewing !== prev.renewing) return false;
  if (Math.abs(tx.time - prev.updatedAt) > windowMs) return false;
  if (prev.expiresAt === null || expiresAt === null) return prev.expiresAt === expiresAt;
  return Math.abs(expiresAt - prev.expiresAt) <= Math.max(1000, leaseSeconds * 100);
}

/** A modem ACK repeats the last one applied to the subscriber (modem transactions add no IP). */
export function isDuplicateModemAck(prev: SubscriberRecord | undefined, tx: { xid: number; chaddr: string; time: number }, windowMs: number): boolean {
  if (!prev || !prev.modem || prev.id !== tx.chaddr) return false;
  return prev.lastXid === tx.xid && prev.lastChaddr === tx.chaddr && Math.abs(tx.time - prev.updatedAt) <= windowMs;
}

/** A RELEASE repeats the one that already logged the IP out. */
export function isDuplicateRelease(prev: IpMapping | undefined, tx: { xid: number; chaddr: string; time: number }, windowMs: number): boolean {
  if (!prev || prev.active || prev.endReason !== 'release') return false;
  return prev.xid === tx.xid && prev.chaddr === tx.chaddr && Math.abs(tx.time - prev.updatedAt) <= windowMs;
}
