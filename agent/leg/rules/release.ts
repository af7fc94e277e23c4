/**
 * Release rule (seeds/003 "DHCP release transaction"): a RELEASE of a CPE IP logs that IP
 * out. The released address is ciaddr (RFC 2131 §4.4.6). Rejected: a RELEASE without
 * ciaddr, an IP not logged on, or a RELEASE from a client other than the lease holder (a
 * server ignores those too). In cable mode a RELEASE from a modem (chaddr is a known
 * subscriber: modem IPs are never mapped) is ignored. Pure.
 */
import type { LegConfig } from '../config.ts';
import type { LegTransaction } from '../transaction.ts';
import type { Op, StateView } from '../state.ts';
import { isDuplicateRelease } from './duplicate.ts';

export function releaseRule(tx: LegTransaction, view: StateView, cfg: LegConfig): Op[] {
  const base = { time: tx.time, chaddr: tx.chaddr, xid: tx.xid, transaction: 'release' as const, leaseSeconds: null, modem: false };
  const ip = tx.releasedIp;
  if (ip === undefined) return [{ kind: 'rejected', reason: 'release-without-ciaddr', subscriber: null, ip: null, ...base }];
  const m = view.mapping(ip);
  if (isDuplicateRelease(m, tx, cfg.duplicateWindowSeconds * 1000)) return [{ kind: 'duplicate', reason: 'RELEASE', time: tx.time }];
  if (!m || !m.active) {
    if (cfg.cable && view.subscriber(tx.chaddr) !== undefined) return [{ kind: 'ignored', reason: 'modem-RELEASE', time: tx.time }];
    return [{ kind: 'rejected', reason: 'not-logged-on', subscriber: m?.subscriber ?? null, ip, ...base }];
  }
  if (m.chaddr !== tx.chaddr) return [{ kind: 'rejected', reason: 'release-client-mismatch', subscriber: m.subscriber, ip, ...base }];
  return [{ kind: 'logout', subscriber: m.subscriber, ip, modem: false, reason: 'release', time: tx.time, chaddr: tx.chaddr, xid: tx.xid, transaction: 'release' }];
}
