/**
 * JSON-friendly and one-line views of decoded DHCP packets, as `decode pcap` prints them.
 * Pure. A malformed option never stops the summary: typed fields whose option does not
 * parse are left out, and `options` shows it as `{ malformed, error }`.
 */
import type { DhcpMessage } from '../dhcp/message.ts';
import type { DhcpPacket } from './dhcp.ts';
import { messageTypeName, Opt } from '../dhcp/message.ts';
import { describeOption, leaseSeconds, messageType, relayAgent, vendorClass, type JsonValue } from '../dhcp/options.ts';
import { macToString, toHex } from '../util/bytes.ts';

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

export function messageTypeLabel(msg: DhcpMessage): string {
  const t = safe(() => messageType(msg));
  return t === undefined ? 'BOOTP' : messageTypeName(t);
}

export interface MessageSummary {
  messageType: string;
  op: number;
  xid: number;
  secs: number;
  flags: number;
  hops: number;
  chaddr: string;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  vendorClass?: string;
  leaseSeconds?: number;
  relayAgent?: { circuitId?: string; remoteId?: string; subscriberId?: string };
  options: Record<string, JsonValue>;
}

export function summarizeMessage(msg: DhcpMessage): MessageSummary {
  const s: MessageSummary = {
    messageType: messageTypeLabel(msg),
    op: msg.op,
    xid: msg.xid,
    secs: msg.secs,
    flags: msg.flags,
    hops: msg.hops,
    chaddr: macToString(msg.chaddr, Math.min(msg.hlen, 16)),
    ciaddr: msg.ciaddr,
    yiaddr: msg.yiaddr,
    siaddr: msg.siaddr,
    giaddr: msg.giaddr,
    options: {},
  };
  const vc = safe(() => vendorClass(msg));
  if (vc !== undefined) s.vendorClass = vc;
  const lease = safe(() => leaseSeconds(msg));
  if (lease !== undefined) s.leaseSeconds = lease;
  const ra = safe(() => relayAgent(msg));
  if (ra) {
    s.relayAgent = {};
    if (ra.circuitId) s.relayAgent.circuitId = toHex(ra.circuitId);
    if (ra.remoteId) s.relayAgent.remoteId = toHex(ra.remoteId);
    if (ra.subscriberId) s.relayAgent.subscriberId = toHex(ra.subscriberId);
  }
  for (const o of msg.options) s.options[String(o.code)] = describeOption(o.code, o.data);
  return s;
}

export interface PacketJson extends Partial<MessageSummary> {
  frame: number;
  time: string | null;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  error?: { code: string; message: string; offset: number | null };
}

function isoTime(ms: number): string | null {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** One `decode pcap --json` line. */
export function packetToJson(p: DhcpPacket): PacketJson {
  const head = { frame: p.frame, time: isoTime(p.time), srcIp: p.srcIp, dstIp: p.dstIp, srcPort: p.srcPort, dstPort: p.dstPort };
  if (p.message) return { ...head, ...summarizeMessage(p.message) };
  const e = p.error;
  const offset = e?.details['offset'];
  return { ...head, error: { code: e?.code ?? 'DHCP_DECODE_FAILED', message: e?.message ?? 'not decoded', offset: typeof offset === 'number' ? offset : null } };
}

/** One readable line per packet. */
export function packetToLine(p: DhcpPacket): string {
  const head = `${isoTime(p.time) ?? '-'} ${p.srcIp}:${p.srcPort} > ${p.dstIp}:${p.dstPort}`;
  if (!p.message) {
    const off = p.error?.details['offset'];
    return `${head} ERROR [${p.error?.code ?? 'DHCP_DECODE_FAILED'}] ${p.error?.message ?? ''}${typeof off === 'number' ? ` (offset ${off})` : ''}`;
  }
  const s = summarizeMessage(p.message);
  const parts = [head, s.messageType.padEnd(11), `xid=0x${s.xid.toString(16).padStart(8, '0')}`, `chaddr=${s.chaddr}`];
  if (s.ciaddr !== '0.0.0.0') parts.push(`ciaddr=${s.ciaddr}`);
  if (s.yiaddr !== '0.0.0.0') parts.push(`yiaddr=${s.yiaddr}`);
  if (s.giaddr !== '0.0.0.0') parts.push(`giaddr=${s.giaddr}`);
  if (s.leaseSeconds !== undefined) parts.push(`lease=${s.leaseSeconds}s`);
  if (s.vendorClass !== undefined) parts.push(`vendor-class=${JSON.stringify(s.vendorClass)}`);
  if (s.relayAgent) {
    const r = s.relayAgent;
    parts.push(`opt82=[${[r.circuitId && `circuit=${r.circuitId}`, r.remoteId && `remote=${r.remoteId}`, r.subscriberId && `subscriber=${r.subscriberId}`].filter(Boolean).join(' ')}]`);
  }
  const id = p.message.options.find((o) => o.code === Opt.SERVER_ID);
  const sid = id ? describeOption(Opt.SERVER_ID, id.data) : undefined;
  if (sid !== undefined) parts.push(`server-id=${typeof sid === 'string' ? sid : 'malformed'}`);
  return parts.join(' ');
}
