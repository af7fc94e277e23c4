/**
 * Typed views of single DHCP options (RFC 2132, RFC 3046, RFC 3925) over a DhcpMessage,
 * builders for the encoder side, and `describeOption`, a JSON-friendly rendering of any
 * option used by `decode pcap --json`. Pure.
 *
 * Getters return `undefined` when the option is absent and throw AgentError
 * `DHCP_BAD_OPTION` (details.code, details.length) when it is present but malformed.
 */
import type { DhcpMessage, DhcpOption } from './message.ts';
import { Opt, messageTypeName } from './message.ts';
import { AgentError } from '../errors.ts';
import { toHex } from '../util/bytes.ts';
import { decodeRelayAgent, type RelayAgentInfo } from './relay-agent.ts';

export type { RelayAgentInfo } from './relay-agent.ts';

// ------------------------------------------------------------- raw access

export function getOption(msg: DhcpMessage, code: number): Uint8Array | undefined {
  const list = msg.options;
  for (let i = 0; i < list.length; i++) {
    const o = list[i] as DhcpOption;
    if (o.code === code) return o.data;
  }
  return undefined;
}

/** Replaces the option in place (keeping its position) or appends it. */
export function setOption(msg: DhcpMessage, code: number, data: Uint8Array): void {
  if (!Number.isInteger(code) || code < 1 || code > 254 || code === Opt.OVERLOAD) {
    throw new AgentError('DHCP_ENCODE_INVALID', `cannot set option ${code}`, { code });
  }
  const i = msg.options.findIndex((o) => o.code === code);
  if (i >= 0) msg.options[i] = { code, data };
  else msg.options.push({ code, data });
}

export function removeOption(msg: DhcpMessage, code: number): void {
  const i = msg.options.findIndex((o) => o.code === code);
  if (i >= 0) msg.options.splice(i, 1);
}

// ---------------------------------------------------------- data parsers

function bad(code: number, data: Uint8Array, why: string): AgentError {
  return new AgentError('DHCP_BAD_OPTION', `option ${code}: ${why} (length ${data.length})`, { code, length: data.length });
}

export function parseU8(code: number, d: Uint8Array): number {
  if (d.length !== 1) throw bad(code, d, 'expected 1 byte');
  return d[0] as number;
}

export function parseU16(code: number, d: Uint8Array): number {
  if (d.length !== 2) throw bad(code, d, 'expected 2 bytes');
  return ((d[0] as number) << 8) | (d[1] as number);
}

export function parseU32(code: number, d: Uint8Array): number {
  if (d.length !== 4) throw bad(code, d, 'expected 4 bytes');
  return (((d[0] as number) << 24) | ((d[1] as number) << 16) | ((d[2] as number) << 8) | (d[3] as number)) >>> 0;
}

export function parseIp(code: number, d: Uint8Array): string {
  if (d.length !== 4) throw bad(code, d, 'expected one IPv4 address (4 bytes)');
  return `${d[0]}.${d[1]}.${d[2]}.${d[3]}`;
}

export function parseIpList(code: number, d: Uint8Array): string[] {
  if (d.length === 0 || d.length % 4 !== 0) throw bad(code, d, 'expected a non-empty list of IPv4 addresses (multiple of 4 bytes)');
  const out: string[] = [];
  for (let i = 0; i < d.length; i += 4) out.push(`${d[i]}.${d[i + 1]}.${d[i + 2]}.${d[i + 3]}`);
  return out;
}

const utf8 = new TextDecoder('utf-8');

/** NVT text (RFC 2132 §2); trailing NULs some clients append are dropped. */
export function parseText(code: number, d: Uint8Array): string {
  if (d.length === 0) throw bad(code, d, 'expected at least 1 byte of text');
  let end = d.length;
  while (end > 0 && d[end - 1] === 0) end--;
  return utf8.decode(d.subarray(0, end));
}

export function parseCodeList(code: number, d: Uint8Array): number[] {
  if (d.length === 0) throw bad(code, d, 'expected at least one option code');
  return Array.from(d);
}

export interface ClientIdentifier {
  /** hardware type (1 Ethernet), or 0 for a non-hardware identifier, 255 for RFC 4361 */
  type: number;
  id: Uint8Array;
}

export function parseClientId(code: number, d: Uint8Array): ClientIdentifier {
  if (d.length < 2) throw bad(code, d, 'expected type and at least 1 byte of identifier');
  return { type: d[0] as number, id: d.subarray(1) };
}

export interface VendorIdentifyingInfo {
  enterprise: number;
  data: Uint8Array;
}

/** Option 125 (RFC 3925 V-I vendor-specific) and 124 (V-I vendor class) share this layout. */
export function parseVendorIdentifying(code: number, d: Uint8Array): VendorIdentifyingInfo[] {
  const out: VendorIdentifyingInfo[] = [];
  let i = 0;
  while (i < d.length) {
    if (i + 5 > d.length) throw bad(code, d, `enterprise entry at offset ${i} is truncated`);
    const enterprise = parseU32(code, d.subarray(i, i + 4));
    const len = d[i + 4] as number;
    if (i + 5 + len > d.length) throw bad(code, d, `enterprise ${enterprise} data of ${len} bytes overruns the option`);
    out.push({ enterprise, data: d.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  if (out.length === 0) throw bad(code, d, 'expected at least one enterprise entry');
  return out;
}

export function parseRelayAgent(d: Uint8Array): RelayAgentInfo {
  return decodeRelayAgent(d);
}

// ------------------------------------------------------------ typed getters

function view<T>(msg: DhcpMessage, code: number, parse: (code: number, d: Uint8Array) => T): T | undefined {
  const d = getOption(msg, code);
  return d === undefined ? undefined : parse(code, d);
}

export const messageType = (m: DhcpMessage): number | undefined => view(m, Opt.MESSAGE_TYPE, parseU8);
export const subnetMask = (m: DhcpMessage): string | undefined => view(m, Opt.SUBNET_MASK, parseIp);
export const routers = (m: DhcpMessage): string[] | undefined => view(m, Opt.ROUTER, parseIpList);
export const dns = (m: DhcpMessage): string[] | undefined => view(m, Opt.DNS, parseIpList);
export const hostname = (m: DhcpMessage): string | undefined => view(m, Opt.HOSTNAME, parseText);
export const domainName = (m: DhcpMessage): string | undefined => view(m, Opt.DOMAIN_NAME, parseText);
export const broadcastAddress = (m: DhcpMessage): string | undefined => view(m, Opt.BROADCAST, parseIp);
export const vendorSpecific = (m: DhcpMessage): Uint8Array | undefined => getOption(m, Opt.VENDOR_SPECIFIC);
export const requestedIp = (m: DhcpMessage): string | undefined => view(m, Opt.REQUESTED_IP, parseIp);
export const leaseSeconds = (m: DhcpMessage): number | undefined => view(m, Opt.LEASE_TIME, parseU32);
export const serverId = (m: DhcpMessage): string | undefined => view(m, Opt.SERVER_ID, parseIp);
export const parameterList = (m: DhcpMessage): number[] | undefined => view(m, Opt.PARAMETER_LIST, parseCodeList);
export const serverMessage = (m: DhcpMessage): string | undefined => view(m, Opt.MESSAGE, parseText);
export const maxMessageSize = (m: DhcpMessage): number | undefined => view(m, Opt.MAX_MESSAGE_SIZE, parseU16);
export const t1 = (m: DhcpMessage): number | undefined => view(m, Opt.RENEWAL_T1, parseU32);
export const t2 = (m: DhcpMessage): number | undefined => view(m, Opt.REBINDING_T2, parseU32);
export const vendorClass = (m: DhcpMessage): string | undefined => view(m, Opt.VENDOR_CLASS, parseText);
export const clientId = (m: DhcpMessage): ClientIdentifier | undefined => view(m, Opt.CLIENT_ID, parseClientId);
export const relayAgent = (m: DhcpMessage): RelayAgentInfo | undefined => {
  const d = getOption(m, Opt.RELAY_AGENT);
  return d === undefined ? undefined : decodeRelayAgent(d);
};
export const vivso = (m: DhcpMessage): VendorIdentifyingInfo[] | undefined => view(m, Opt.VIVSO, parseVendorIdentifying);

// ----------------------------------------------------------------- builders

function buildError(what: string, value: unknown): AgentError {
  return new AgentError('DHCP_ENCODE_INVALID', `${what}: ${JSON.stringify(value)}`);
}

export function u8(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw buildError('not an unsigned 8-bit value', v);
  return new Uint8Array([v]);
}

export function u16(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw buildError('not an unsigned 16-bit value', v);
  return new Uint8Array([v >>> 8, v & 0xff]);
}

export function u32(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw buildError('not an unsigned 32-bit value', v);
  return new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

function ipBytes(text: string, out: Uint8Array, o: number): void {
  const parts = text.split('.');
  if (parts.length !== 4) throw buildError('not an IPv4 address', text);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    const n = Number(p);
    if (p.length === 0 || p.length > 3 || !Number.isInteger(n) || n < 0 || n > 255 || p.trim() !== p) throw buildError('not an IPv4 address', text);
    out[o + i] = n;
  }
}

export function ipv4(text: string): Uint8Array {
  const out = new Uint8Array(4);
  ipBytes(text, out, 0);
  return out;
}

export function ipv4List(list: readonly string[]): Uint8Array {
  if (list.length === 0) throw buildError('an IPv4 list option needs at least one address', list);
  const out = new Uint8Array(4 * list.length);
  list.forEach((ip, i) => ipBytes(ip, out, 4 * i));
  return out;
}

const utf8enc = new TextEncoder();

export function text(s: string): Uint8Array {
  if (s.length === 0) throw buildError('a text option needs at least one character', s);
  return utf8enc.encode(s);
}

export function codeList(codes: readonly number[]): Uint8Array {
  if (codes.length === 0) throw buildError('a code list needs at least one code', codes);
  const out = new Uint8Array(codes.length);
  codes.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c > 255) throw buildError('not an option code', c);
    out[i] = c;
  });
  return out;
}

export function clientIdOption(type: number, id: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + id.length);
  out[0] = u8(type)[0] as number;
  out.set(id, 1);
  return out;
}

export function vivsoOption(entries: readonly VendorIdentifyingInfo[]): Uint8Array {
  let n = 0;
  for (const e of entries) {
    if (e.data.length > 255) throw buildError('option 125 enterprise data longer than 255 bytes', e.enterprise);
    n += 5 + e.data.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) {
    out.set(u32(e.enterprise), o);
    out[o + 4] = e.data.length;
    out.set(e.data, o + 5);
    o += 5 + e.data.length;
  }
  return out;
}

// ---------------------------------------------------------------- describe

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

const IP_CODES = new Set([1, 16, 28, 32, 50, 54, 118]);
const IP_LIST_CODES = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 41, 42, 44, 45, 48, 49, 65, 68, 69, 70, 71, 72, 73, 74, 75, 76, 150]);
const TEXT_CODES = new Set([12, 14, 15, 17, 18, 40, 47, 56, 60, 62, 64, 66, 67, 86, 87, 100, 101]);
const U32_CODES = new Set([2, 24, 35, 38, 51, 58, 59, 91, 152]);
const U16_CODES = new Set([13, 22, 26, 57]);
const U8_CODES = new Set([19, 20, 23, 27, 29, 30, 31, 34, 36, 39, 46]);

function describeRelay(d: Uint8Array): JsonValue {
  const r = decodeRelayAgent(d);
  const o: { [k: string]: JsonValue } = {};
  if (r.circuitId) o['circuitId'] = toHex(r.circuitId);
  if (r.remoteId) o['remoteId'] = toHex(r.remoteId);
  if (r.subscriberId) o['subscriberId'] = toHex(r.subscriberId);
  const other = r.subOptions.filter((s) => s.code !== 1 && s.code !== 2 && s.code !== 6);
  if (other.length) o['other'] = other.map((s) => ({ code: s.code, hex: toHex(s.data) }));
  return o;
}

function describeTyped(code: number, d: Uint8Array): JsonValue {
  if (code === Opt.MESSAGE_TYPE) return messageTypeName(parseU8(code, d));
  if (code === Opt.PARAMETER_LIST) return parseCodeList(code, d);
  if (code === Opt.RELAY_AGENT) return describeRelay(d);
  if (code === Opt.CLIENT_ID) {
    const c = parseClientId(code, d);
    return { type: c.type, hex: toHex(c.id) };
  }
  if (code === Opt.VIVSO || code === 124) return parseVendorIdentifying(code, d).map((e) => ({ enterprise: e.enterprise, hex: toHex(e.data) }));
  if (IP_CODES.has(code)) return parseIp(code, d);
  if (IP_LIST_CODES.has(code)) return parseIpList(code, d);
  if (TEXT_CODES.has(code)) return parseText(code, d);
  if (U32_CODES.has(code)) return parseU32(code, d);
  if (U16_CODES.has(code)) return parseU16(code, d);
  if (U8_CODES.has(code)) return parseU8(code, d);
  return toHex(d);
}

/**
 * A JSON-friendly typed value for option `code`: dotted IPs, numbers, text, message type
 * names, option 82/61/125 objects. Unknown codes (and 43, whose meaning depends on the
 * vendor class) are lowercase hex strings. A malformed known option is rendered as
 * `{ malformed: hex, error: CODE }` rather than thrown, so a capture dump never stops.
 */
export function describeOption(code: number, data: Uint8Array): JsonValue {
  try {
    return describeTyped(code, data);
  } catch (e) {
    const errCode = e instanceof AgentError ? e.code : 'DHCP_BAD_OPTION';
    return { malformed: toHex(data), error: errCode };
  }
}
