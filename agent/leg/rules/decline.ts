/**
 * Decline rule (a decision of this LEG; seeds/003 is silent). A DECLINE means the client
 * found the address it was just given already in use (RFC 2131 §4.4.1) and will not use
 * it. Leaving that IP logged on to the subscriber would charge the traffic of whoever
 * really uses the address to the wrong subscriber, so: the IP the ACK logged on for this
 * client is logged out (reason "decline"). The IP is option 50; clients that omit it (seen
 * in the wild) are matched by the ACK with the same chaddr and xid. A DECLINE that matches
 * nothing we logged on changes nothing: ignored (counted). `declineLogsOut: false`
 * ignores every DECLINE. Pure.
 */
import type { LegConfig } from '../config.ts';
import type { LegTransaction } from '../transaction.ts';
import type { Op, StateView } from '../state.ts';

export function declineRule(tx: LegTransaction, view: StateView, cfg: LegConfig): Op[] {
  if (!cfg.declineLogsOut) return [{ kind: 'ignored', reason: 'DECLINE', time: tx.time }];
  const m = tx.releasedIp !== undefined ? view.mapping(tx.releasedIp) : view.mappingByAck(tx.chaddr, tx.xid);
  if (!m || !m.active || m.chaddr !== tx.chaddr) return [{ kind: 'ignored', reason: 'DECLINE-not-logged-on', time: tx.time }];
  return [{ kind: 'logout', subscriber: m.subscriber, ip: m.ip, modem: false, reason: 'decline', time: tx.time, chaddr: tx.chaddr, xid: tx.xid, transaction: 'decline' }];
}
