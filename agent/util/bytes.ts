import { AgentError } from '../errors.ts';

/** Lowercase hex of a byte array, no separators. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Parses hex text; accepts separators `:`, `-`, ` ` between byte pairs. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[:\-\s]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new AgentError('HEX_INVALID', `not a hex string: ${JSON.stringify(text.slice(0, 64))}`);
  }
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** "aa:bb:cc:dd:ee:ff" for the first `len` bytes. */
export function macToString(b: Uint8Array, len = 6): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(len, b.length); i++) parts.push((b[i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function parseMac(text: string): Uint8Array {
  const b = fromHex(text);
  if (b.length !== 6) throw new AgentError('MAC_INVALID', `not a 6-byte MAC address: ${text}`);
  return b;
}

/** Dotted quad from 4 bytes at `offset`. */
export function ipv4ToString(b: Uint8Array, offset = 0): string {
  return `${b[offset] ?? 0}.${b[offset + 1] ?? 0}.${b[offset + 2] ?? 0}.${b[offset + 3] ?? 0}`;
}

export function parseIpv4(text: string): Uint8Array {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  const parts = m ? m.slice(1).map(Number) : [];
  if (parts.length !== 4 || parts.some((p) => p > 255)) {
    throw new AgentError('IPV4_INVALID', `not an IPv4 address: ${JSON.stringify(text)}`);
  }
  return new Uint8Array(parts);
}

export function ipv4ToNumber(text: string): number {
  const b = parseIpv4(text);
  return (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
}

export function numberToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Prefix length of a contiguous netmask; throws for a non-contiguous mask. */
export function maskToPrefix(mask: string): number {
  const n = ipv4ToNumber(mask);
  const inv = ~n >>> 0;
  if ((inv & (inv + 1)) !== 0) throw new AgentError('IPV4_MASK_INVALID', `non-contiguous netmask ${mask}`);
  return 32 - Math.log2(inv + 1);
}

/** True when every byte is printable ASCII (0x20..0x7e). */
export function isPrintableAscii(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  for (const c of b) if (c < 0x20 || c > 0x7e) return false;
  return true;
}
