/**
 * Trust rule: whose word the LEG takes (docs/leg.md "Trust"). Pure.
 *
 * - An ACK is acted on only when its server is trusted: the server identifier (option 54),
 *   or the IP source address when option 54 is absent. A rogue or misconfigured server on the
 *   mirrored segment must not move subscribers' addresses.
 * - RELEASE and DECLINE are client messages: acted on only when they reach the server side
 *   the LEG trusts: sent (by the client, or forwarded by a relay) to a trusted server's
 *   address, or broadcast naming a trusted server in option 54. A server identifier naming
 *   another server is refused in any case (the trusted server ignores such a message too).
 * - A transaction with neither address (an RDR without option 54) is vouched for by the
 *   SCE that sent it: the RDR listener only accepts allowed peers.
 *
 * An empty trust list trusts every server (the LEG then warns once at start).
 */
import type { LegConfig } from '../config.ts';
import type { LegTransaction } from '../transaction.ts';
import type { UntrustedOp } from '../state.ts';
import { ipv4ToNumber, numberToIpv4 } from '../../util/bytes.ts';

const BROADCAST = 0xffffffff;
const sets = new WeakMap<LegConfig, ReadonlySet<number>>();
let lastCfg: LegConfig | undefined;
let lastSet: ReadonlySet<number> = new Set();

/** `cfg.trustedServers` as numbers (built once per configuration; asked once per transaction). */
export function trustedSet(cfg: LegConfig): ReadonlySet<number> {
  if (cfg === lastCfg) return lastSet;
  let s = sets.get(cfg);
  if (!s) sets.set(cfg, (s = new Set(cfg.trustedServers.map(ipv4ToNumber))));
  lastCfg = cfg;
  lastSet = s;
  return s;
}

/** undefined = trusted; else the operation that counts the refusal. */
export function trustRule(tx: LegTransaction, kind: 'ack' | 'release' | 'decline', trusted: ReadonlySet<number>): UntrustedOp | undefined {
  if (trusted.size === 0) return undefined;
  if (kind === 'ack') {
    const server = tx.serverId ?? tx.srcIp;
    if (server === undefined || trusted.has(server)) return undefined;
    return { kind: 'untrusted', reason: 'server', peer: numberToIpv4(server), time: tx.time, chaddr: tx.chaddr, xid: tx.xid };
  }
  const named = tx.serverId;
  if (named !== undefined && !trusted.has(named)) return refuse(tx, kind, named);
  const dst = tx.dstIp;
  if (dst === undefined || trusted.has(dst) || (dst === BROADCAST && named !== undefined)) return undefined;
  return refuse(tx, kind, dst);
}

function refuse(tx: LegTransaction, kind: 'release' | 'decline', to: number): UntrustedOp {
  return { kind: 'untrusted', reason: kind, peer: numberToIpv4(to), time: tx.time, chaddr: tx.chaddr, xid: tx.xid };
}
