/** How option values become subscriber IDs and package keys. Pure. */
import { isPrintableAscii, macToString, toHex } from '../util/bytes.ts';

/** Printable ASCII as text, anything else as lowercase hex (no separators). */
export function optionText(b: Uint8Array): string {
  return isPrintableAscii(b) ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1') : toHex(b);
}

/** char codes of the two lowercase hex digits of every byte */
const HI = new Uint8Array(256);
const LO = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, '0');
  HI[i] = h.charCodeAt(0);
  LO[i] = h.charCodeAt(1);
}

/**
 * `macToString(b, len)`, faster for the usual 6 bytes: one flat string from char codes
 * (two MACs per ACK; the generic join showed in the replay profile).
 */
export function macText(b: Uint8Array, len = 6): string {
  if (len !== 6 || b.length < 6) return macToString(b, len);
  return macAt(b, 0);
}

/** The 6 bytes at `o` (which must exist) as "aa:bb:cc:dd:ee:ff". */
export function macAt(b: Uint8Array, o: number): string {
  const b0 = b[o] as number;
  const b1 = b[o + 1] as number;
  const b2 = b[o + 2] as number;
  const b3 = b[o + 3] as number;
  const b4 = b[o + 4] as number;
  const b5 = b[o + 5] as number;
  return String.fromCharCode(
    HI[b0] as number, LO[b0] as number, 58,
    HI[b1] as number, LO[b1] as number, 58,
    HI[b2] as number, LO[b2] as number, 58,
    HI[b3] as number, LO[b3] as number, 58,
    HI[b4] as number, LO[b4] as number, 58,
    HI[b5] as number, LO[b5] as number,
  );
}

/** A 6-byte remote-ID as "aa:bb:cc:dd:ee:ff"; undefined when it is not a MAC address. */
export function remoteIdMac(b: Uint8Array): string | undefined {
  return b.length === 6 ? macText(b) : undefined;
}

export function fallbackId(ip: string): string {
  return `IP_${ip}`;
}
