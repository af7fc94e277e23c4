/**
 * Subscriber ID rule (seeds/003 "Subscriber ID"). Pure.
 *
 * Cable (`cable: true`): the subscriber is the modem MAC carried in option 82 remote-ID
 * (sub-option 2). A remote-ID equal to chaddr marks a modem transaction. Without option 82
 * an initial logon is impossible; an extension (or an RDR ACK, whose kind is unknown) falls
 * back to the database (look the IP up).
 *
 * Other networks, the chain: a. the configured option if present; b. else `IP_a.b.c.d` when
 * fallback is enabled; c. else extend by IP alone (works only if the IP is in the database).
 */
import type { LegTransaction } from './transaction.ts';
import type { LegConfig } from './config.ts';
import { fallbackId, optionText, remoteIdMac } from './format.ts';

export type SubscriberIdResult =
  | { kind: 'id'; id: string; modem: boolean; via: 'remote-id' | 'option' | 'fallback-ip' }
  | { kind: 'lookup'; via: 'no-option-82' | 'no-subscriber-option' }
  | { kind: 'reject'; reason: 'missing-option-82' | 'remote-id-not-mac' | 'bad-option-82' };

export function resolveSubscriberId(tx: LegTransaction, cfg: Pick<LegConfig, 'cable' | 'subscriberOption' | 'fallbackToIp'>): SubscriberIdResult {
  if (cfg.cable) return cableSubscriberId(tx);
  return chainSubscriberId(tx, cfg.subscriberOption, cfg.fallbackToIp);
}

export function cableSubscriberId(tx: LegTransaction): SubscriberIdResult {
  const remote = tx.options.get('82.2');
  if (remote === undefined) {
    if (tx.relayError !== undefined && tx.renewing === false) return { kind: 'reject', reason: 'bad-option-82' };
    return tx.renewing === false ? { kind: 'reject', reason: 'missing-option-82' } : { kind: 'lookup', via: 'no-option-82' };
  }
  const mac = remoteIdMac(remote);
  if (mac === undefined) return { kind: 'reject', reason: 'remote-id-not-mac' };
  return { kind: 'id', id: mac, modem: mac === tx.chaddr, via: 'remote-id' };
}

export function chainSubscriberId(tx: LegTransaction, option: string | null, fallbackToIp: boolean): SubscriberIdResult {
  const v = option === null ? undefined : tx.options.get(option);
  if (v !== undefined && v.length > 0) return { kind: 'id', id: optionText(v), modem: false, via: 'option' };
  if (fallbackToIp) return { kind: 'id', id: fallbackId(tx.yiaddr), modem: false, via: 'fallback-ip' };
  return { kind: 'lookup', via: 'no-subscriber-option' };
}
