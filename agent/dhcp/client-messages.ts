/**
 * The messages the client sends (DISCOVER, REQUEST in its three forms, DECLINE, RELEASE) and
 * the reading of replies into a Lease. Pure: DhcpMessage objects in and out; the codec turns
 * them into bytes.
 */
import type { ClientConfig } from './client-types.ts';
import type { Lease } from './lease.ts';
import { BOOTREPLY, BOOTREQUEST, BROADCAST_FLAG, MessageType, Opt, ZERO_IP, newMessage, type DhcpMessage, type DhcpOption } from './message.ts';
import { renewTimes } from './client-timers.ts';
import { getOption } from './options.ts';
import { decodeOption43ForClass } from '../option43/index.ts';
import { isAgentError } from '../errors.ts';
import { ipv4ToString, maskToPrefix, parseIpv4, toHex } from '../util/bytes.ts';

function opt(code: number, data: Uint8Array | number[]): DhcpOption {
  return { code, data: data instanceof Uint8Array ? data : Uint8Array.from(data) };
}

/** Raw option data (the codec's view); the typed readers below are lenient: a malformed option reads as absent. */
export function findOption(msg: DhcpMessage, code: number): Uint8Array | undefined {
  return getOption(msg, code);
}

export function messageTypeOf(msg: DhcpMessage): number | undefined {
  const d = findOption(msg, Opt.MESSAGE_TYPE);
  return d && d.length === 1 ? d[0] : undefined;
}

function ipOption(msg: DhcpMessage, code: number): string | undefined {
  const d = findOption(msg, code);
  return d && d.length === 4 ? ipv4ToString(d) : undefined;
}

function ipListOption(msg: DhcpMessage, code: number): string[] {
  const d = findOption(msg, code);
  if (!d || d.length === 0 || d.length % 4 !== 0) return [];
  const out: string[] = [];
  for (let i = 0; i < d.length; i += 4) out.push(ipv4ToString(d, i));
  return out;
}

function u32Option(msg: DhcpMessage, code: number): number | undefined {
  const d = findOption(msg, code);
  if (!d || d.length !== 4) return undefined;
  return new DataView(d.buffer, d.byteOffset, 4).getUint32(0);
}

export function serverIdOf(msg: DhcpMessage): string | undefined {
  return ipOption(msg, Opt.SERVER_ID);
}

export function leaseTimeOf(msg: DhcpMessage): number | undefined {
  return u32Option(msg, Opt.LEASE_TIME);
}

/** The server's text (option 56), for logs. */
export function serverMessageOf(msg: DhcpMessage): string | undefined {
  const d = findOption(msg, Opt.MESSAGE);
  return d ? Buffer.from(d).toString('latin1').replace(/[^\x20-\x7e]/g, '?').slice(0, 200) : undefined;
}

/** True when the reply is addressed to this client: BOOTREPLY, our chaddr. */
export function chaddrMatches(msg: DhcpMessage, mac: Uint8Array): boolean {
  if (msg.hlen !== mac.length) return false;
  for (let i = 0; i < mac.length; i++) if (msg.chaddr[i] !== mac[i]) return false;
  return true;
}

export function isReply(msg: DhcpMessage): boolean {
  return msg.op === BOOTREPLY;
}

interface BuildArgs {
  type: number;
  xid: number;
  secs: number;
  ciaddr?: string;
  broadcast: boolean;
  extra: DhcpOption[];
  /** DISCOVER/REQUEST carry the fingerprint and vendor class; DECLINE/RELEASE do not */
  identify: boolean;
}

function build(cfg: ClientConfig, a: BuildArgs): DhcpMessage {
  const chaddr = new Uint8Array(16);
  chaddr.set(cfg.mac);
  const options: DhcpOption[] = [opt(Opt.MESSAGE_TYPE, [a.type]), opt(Opt.CLIENT_ID, [1, ...cfg.mac])];
  options.push(...a.extra);
  if (a.identify) {
    const max = cfg.fingerprint.maxMessageSize;
    options.push(opt(Opt.MAX_MESSAGE_SIZE, [(max >> 8) & 255, max & 255]));
    options.push(opt(Opt.VENDOR_CLASS, new Uint8Array(Buffer.from(cfg.vendorClass, 'latin1'))));
    options.push(opt(Opt.PARAMETER_LIST, cfg.fingerprint.parameterRequestList));
  }
  return newMessage({
    op: BOOTREQUEST,
    hlen: cfg.mac.length,
    xid: a.xid >>> 0,
    secs: Math.max(0, Math.min(65535, a.secs)),
    flags: a.broadcast ? BROADCAST_FLAG : 0,
    ciaddr: a.ciaddr,
    chaddr,
    options,
  });
}

export function buildDiscover(cfg: ClientConfig, xid: number, secs: number): DhcpMessage {
  return build(cfg, { type: MessageType.DISCOVER, xid, secs, broadcast: true, extra: [], identify: true });
}

/** SELECTING → REQUESTING: broadcast, options 50 + 54, ciaddr 0. */
export function buildSelectingRequest(cfg: ClientConfig, xid: number, secs: number, address: string, serverId: string): DhcpMessage {
  return build(cfg, {
    type: MessageType.REQUEST,
    xid,
    secs,
    broadcast: true,
    extra: [opt(Opt.REQUESTED_IP, parseIpv4(address)), opt(Opt.SERVER_ID, parseIpv4(serverId))],
    identify: true,
  });
}

/** INIT-REBOOT: broadcast, option 50, no server id, ciaddr 0 (RFC 2131 §4.3.2). */
export function buildRebootRequest(cfg: ClientConfig, xid: number, secs: number, address: string): DhcpMessage {
  return build(cfg, { type: MessageType.REQUEST, xid, secs, broadcast: true, extra: [opt(Opt.REQUESTED_IP, parseIpv4(address))], identify: true });
}

/** RENEWING (unicast) / REBINDING (broadcast): ciaddr set, neither 50 nor 54. */
export function buildRenewRequest(cfg: ClientConfig, xid: number, secs: number, address: string): DhcpMessage {
  return build(cfg, { type: MessageType.REQUEST, xid, secs, ciaddr: address, broadcast: true, extra: [], identify: true });
}

export function buildDecline(cfg: ClientConfig, xid: number, address: string, serverId: string): DhcpMessage {
  return build(cfg, {
    type: MessageType.DECLINE,
    xid,
    secs: 0,
    broadcast: false,
    extra: [opt(Opt.REQUESTED_IP, parseIpv4(address)), opt(Opt.SERVER_ID, parseIpv4(serverId))],
    identify: false,
  });
}

export function buildRelease(cfg: ClientConfig, xid: number, address: string, serverId: string): DhcpMessage {
  return build(cfg, { type: MessageType.RELEASE, xid, secs: 0, ciaddr: address, broadcast: false, extra: [opt(Opt.SERVER_ID, parseIpv4(serverId))], identify: false });
}

/** Classful prefix when the server sent no subnet mask (what dhclient and udhcpc assume). */
function classfulPrefix(address: string): number {
  const first = parseIpv4(address)[0] ?? 0;
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

export type AckReading = { ok: true; lease: Lease } | { ok: false; reason: string };

/**
 * Reads an ACK into a Lease, or says why it cannot be used. `fallbackServerId` covers an ACK
 * without option 54 during renewal (the server we unicast to).
 */
export function leaseFromAck(cfg: ClientConfig, msg: DhcpMessage, now: number, fallbackServerId?: string): AckReading {
  const address = msg.yiaddr;
  if (address === ZERO_IP) return { ok: false, reason: 'ACK with yiaddr 0.0.0.0' };
  const first = parseIpv4(address)[0] ?? 0;
  if (first === 0 || first === 127 || first >= 224) return { ok: false, reason: `ACK with unusable yiaddr ${address}` };
  const leaseSeconds = leaseTimeOf(msg);
  if (leaseSeconds === undefined) return { ok: false, reason: 'ACK without lease time (option 51), RFC 2131 §4.3.1 requires it' };
  if (leaseSeconds === 0) return { ok: false, reason: 'ACK with lease time 0' };
  const serverId = serverIdOf(msg) ?? fallbackServerId;
  if (serverId === undefined) return { ok: false, reason: 'ACK without server identifier (option 54)' };

  let prefixLength = classfulPrefix(address);
  const mask = ipOption(msg, Opt.SUBNET_MASK);
  if (mask !== undefined) {
    try {
      prefixLength = maskToPrefix(mask);
    } catch {
      return { ok: false, reason: `ACK with non-contiguous subnet mask ${mask}` };
    }
  }
  const { renewSeconds, rebindSeconds } = renewTimes(leaseSeconds, u32Option(msg, Opt.RENEWAL_T1), u32Option(msg, Opt.REBINDING_T2));
  const lease: Lease = {
    iface: cfg.iface,
    address,
    prefixLength,
    routers: ipListOption(msg, Opt.ROUTER),
    dns: ipListOption(msg, Opt.DNS),
    serverId,
    leaseSeconds,
    renewSeconds,
    rebindSeconds,
    acquiredAt: now,
    vendorClass: cfg.vendorClass,
  };
  const domain = findOption(msg, Opt.DOMAIN_NAME);
  if (domain && domain.length > 0) {
    const text = Buffer.from(domain).toString('latin1').replace(/\0+$/, '');
    if (/^[A-Za-z0-9.-]+$/.test(text)) lease.domain = text;
  }
  const o43 = findOption(msg, Opt.VENDOR_SPECIFIC);
  if (o43 !== undefined) {
    lease.option43Hex = toHex(o43);
    try {
      lease.option43 = decodeOption43ForClass(cfg.vendorClass, o43);
    } catch (e) {
      lease.option43Error = isAgentError(e)
        ? { code: e.code, message: e.message }
        : { code: 'OPT43_DECODE_FAILED', message: e instanceof Error ? e.message : String(e) };
    }
  }
  return { ok: true, lease };
}
