/**
 * Generic option 43 (vendor-specific information, RFC 2132 §8.4) codec driven by a profile.
 * Pure. Errors are AgentError `OPT43_*` naming the sub-option (code and field) and offset;
 * values of secret sub-options never appear in an error.
 */
import type { Option43Offer, UnknownSubOption } from './types.ts';
import type { Md5Field, Option43Profile, SubOptionDef, TextField } from './profile.ts';
import { AgentError } from '../errors.ts';
import { toHex } from '../util/bytes.ts';
import { encodeTlv } from '../util/tlv.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8enc = new TextEncoder();

function label(def: SubOptionDef): string {
  return `sub-option ${def.code} (${def.field})`;
}

function isHexChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/**
 * Normalises an MD5 given as 16 raw bytes (ISC `string` with colon-hex in dhcpd.conf),
 * 32 hex characters, or 47 characters `xx:xx:…` (also `-` or space separated) to 32
 * lowercase hex. Returns undefined when it is none of these.
 */
export function normalizeMd5Bytes(d: Uint8Array): string | undefined {
  if (d.length === 16) return toHex(d);
  let end = d.length;
  while (end > 0 && d[end - 1] === 0) end--;
  if (end === 32) {
    for (let i = 0; i < 32; i++) if (!isHexChar(d[i] as number)) return undefined;
    return String.fromCharCode(...d.subarray(0, 32)).toLowerCase();
  }
  if (end === 47) {
    let s = '';
    for (let i = 0; i < 47; i++) {
      const c = d[i] as number;
      if (i % 3 === 2) {
        if (c !== 58 && c !== 45 && c !== 32) return undefined;
      } else {
        if (!isHexChar(c)) return undefined;
        s += String.fromCharCode(c);
      }
    }
    return s.toLowerCase();
  }
  return undefined;
}

/** Same normalisation for text input (CLI, JSON offers): 32 hex or colon-separated → 32 lowercase hex. */
export function normalizeMd5Text(s: string): string | undefined {
  return normalizeMd5Bytes(utf8enc.encode(s.trim()));
}

function decodeValue(def: SubOptionDef, d: Uint8Array, offset: number, offer: Option43Offer): void {
  const details = { subOption: def.code, field: def.field, length: d.length, offset };
  switch (def.type) {
    case 'enum-u8': {
      if (d.length !== 1) throw new AgentError('OPT43_BAD_LENGTH', `${label(def)} must be 1 byte, got ${d.length}`, details);
      const name = def.values[d[0] as number];
      if (name === undefined) {
        const allowed = Object.entries(def.values)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        throw new AgentError('OPT43_BAD_ENUM', `${label(def)} has value ${d[0]}; allowed: ${allowed}`, { ...details, value: d[0] as number });
      }
      offer.protocol = name;
      return;
    }
    case 'ipv4':
      if (d.length !== 4) throw new AgentError('OPT43_BAD_IPV4', `${label(def)} must be a 4-byte IPv4 address, got ${d.length} bytes`, details);
      offer.server = `${d[0]}.${d[1]}.${d[2]}.${d[3]}`;
      return;
    case 'text': {
      let end = d.length;
      while (end > 0 && d[end - 1] === 0) end--;
      let s: string;
      try {
        s = utf8.decode(d.subarray(0, end));
      } catch {
        throw new AgentError('OPT43_BAD_TEXT', `${label(def)} is not valid UTF-8 text`, details);
      }
      const field: TextField = def.field;
      offer[field] = s;
      return;
    }
    case 'md5': {
      const hex = normalizeMd5Bytes(d);
      if (hex === undefined) {
        throw new AgentError(
          'OPT43_BAD_MD5',
          `${label(def)} must be an MD5 digest: 16 raw bytes, 32 hex characters or 47 colon-separated hex; got ${d.length} bytes`,
          details,
        );
      }
      const field: Md5Field = def.field;
      offer[field] = hex;
      return;
    }
    case 'u16-flags': {
      if (d.length !== 2) throw new AgentError('OPT43_BAD_LENGTH', `${label(def)} must be 2 bytes, got ${d.length}`, details);
      const v = ((d[0] as number) << 8) | (d[1] as number);
      offer.flags = v;
      for (const b of def.bits) offer[b.field] = ((v >>> b.bit) & 1) === 1;
      return;
    }
  }
}

/**
 * Decodes option 43 data with `profile`. Pad (0) is skipped and end (255) stops the walk;
 * repeated instances of a sub-option are concatenated (RFC 3396 applied to the
 * encapsulation, as ISC dhcpd splits long values). Unknown sub-options land in `unknown`.
 */
export function decodeOption43(profile: Option43Profile, data: Uint8Array): Option43Offer {
  const order: number[] = [];
  const parts = new Map<number, { offset: number; chunks: Uint8Array[] }>();
  let i = 0;
  while (i < data.length) {
    const code = data[i] as number;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) break;
    if (i + 1 >= data.length) {
      throw new AgentError('OPT43_TRUNCATED', `sub-option ${code} at offset ${i} has no length byte`, { subOption: code, offset: i });
    }
    const len = data[i + 1] as number;
    if (i + 2 + len > data.length) {
      const def = profile.subOptions.find((s) => s.code === code);
      throw new AgentError('OPT43_OVERFLOW', `sub-option ${code}${def ? ` (${def.field})` : ''} claims ${len} bytes but only ${data.length - i - 2} remain`, {
        subOption: code,
        offset: i,
        length: len,
      });
    }
    const chunk = data.subarray(i + 2, i + 2 + len);
    const p = parts.get(code);
    if (p) p.chunks.push(chunk);
    else {
      parts.set(code, { offset: i, chunks: [chunk] });
      order.push(code);
    }
    i += 2 + len;
  }
  const offer: Option43Offer = { unknown: [] };
  for (const code of order) {
    const p = parts.get(code) as { offset: number; chunks: Uint8Array[] };
    const d = p.chunks.length === 1 ? (p.chunks[0] as Uint8Array) : Buffer.concat(p.chunks);
    const def = profile.subOptions.find((s) => s.code === code);
    if (def) decodeValue(def, d, p.offset, offer);
    else offer.unknown.push({ code, hex: toHex(d) });
  }
  // `unknown` last, so JSON reads in profile order
  const { unknown, ...fields } = offer;
  return { ...fields, unknown };
}

/**
 * Bits of the offer's flags word that `profile` gives no meaning (CTS: only bit 0, urgent).
 * 0 when the offer has no flags. The agent ignores them and says so once per offer.
 */
export function unknownFlagBits(profile: Option43Profile, offer: Option43Offer): number {
  if (offer.flags === undefined) return 0;
  let known = 0;
  for (const def of profile.subOptions) if (def.type === 'u16-flags') for (const b of def.bits) known |= 1 << b.bit;
  return (offer.flags & ~known) & 0xffff;
}

// ------------------------------------------------------------------ encode

export type Md5WireFormat = 'raw' | 'hex' | 'colon';

export interface EncodeOption43Options {
  /** how MD5 sub-options go on the wire: 16 raw bytes (default), 32 hex chars, or colon-hex */
  md5Format?: Md5WireFormat;
}

function encError(def: SubOptionDef, why: string): AgentError {
  return new AgentError('OPT43_ENCODE_INVALID', `${label(def)}: ${why}`, { subOption: def.code, field: def.field });
}

/** The wire value of one sub-option from the offer, or undefined when the offer omits it. */
function encodeValue(def: SubOptionDef, offer: Option43Offer, md5Format: Md5WireFormat): Uint8Array | undefined {
  switch (def.type) {
    case 'enum-u8': {
      if (offer.protocol === undefined) return undefined;
      const hit = Object.entries(def.values).find(([, v]) => v === offer.protocol);
      if (!hit) throw encError(def, `value ${JSON.stringify(offer.protocol)} is not one of ${Object.values(def.values).join(', ')}`);
      return new Uint8Array([Number(hit[0])]);
    }
    case 'ipv4': {
      if (offer.server === undefined) return undefined;
      const parts = offer.server.split('.');
      const nums = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
      if (nums.length !== 4 || nums.some((n) => !(n >= 0 && n <= 255))) throw encError(def, `${JSON.stringify(offer.server)} is not an IPv4 address`);
      return new Uint8Array(nums);
    }
    case 'text': {
      const v = offer[def.field];
      if (v === undefined) return undefined;
      return utf8enc.encode(v);
    }
    case 'md5': {
      const v = offer[def.field];
      if (v === undefined) return undefined;
      const hex = normalizeMd5Text(v);
      if (hex === undefined) throw encError(def, 'not an MD5 digest (32 hex characters)');
      if (md5Format === 'hex') return utf8enc.encode(hex);
      if (md5Format === 'colon') return utf8enc.encode(hex.match(/../g)?.join(':') ?? '');
      return new Uint8Array(Buffer.from(hex, 'hex'));
    }
    case 'u16-flags': {
      let v = offer.flags;
      const named = def.bits.filter((b) => offer[b.field] !== undefined);
      if (v === undefined && named.length === 0) return undefined;
      v ??= 0;
      if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw encError(def, `flags ${v} is not a 16-bit unsigned value`);
      for (const b of named) v = offer[b.field] ? v | (1 << b.bit) : v & ~(1 << b.bit);
      return new Uint8Array([(v >>> 8) & 0xff, v & 0xff]);
    }
  }
}

/**
 * Builds option 43 data for `offer` with `profile` (sub-options in profile order, then the
 * offer's `unknown` entries). Each sub-option value must fit in 255 bytes.
 */
export function encodeOption43(offer: Option43Offer, profile: Option43Profile, opts: EncodeOption43Options = {}): Uint8Array {
  const md5Format = opts.md5Format ?? 'raw';
  const items: { code: number; data: Uint8Array }[] = [];
  for (const def of profile.subOptions) {
    const d = encodeValue(def, offer, md5Format);
    if (d === undefined) continue;
    if (d.length > 255) throw encError(def, `value is ${d.length} bytes, at most 255`);
    items.push({ code: def.code, data: d });
  }
  for (const u of offer.unknown as readonly UnknownSubOption[]) {
    if (!Number.isInteger(u.code) || u.code < 1 || u.code > 254) {
      throw new AgentError('OPT43_ENCODE_INVALID', `unknown sub-option code must be 1..254, got ${u.code}`, { subOption: u.code });
    }
    if (profile.subOptions.some((s) => s.code === u.code)) {
      throw new AgentError('OPT43_ENCODE_INVALID', `unknown sub-option ${u.code} is defined by profile ${profile.name}`, { subOption: u.code });
    }
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(u.hex)) throw new AgentError('OPT43_ENCODE_INVALID', `unknown sub-option ${u.code}: hex is not valid`, { subOption: u.code });
    const d = new Uint8Array(Buffer.from(u.hex, 'hex'));
    if (d.length > 255) throw new AgentError('OPT43_ENCODE_INVALID', `unknown sub-option ${u.code} is ${d.length} bytes, at most 255`, { subOption: u.code });
    items.push({ code: u.code, data: d });
  }
  return encodeTlv(items);
}
