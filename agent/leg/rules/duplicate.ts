/**
 * Idempotency rule. A DHCP transaction may be seen twice: a mirror port shows both legs of
 * a relayed exchange, a client retransmits its REQUEST and the server answers again with
 * the same xid. Such a repeat must not produce a second logon. An ACK is a duplicate of the
 * one already applied to the IP when it has the same xid and client, arrives
 * within `windowMs` and agrees on the expiry within max(1 s, lease/10) (a renewal moves the
 * expiry by about half a lease, a repeat by seconds). Pure.
 */
import type { IpMapping, SubscriberRecord } from '../state.ts';

export function isDuplicateAck(
  prev: IpMapping | undefined,
  tx: { xid: number; chaddr: string; time: number },
  expiresAt: number | null,
  leaseSeconds: number,
  windowMs: number,
): boolean {
  if (!prev || !prev.active) return false;
  if (prev.xid !== tx.xid || prev.chaddr !== tx.chaddr) return false;
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
