/**
 * ACK rule: initial logon and lease extension (seeds/003). Pure: (transaction, state view,
 * config) → operations.
 *
 * - lease time required (option 51) → else rejected;
 * - subscriber from the ID rule; "lookup" (extension without option 82 in cable mode, or
 *   step c of the chain) uses the subscriber the IP is logged on to, if any;
 * - modem transaction (cable, remote-ID = chaddr): logon of the subscriber, no IP mapping;
 * - CPE transaction: the IP is mapped to the subscriber with its expiry; an IP held by
 *   another subscriber is logged out from it first ("reassigned");
 * - event "extend" when an extension (or an RDR ACK) refreshes a mapping the subscriber
 *   already holds, "logon" otherwise (initial logon, or an extension the SM had no mapping for).
 */
import type { LegConfig } from '../config.ts';
import type { LegTransaction } from '../transaction.ts';
import type { Op, StateView, TransactionName } from '../state.ts';
import { leaseRule } from './lease-time.ts';
import { resolveSubscriberId } from '../subscriber-id.ts';
import { choosePackage, packageFromOptions } from '../policy.ts';
import { isDuplicateAck, isDuplicateModemAck } from './duplicate.ts';

// (a function of its own: a closure here would cost an allocation per ACK)
function reject(tx: LegTransaction, transaction: TransactionName, leaseSeconds: number | null, reason: string, subscriber: string | null = null, modem = false): Op[] {
  return [{ kind: 'rejected', reason, subscriber, ip: tx.yiaddr, modem, leaseSeconds, time: tx.time, chaddr: tx.chaddr, xid: tx.xid, transaction }];
}

export function ackRule(tx: LegTransaction, kind: 'initial' | 'extension' | 'ack', view: StateView, cfg: LegConfig): Op[] {
  const transaction: TransactionName = kind;
  const ip = tx.yiaddr;
  const lease = leaseRule(tx);
  const prev = view.mapping(ip);
  const windowMs = cfg.duplicateWindowSeconds * 1000;
  // A repeat of the transaction already applied is recognised before anything else: the
  // client-side leg of a relayed ACK has no option 82 but is the same logon.
  if (lease.ok && isDuplicateAck(prev, tx, lease.expiresAt, lease.seconds, windowMs)) return [{ kind: 'duplicate', reason: 'ACK', time: tx.time }];
  if (cfg.cable && isDuplicateModemAck(view.modemCandidate(tx.chaddr, tx.xid), tx, windowMs)) return [{ kind: 'duplicate', reason: 'ACK', time: tx.time }];
  const sid = resolveSubscriberId(tx, cfg);
  const leaseSeconds = lease.ok ? lease.seconds : null;
  if (sid.kind === 'reject') return reject(tx, kind, leaseSeconds, sid.reason);
  let subscriber: string;
  let modem = false;
  if (sid.kind === 'lookup') {
    if (!prev || !prev.active) return reject(tx, kind, leaseSeconds, sid.via === 'no-option-82' ? 'no-option-82-and-ip-unknown' : 'no-subscriber-id-and-ip-unknown');
    subscriber = prev.subscriber;
  } else {
    subscriber = sid.id;
    modem = sid.modem;
  }
  if (!lease.ok) return reject(tx, kind, leaseSeconds, lease.reason, subscriber, modem);
  const known = view.subscriber(subscriber);
  const pkg = choosePackage(packageFromOptions(tx, cfg.policy), known, cfg.policy.defaultPackage);
  const held = !modem && prev !== undefined && prev.active;
  const extending = kind !== 'initial' && (modem ? known !== undefined : held && prev.subscriber === subscriber);
  const op: Op = {
    kind: extending ? 'extend' : 'logon',
    subscriber,
    ip,
    modem,
    leaseSeconds: lease.seconds,
    expiresAt: lease.expiresAt,
    package: pkg,
    time: tx.time,
    chaddr: tx.chaddr,
    xid: tx.xid,
    transaction,
  };
  if (held && prev.subscriber !== subscriber) {
    return [{ kind: 'logout', subscriber: prev.subscriber, ip, modem: false, reason: 'reassigned', time: tx.time, chaddr: tx.chaddr, xid: tx.xid, transaction }, op];
  }
  return [op];
}
