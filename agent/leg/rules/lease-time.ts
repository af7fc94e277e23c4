/**
 * Lease time rule (seeds/003 "Lease time"): option 51 must hold the lease; without it no
 * logon is performed. 0xffffffff is an infinite lease: logged on, never auto-logged out.
 */
import type { LegTransaction } from '../transaction.ts';

export const INFINITE_LEASE = 0xffffffff;

export type LeaseResult = { ok: true; seconds: number; expiresAt: number | null } | { ok: false; reason: 'missing-lease-time' | 'bad-lease-time' };

export function leaseRule(tx: LegTransaction): LeaseResult {
  if (tx.leaseSeconds === undefined) return { ok: false, reason: 'missing-lease-time' };
  if (!Number.isFinite(tx.leaseSeconds)) return { ok: false, reason: 'bad-lease-time' };
  const seconds = tx.leaseSeconds;
  return { ok: true, seconds, expiresAt: seconds === INFINITE_LEASE ? null : tx.time + seconds * 1000 };
}
