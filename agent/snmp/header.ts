/**
 * Reads just enough of an SNMP message to decide who sent it, before the library parses it:
 * the version, and the community (v1/v2c) or the USM user name (v3). Pure; never throws
 * (a malformed packet is `null`). RFC 3416 / RFC 3412 message layout, BER definite lengths.
 */

export type SnmpHeader = { version: 0 | 1; community: string } | { version: 3; user: string } | { version: number };

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function tlv(b: Uint8Array, at: number, limit: number): Tlv | null {
  if (at + 2 > limit) return null;
  const tag = b[at] ?? 0;
  let len = b[at + 1] ?? 0;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[p + i] ?? 0);
    p += n;
  }
  if (p + len > limit) return null;
  return { tag, start: p, end: p + len };
}

function int(b: Uint8Array, t: Tlv): number | null {
  if (t.tag !== 0x02 || t.end - t.start < 1 || t.end - t.start > 4) return null;
  let v = 0;
  for (let i = t.start; i < t.end; i++) v = v * 256 + (b[i] ?? 0);
  return v;
}

const str = (b: Uint8Array, t: Tlv): string => Buffer.from(b.buffer, b.byteOffset + t.start, t.end - t.start).toString('latin1');

export function readHeader(b: Uint8Array): SnmpHeader | null {
  const msg = tlv(b, 0, b.length);
  if (!msg || msg.tag !== 0x30) return null;
  const ver = tlv(b, msg.start, msg.end);
  if (!ver) return null;
  const version = int(b, ver);
  if (version === null) return null;
  if (version === 0 || version === 1) {
    const c = tlv(b, ver.end, msg.end);
    if (!c || c.tag !== 0x04) return null;
    return { version, community: str(b, c) };
  }
  if (version !== 3) return { version };
  const global = tlv(b, ver.end, msg.end);
  if (!global || global.tag !== 0x30) return null;
  const secParams = tlv(b, global.end, msg.end);
  if (!secParams || secParams.tag !== 0x04) return null;
  const usm = tlv(b, secParams.start, secParams.end);
  if (!usm || usm.tag !== 0x30) return null;
  let p = usm.start;
  // engineID, engineBoots, engineTime, then userName
  for (let i = 0; i < 3; i++) {
    const f = tlv(b, p, usm.end);
    if (!f) return null;
    p = f.end;
  }
  const user = tlv(b, p, usm.end);
  if (!user || user.tag !== 0x04) return null;
  return { version: 3, user: str(b, user) };
}
