/**
 * TFTP packets (RFC 1350, OACK from RFC 2347): bytes <-> objects, pure. Decoding never
 * throws anything but AgentError TFTP_MALFORMED, whatever the input; DATA payloads are
 * views into the received bytes (no copy).
 */
import { AgentError } from '../errors.ts';

export const Op = {
  RRQ: 1,
  WRQ: 2,
  DATA: 3,
  ACK: 4,
  ERROR: 5,
  OACK: 6,
} as const;

/** RFC 1350 / 2347 error codes. */
export const ErrorCode = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS: 2,
  DISK_FULL: 3,
  ILLEGAL_OP: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_USER: 7,
  OPTION_REFUSED: 8,
} as const;

/** Option name/value pairs in wire order (names as sent; compare case-insensitively). */
export type TftpOptions = ReadonlyArray<readonly [string, string]>;

export type TftpPacket =
  | { op: 'rrq' | 'wrq'; file: string; mode: string; options: TftpOptions }
  | { op: 'data'; block: number; data: Uint8Array }
  | { op: 'ack'; block: number }
  | { op: 'error'; code: number; message: string }
  | { op: 'oack'; options: TftpOptions };

/** RFC 1350 packets are at most 512 bytes of request; servers (tftpd-hpa) read no more. */
export const MAX_REQUEST_BYTES = 512;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: false });

function malformed(why: string, len: number): AgentError {
  return new AgentError('TFTP_MALFORMED', `malformed TFTP packet: ${why}`, { length: len });
}

/** Reads NUL-terminated strings from `b` starting at `start`; the last must be terminated. */
function readStrings(b: Uint8Array, start: number): string[] {
  const out: string[] = [];
  let i = start;
  while (i < b.length) {
    const end = b.indexOf(0, i);
    if (end < 0) throw malformed('string not NUL-terminated', b.length);
    out.push(utf8d.decode(b.subarray(i, end)));
    i = end + 1;
  }
  return out;
}

function pairs(strings: string[], len: number): Array<readonly [string, string]> {
  if (strings.length % 2 !== 0) throw malformed('option without a value', len);
  const out: Array<readonly [string, string]> = [];
  for (let i = 0; i < strings.length; i += 2) out.push([strings[i] ?? '', strings[i + 1] ?? '']);
  return out;
}

export function decodePacket(b: Uint8Array): TftpPacket {
  if (b.length < 2) throw malformed('shorter than an opcode', b.length);
  const op = ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  switch (op) {
    case Op.RRQ:
    case Op.WRQ: {
      const s = readStrings(b, 2);
      if (s.length < 2) throw malformed('request without file name and mode', b.length);
      return { op: op === Op.RRQ ? 'rrq' : 'wrq', file: s[0] ?? '', mode: s[1] ?? '', options: pairs(s.slice(2), b.length) };
    }
    case Op.DATA:
      if (b.length < 4) throw malformed('DATA shorter than 4 bytes', b.length);
      return { op: 'data', block: ((b[2] ?? 0) << 8) | (b[3] ?? 0), data: b.subarray(4) };
    case Op.ACK:
      if (b.length < 4) throw malformed('ACK shorter than 4 bytes', b.length);
      return { op: 'ack', block: ((b[2] ?? 0) << 8) | (b[3] ?? 0) };
    case Op.ERROR: {
      if (b.length < 4) throw malformed('ERROR shorter than 4 bytes', b.length);
      // Many servers forget the final NUL; accept the message up to the end then.
      const end = b.indexOf(0, 4);
      const message = utf8d.decode(b.subarray(4, end < 0 ? b.length : end));
      return { op: 'error', code: ((b[2] ?? 0) << 8) | (b[3] ?? 0), message };
    }
    case Op.OACK:
      return { op: 'oack', options: pairs(readStrings(b, 2), b.length) };
    default:
      throw malformed(`unknown opcode ${op}`, b.length);
  }
}

function checkString(s: string, what: string): Uint8Array {
  const bytes = utf8.encode(s);
  if (bytes.includes(0)) throw new AgentError('TFTP_BAD_REQUEST', `${what} must not contain a NUL byte`);
  return bytes;
}

function stringsPacket(op: number, strings: string[]): Uint8Array {
  const parts = strings.map((s, i) => checkString(s, i === 0 && (op === Op.RRQ || op === Op.WRQ) ? 'file name' : 'option'));
  const out = new Uint8Array(2 + parts.reduce((n, p) => n + p.length + 1, 0));
  out[1] = op;
  let o = 2;
  for (const p of parts) {
    out.set(p, o);
    o += p.length + 1;
  }
  return out;
}

function checkU16(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new AgentError('TFTP_BAD_REQUEST', `${what} out of range: ${n}`);
  return n;
}

export function encodePacket(p: TftpPacket): Uint8Array {
  switch (p.op) {
    case 'rrq':
    case 'wrq':
      return stringsPacket(p.op === 'rrq' ? Op.RRQ : Op.WRQ, [p.file, p.mode, ...p.options.flat()]);
    case 'oack':
      return stringsPacket(Op.OACK, p.options.flat());
    case 'data': {
      const out = new Uint8Array(4 + p.data.length);
      out[1] = Op.DATA;
      writeBlock(out, checkU16(p.block, 'block number'));
      out.set(p.data, 4);
      return out;
    }
    case 'ack': {
      const out = new Uint8Array(4);
      writeAck(out, checkU16(p.block, 'block number'));
      return out;
    }
    case 'error': {
      const msg = checkString(p.message, 'error message');
      const out = new Uint8Array(5 + msg.length);
      out[1] = Op.ERROR;
      writeBlock(out, checkU16(p.code, 'error code'));
      out.set(msg, 4);
      return out;
    }
  }
}

function writeBlock(buf: Uint8Array, n: number): void {
  buf[2] = (n >>> 8) & 0xff;
  buf[3] = n & 0xff;
}

/** Writes an ACK for `block` into a preallocated 4-byte buffer (the hot path). */
export function writeAck(buf: Uint8Array, block: number): void {
  buf[0] = 0;
  buf[1] = Op.ACK;
  writeBlock(buf, block);
}

/** Opcode of a datagram without decoding it (0 when too short). */
export function peekOpcode(b: Uint8Array): number {
  return b.length < 2 ? 0 : ((b[0] ?? 0) << 8) | (b[1] ?? 0);
}
