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
import { AgentError } from '../errors.ts';
import type { Option43Offer } from '../option43/types.ts';
import { decodeOption43 } from '../option43/codec.ts';
import { profileEntryForClass } from '../option43/registry.ts';

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
  /** option 43 decoded with the profile of a registered vendor class (the message's own, or its request's) */
  option43?: Option43Offer;
  option43Error?: { code: string; message: string };
  options: Record<string, JsonValue>;
}

/**
 * `vendorClassHint`: the option 60 of the request this message answers (servers do not echo
 * it), so option 43 of a CTS OFFER/ACK can be decoded with the right profile.
 */
export function summarizeMessage(msg: DhcpMessage, vendorClassHint?: string): MessageSummary {
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
  const o43 = msg.options.find((o) => o.code === Opt.VENDOR_SPECIFIC);
  const entry = o43 ? profileEntryForClass(vc ?? vendorClassHint ?? '') : undefined;
  if (o43 && entry) {
    try {
      s.option43 = decodeOption43(entry.profile, o43.data);
    } catch (e) {
      s.option43Error = e instanceof AgentError ? { code: e.code, message: e.message } : { code: 'OPT43_DECODE_FAILED', message: String(e) };
    }
  }
  for (const o of msg.options) s.options[String(o.code)] = describeOption(o.code, o.data);
  return s;
}

/**
 * Remembers the vendor class (option 60) each client sent, by xid, so replies can be decoded
 * with the right option 43 profile. Bounded: the oldest entries are dropped first.
 */
export class VendorClassMemory {
  private readonly byXid = new Map<number, string>();
  private readonly limit: number;
  constructor(limit = 65536) {
    this.limit = limit;
  }
  /** Records the message's vendor class (if any) and returns the one to use for it. */
  see(msg: DhcpMessage): string | undefined {
    const vc = safe(() => vendorClass(msg));
    if (vc !== undefined) {
      this.byXid.delete(msg.xid);
      this.byXid.set(msg.xid, vc);
      if (this.byXid.size > this.limit) {
        const oldest = this.byXid.keys().next();
        if (!oldest.done) this.byXid.delete(oldest.value);
      }
      return vc;
    }
    return this.byXid.get(msg.xid);
  }
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
export function packetToJson(p: DhcpPacket, vendorClassHint?: string): PacketJson {
  const head = { frame: p.frame, time: isoTime(p.time), srcIp: p.srcIp, dstIp: p.dstIp, srcPort: p.srcPort, dstPort: p.dstPort };
  if (p.message) return { ...head, ...summarizeMessage(p.message, vendorClassHint) };
  const e = p.error;
  const offset = e?.details['offset'];
  return { ...head, error: { code: e?.code ?? 'DHCP_DECODE_FAILED', message: e?.message ?? 'not decoded', offset: typeof offset === 'number' ? offset : null } };
}

/** One readable line per packet. */
export function packetToLine(p: DhcpPacket, vendorClassHint?: string): string {
  const head = `${isoTime(p.time) ?? '-'} ${p.srcIp}:${p.srcPort} > ${p.dstIp}:${p.dstPort}`;
  if (!p.message) {
    const off = p.error?.details['offset'];
    return `${head} ERROR [${p.error?.code ?? 'DHCP_DECODE_FAILED'}] ${p.error?.message ?? ''}${typeof off === 'number' ? ` (offset ${off})` : ''}`;
  }
  const s = summarizeMessage(p.message, vendorClassHint);
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
  if (s.option43) {
    const o = s.option43;
    const f = [o.protocol, o.server, o.softwareFile, o.urgent ? 'urgent' : undefined].filter((x) => x !== undefined).join(' ');
    parts.push(`opt43=[${f}]`);
  } else if (s.option43Error) parts.push(`opt43-error=${s.option43Error.code}`);
  return parts.join(' ');
}
