/**
 * The SCE DHCP sniffer RDR (tag 4042321986 = 0xF0F0F042) ↔ LegTransaction. Pure.
 * Fields, positional: 0 cpe_mac (string: 6 raw bytes, or text "aa:bb:cc:dd:ee:ff"),
 * 1 cmts_ip, 2 assigned_ip, 3 released_ip (uint32 IPv4), 4 transaction_id (uint32),
 * 5 message_type (DHCP option 53 value), 6..13 option_type_0..7 (DHCP option code, 0 = empty
 * slot), 14..21 option_value_0..7 (string: the option's raw data), 22 end_time (uint32,
 * seconds since the epoch). Integer fields accept any RDR integer type.
 * An RDR carries no ciaddr, so an ACK's kind (initial or extension) is unknown (`renewing`
 * undefined): the rules treat it by state (see rules/ack.ts).
 */
import { AgentError } from '../errors.ts';
import type { LegTransaction } from './transaction.ts';
import { addRelaySubOptions, leaseFromOption, serverIdOf } from './transaction.ts';
import type { RdrField, RdrRecord } from './rdr.ts';
import { RdrType } from './rdr.ts';
import { MessageType, Opt, ZERO_IP } from '../dhcp/message.ts';
import { macToString, numberToIpv4, parseMac } from '../util/bytes.ts';

export const DHCP_RDR_TAG = 4042321986;
export const DHCP_RDR_FIELDS = 23;
export const DHCP_RDR_OPTION_SLOTS = 8;

export interface DhcpRdr {
  cpeMac: string;
  cmtsIp: string;
  assignedIp: string;
  releasedIp: string;
  transactionId: number;
  messageType: number;
  options: { code: number; data: Uint8Array }[];
  /** seconds since the epoch */
  endTime: number;
}

function intField(f: RdrField | undefined, name: string): number {
  if (!f || typeof f.value !== 'number' || f.type < RdrType.INT8 || f.type > RdrType.UINT32) {
    throw new AgentError('RDR_DHCP_FIELD', `DHCP RDR field ${name} must be an integer`, { field: name });
  }
  return f.value;
}

function bytesField(f: RdrField | undefined, name: string): Uint8Array {
  if (!f || !(f.value instanceof Uint8Array)) throw new AgentError('RDR_DHCP_FIELD', `DHCP RDR field ${name} must be a string`, { field: name });
  return f.value;
}

function macField(f: RdrField | undefined): string {
  const b = bytesField(f, 'cpe_mac');
  if (b.length === 6) return macToString(b);
  try {
    return macToString(parseMac(Buffer.from(b).toString('latin1')));
  } catch {
    throw new AgentError('RDR_DHCP_FIELD', 'DHCP RDR field cpe_mac is not a MAC address', { field: 'cpe_mac', length: b.length });
  }
}

export function dhcpRdrFromRecord(r: RdrRecord): DhcpRdr {
  if (r.tag !== DHCP_RDR_TAG) throw new AgentError('RDR_NOT_DHCP', `RDR tag ${r.tag} is not the DHCP sniffer RDR`, { tag: r.tag });
  if (r.fields.length !== DHCP_RDR_FIELDS) {
    throw new AgentError('RDR_DHCP_FIELD', `DHCP RDR has ${r.fields.length} fields, expected ${DHCP_RDR_FIELDS}`, { fields: r.fields.length });
  }
  const f = r.fields;
  const options: { code: number; data: Uint8Array }[] = [];
  for (let i = 0; i < DHCP_RDR_OPTION_SLOTS; i++) {
    const code = intField(f[6 + i], `option_type_${i}`);
    const data = bytesField(f[14 + i], `option_value_${i}`);
    if (code !== 0) options.push({ code, data });
  }
  return {
    cpeMac: macField(f[0]),
    cmtsIp: numberToIpv4(intField(f[1], 'cmts_ip') >>> 0),
    assignedIp: numberToIpv4(intField(f[2], 'assigned_ip') >>> 0),
    releasedIp: numberToIpv4(intField(f[3], 'released_ip') >>> 0),
    transactionId: intField(f[4], 'transaction_id') >>> 0,
    messageType: intField(f[5], 'message_type'),
    options,
    endTime: intField(f[22], 'end_time') >>> 0,
  };
}

function ipToU32(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((((p[0] ?? 0) << 24) | ((p[1] ?? 0) << 16) | ((p[2] ?? 0) << 8) | (p[3] ?? 0)) >>> 0);
}

/** Builds the RDR an SCE would send (tests, benches, the lab's RDR peer). */
export function dhcpRdrToRecord(d: DhcpRdr): RdrRecord {
  if (d.options.length > DHCP_RDR_OPTION_SLOTS) throw new AgentError('RDR_ENCODE_INVALID', `at most ${DHCP_RDR_OPTION_SLOTS} options`);
  const u32 = (v: number): RdrField => ({ type: RdrType.UINT32, value: v >>> 0 });
  const types: RdrField[] = [];
  const values: RdrField[] = [];
  for (let i = 0; i < DHCP_RDR_OPTION_SLOTS; i++) {
    const o = d.options[i];
    types.push({ type: RdrType.UINT8, value: o ? o.code : 0 });
    values.push({ type: RdrType.STRING, value: o ? o.data : new Uint8Array(0) });
  }
  return {
    ppc: 0,
    src: 0,
    dst: 0,
    srcPort: 0,
    dstPort: 0,
    flowContextId: 0,
    tag: DHCP_RDR_TAG,
    fields: [
      { type: RdrType.STRING, value: parseMac(d.cpeMac) },
      u32(ipToU32(d.cmtsIp)),
      u32(ipToU32(d.assignedIp)),
      u32(ipToU32(d.releasedIp)),
      u32(d.transactionId),
      { type: RdrType.UINT8, value: d.messageType },
      ...types,
      ...values,
      u32(d.endTime),
    ],
  };
}

/** `now` (ms) is used when the record has no end_time. */
export function fromDhcpRdr(d: DhcpRdr, now: number): LegTransaction {
  const options = new Map<string, Uint8Array>();
  let relayError: string | undefined;
  for (const o of d.options) {
    const k = String(o.code);
    if (options.has(k)) continue;
    options.set(k, o.data);
    if (o.code === Opt.RELAY_AGENT) relayError = addRelaySubOptions(options, o.data);
  }
  const tx: LegTransaction = {
    time: d.endTime > 0 ? d.endTime * 1000 : now,
    messageType: d.messageType,
    xid: d.transactionId,
    chaddr: d.cpeMac,
    ciaddr: ZERO_IP,
    yiaddr: d.assignedIp,
    renewing: undefined,
    options,
    // the server identifier when the SCE reported option 54 (trust: rules/trust.ts)
    serverId: serverIdOf(options.get(String(Opt.SERVER_ID))),
  };
  const lease = leaseFromOption(options.get(String(Opt.LEASE_TIME)));
  if (lease !== undefined) tx.leaseSeconds = lease;
  if (relayError !== undefined) tx.relayError = relayError;
  if ((d.messageType === MessageType.RELEASE || d.messageType === MessageType.DECLINE) && d.releasedIp !== ZERO_IP) tx.releasedIp = d.releasedIp;
  return tx;
}
