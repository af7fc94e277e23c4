/** Builders for LEG tests: transactions, a state view over plain maps, configs. */
import type { LegTransaction } from '../../agent/leg/transaction.ts';
import type { IpMapping, StateView, SubscriberRecord } from '../../agent/leg/state.ts';
import { parseConfig, type LegConfig, type LegConfigInput } from '../../agent/leg/config.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { parseMac } from '../../agent/util/bytes.ts';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const CPE = 'aa:bb:cc:00:00:01';
export const MODEM = '00:11:22:33:44:55';
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export function cfg(input: LegConfigInput = {}): LegConfig {
  return parseConfig(input);
}

export function lease(seconds: number): Uint8Array {
  const d = new Uint8Array(4);
  new DataView(d.buffer).setUint32(0, seconds >>> 0);
  return d;
}

export interface TxSpec {
  type?: number;
  time?: number;
  xid?: number;
  chaddr?: string;
  ciaddr?: string;
  yiaddr?: string;
  lease?: number | null;
  opts?: Record<string, Uint8Array>;
  remoteId?: string;
  releasedIp?: string;
  renewing?: boolean | undefined;
}

/** An ACK (default) as the transaction normalizer would produce it. */
export function tx(s: TxSpec = {}): LegTransaction {
  const options = new Map<string, Uint8Array>(Object.entries(s.opts ?? {}));
  if (s.remoteId) options.set('82.2', parseMac(s.remoteId));
  const ciaddr = s.ciaddr ?? '0.0.0.0';
  const t: LegTransaction = {
    time: s.time ?? T0,
    messageType: s.type ?? MessageType.ACK,
    xid: s.xid ?? 0x1234,
    chaddr: s.chaddr ?? CPE,
    ciaddr,
    yiaddr: s.yiaddr ?? '198.18.80.10',
    renewing: 'renewing' in s ? s.renewing : ciaddr !== '0.0.0.0',
    options,
  };
  if (s.lease !== null) t.leaseSeconds = s.lease ?? 600;
  if (s.releasedIp !== undefined) t.releasedIp = s.releasedIp;
  return t;
}

export function mapping(m: Partial<IpMapping> & { ip: string; subscriber: string }): IpMapping {
  return {
    chaddr: CPE,
    xid: 0x1234,
    leaseSeconds: 600,
    expiresAt: T0 + 600_000,
    updatedAt: T0,
    active: true,
    endReason: null,
    ...m,
  };
}

export function subscriberRec(id: string, s: Partial<SubscriberRecord> = {}): SubscriberRecord {
  return { id, package: null, modem: false, lastXid: 0, lastChaddr: '', updatedAt: T0, createdAt: T0, ...s };
}

export function view(maps: IpMapping[] = [], subs: SubscriberRecord[] = []): StateView {
  const m = new Map(maps.map((x) => [x.ip, x]));
  const s = new Map(subs.map((x) => [x.id, x]));
  return {
    mapping: (ip) => m.get(ip),
    subscriber: (id) => s.get(id),
    modemCandidate: (chaddr) => s.get(chaddr),
    mappingByAck: (chaddr, xid) => maps.find((x) => x.active && x.chaddr === chaddr && x.xid === xid),
  };
}
