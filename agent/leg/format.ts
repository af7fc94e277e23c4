/** How option values become subscriber IDs and package keys. Pure. */
import { isPrintableAscii, macToString, toHex } from '../util/bytes.ts';

/** Printable ASCII as text, anything else as lowercase hex (no separators). */
export function optionText(b: Uint8Array): string {
  return isPrintableAscii(b) ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1') : toHex(b);
}

/** A 6-byte remote-ID as "aa:bb:cc:dd:ee:ff"; undefined when it is not a MAC address. */
export function remoteIdMac(b: Uint8Array): string | undefined {
  return b.length === 6 ? macToString(b) : undefined;
}

export function fallbackId(ip: string): string {
  return `IP_${ip}`;
}
