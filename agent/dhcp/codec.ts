/**
 * DHCPv4 wire codec (RFC 2131/2132, RFC 3396 long options, option 52 overload).
 * Pure: bytes <-> DhcpMessage. Decoding throws only AgentError with code `DHCP_*` and
 * `details.offset` naming where the input went wrong.
 *
 * Decoding copies the input once; every option's data is a view into that private copy,
 * so callers may reuse their receive buffer. No per-byte allocation, no regexes; option
 * instances are gathered in reused typed arrays, and only an option really split into
 * several instances (RFC 3396) gets a concatenated copy.
 */
import type { DhcpMessage, DhcpOption } from './message.ts';
import { MAGIC_COOKIE, Opt } from './message.ts';
import { AgentError } from '../errors.ts';

export interface EncodeOptions {
  /** pad the packet to at least this many bytes (BOOTP minimum 300; default 300) */
  minSize?: number;
  /** spill options into file/sname (option 52) when the options field would exceed this packet size */
  maxSize?: number;
}

/** Fixed BOOTP header (RFC 2131 §2): 236 bytes, then the 4-byte magic cookie. */
export const HEADER_SIZE = 236;
export const OPTIONS_OFFSET = 240;
const SNAME_OFFSET = 44;
const SNAME_SIZE = 64;
const FILE_OFFSET = 108;
const FILE_SIZE = 128;
const CHADDR_OFFSET = 28;

function u32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

function ipAt(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

// Byte slab for decoded copies and encoded packets: allocating each ~300-byte Uint8Array
// on its own costs ~1 µs (an off-heap backing store), five times the copy itself. Memory
// handed out is never reused, so views stay valid and fresh. Like Node's own 8 KiB Buffer
// pool, a view kept alive keeps its slab alive: code that keeps option bytes for long
// (per-subscriber tables) should keep strings or `slice()` copies, not the views.
const SLAB_SIZE = 8 * 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

/** A zero-filled Uint8Array of `n` bytes, carved from the slab when small. */
function allocBytes(n: number): Uint8Array {
  if (n > SLAB_SIZE >>> 2) return new Uint8Array(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const view = new Uint8Array(slab, slabUsed, n);
  slabUsed = (slabUsed + n + 7) & ~7;
  return view;
}

// Scratch space reused by every decode (decoding is synchronous, so never shared):
// one entry per option instance (code, data offset, data length), and per code a
// generation stamp telling whether the code was already seen in this decode.
const MAX_INSTANCES = 1024; // a 64 KiB message holds at most ~32k instances; see grow()
let instCode = new Uint8Array(MAX_INSTANCES);
let instStart = new Int32Array(MAX_INSTANCES);
let instLen = new Int32Array(MAX_INSTANCES);
const stamp = new Uint32Array(256);
let gen = 0;

function grow(): void {
  const n = instCode.length * 2;
  const c = new Uint8Array(n);
  const st = new Int32Array(n);
  const l = new Int32Array(n);
  c.set(instCode);
  st.set(instStart);
  l.set(instLen);
  instCode = c;
  instStart = st;
  instLen = l;
}

interface Walk {
  count: number;
  duplicates: boolean;
  overload: number;
}

/**
 * Walks one option area [start, end), appending instances to the scratch arrays. Returns
 * normally only when an END option was found; `area` names the field for errors.
 */
function walkArea(b: Uint8Array, start: number, end: number, area: 'options' | 'file' | 'sname', w: Walk, g: number, lenientEnd = false): void {
  let i = start;
  while (i < end) {
    const code = b[i] as number;
    if (code === Opt.PAD) {
      i++;
      continue;
    }
    if (code === Opt.END) return;
    if (i + 1 >= end) {
      throw new AgentError('DHCP_OPTION_TRUNCATED', `option ${code} in ${area} has no length byte`, { offset: i, code, area });
    }
    const len = b[i + 1] as number;
    const dataStart = i + 2;
    if (dataStart + len > end) {
      throw new AgentError('DHCP_OPTION_OVERFLOW', `option ${code} in ${area} claims ${len} bytes but only ${end - dataStart} remain`, {
        offset: i,
        code,
        length: len,
        area,
      });
    }
    if (code === Opt.OVERLOAD) {
      if (area !== 'options') {
        throw new AgentError('DHCP_BAD_OVERLOAD', `option 52 (overload) may only appear in the options field, found in ${area}`, { offset: i, area });
      }
      const v = b[dataStart] as number;
      if (len !== 1 || v < 1 || v > 3) {
        throw new AgentError('DHCP_BAD_OVERLOAD', `option 52 (overload) must be one byte 1..3`, { offset: i, length: len });
      }
      w.overload = v;
    } else {
      if (stamp[code] === g) w.duplicates = true;
      else stamp[code] = g;
      if (w.count === instCode.length) grow();
      instCode[w.count] = code;
      instStart[w.count] = dataStart;
      instLen[w.count] = len;
      w.count++;
    }
    i = dataStart + len;
  }
  if (area === 'options') {
    // every option ended exactly at the end of the packet: a lenient reader takes that as the end
    if (lenientEnd && i === end) return;
    throw new AgentError('DHCP_NO_END', `options field has no end option (255)`, { offset: end, area });
  }
  throw new AgentError('DHCP_OVERLOAD_ABSENT', `option 52 says ${area} carries options, but ${area} has no end option (255)`, {
    offset: area === 'file' ? FILE_OFFSET : SNAME_OFFSET,
    area,
  });
}

/** Options from the scratch instances; RFC 3396: all instances of a code concatenated, in order. */
function collectOptions(b: Uint8Array, w: Walk): DhcpOption[] {
  const n = w.count;
  const options: DhcpOption[] = [];
  if (!w.duplicates) {
    for (let k = 0; k < n; k++) {
      const st = instStart[k] as number;
      options.push({ code: instCode[k] as number, data: new Uint8Array(b.buffer, b.byteOffset + st, instLen[k] as number) });
    }
    return options;
  }
  const done = new Uint8Array(256);
  for (let k = 0; k < n; k++) {
    const code = instCode[k] as number;
    if (done[code]) continue;
    done[code] = 1;
    let total = 0;
    let count = 0;
    for (let j = k; j < n; j++) {
      if (instCode[j] === code) {
        total += instLen[j] as number;
        count++;
      }
    }
    if (count === 1) {
      const st = instStart[k] as number;
      options.push({ code, data: b.subarray(st, st + total) });
      continue;
    }
    const data = new Uint8Array(total);
    let o = 0;
    for (let j = k; j < n; j++) {
      if (instCode[j] === code) {
        const st = instStart[j] as number;
        const l = instLen[j] as number;
        data.set(b.subarray(st, st + l), o);
        o += l;
      }
    }
    options.push({ code, data });
  }
  return options;
}

/**
 * How strictly a message is read. The default is strict (RFC 2131: the options end with the
 * end option); a reader of other parties' traffic (the LEG) may take `lenientEnd`: options
 * that run exactly to the end of the packet without the end option are accepted (some servers
 * send such ACKs and clients take them). The file/sname areas of option 52 stay strict.
 */
export interface DecodeOptions {
  lenientEnd?: boolean;
}

/** Decodes one DHCP message (the UDP payload). */
export function decodeMessage(bytes: Uint8Array, opts: DecodeOptions = {}): DhcpMessage {
  if (bytes.length < HEADER_SIZE) {
    throw new AgentError('DHCP_TRUNCATED_HEADER', `message of ${bytes.length} bytes is shorter than the ${HEADER_SIZE}-byte BOOTP header`, {
      offset: bytes.length,
      length: bytes.length,
    });
  }
  if (bytes.length < OPTIONS_OFFSET) {
    throw new AgentError('DHCP_TRUNCATED_HEADER', `message of ${bytes.length} bytes ends before the magic cookie`, {
      offset: bytes.length,
      length: bytes.length,
    });
  }
  // A real copy (Buffer#slice would be a view): the message must not change when the
  // caller reuses its receive buffer.
  const b = allocBytes(bytes.length);
  b.set(bytes);
  const cookie = u32(b, HEADER_SIZE);
  if (cookie !== MAGIC_COOKIE) {
    throw new AgentError('DHCP_BAD_COOKIE', `magic cookie is 0x${cookie.toString(16).padStart(8, '0')}, expected 0x63825363`, {
      offset: HEADER_SIZE,
    });
  }
  gen = (gen + 1) >>> 0;
  if (gen === 0) {
    stamp.fill(0);
    gen = 1;
  }
  const w: Walk = { count: 0, duplicates: false, overload: 0 };
  walkArea(b, OPTIONS_OFFSET, b.length, 'options', w, gen, opts.lenientEnd === true);
  // RFC 2131 §4.1: with overload, read the file field first, then sname.
  if (w.overload & 1) walkArea(b, FILE_OFFSET, FILE_OFFSET + FILE_SIZE, 'file', w, gen);
  if (w.overload & 2) walkArea(b, SNAME_OFFSET, SNAME_OFFSET + SNAME_SIZE, 'sname', w, gen);

  return {
    op: b[0] as number,
    htype: b[1] as number,
    hlen: b[2] as number,
    hops: b[3] as number,
    xid: u32(b, 4),
    secs: ((b[8] as number) << 8) | (b[9] as number),
    flags: ((b[10] as number) << 8) | (b[11] as number),
    ciaddr: ipAt(b, 12),
    yiaddr: ipAt(b, 16),
    siaddr: ipAt(b, 20),
    giaddr: ipAt(b, 24),
    chaddr: new Uint8Array(b.buffer, b.byteOffset + CHADDR_OFFSET, 16),
    sname: w.overload & 2 ? new Uint8Array(SNAME_SIZE) : new Uint8Array(b.buffer, b.byteOffset + SNAME_OFFSET, SNAME_SIZE),
    file: w.overload & 1 ? new Uint8Array(FILE_SIZE) : new Uint8Array(b.buffer, b.byteOffset + FILE_OFFSET, FILE_SIZE),
    options: collectOptions(b, w),
  };
}

/**
 * The message type a reader of `decodeMessage(bytes)` would see, without decoding: the value
 * of option 53 when its data (all instances concatenated, RFC 3396, in the options, file and
 * sname fields as option 52 says) is one byte, 0 when option 53 is absent or not one byte,
 * and undefined exactly when `decodeMessage` would throw. Walks the option areas in place
 * (no copy, no allocation): readers that ignore most message types (the LEG) decode only
 * the ones they use.
 */
export function peekMessageType(bytes: Uint8Array, opts: DecodeOptions = {}): number | undefined {
  if (bytes.length < OPTIONS_OFFSET || u32(bytes, HEADER_SIZE) !== MAGIC_COOKIE) return undefined;
  gen = (gen + 1) >>> 0;
  if (gen === 0) {
    stamp.fill(0);
    gen = 1;
  }
  const w: Walk = { count: 0, duplicates: false, overload: 0 };
  try {
    walkArea(bytes, OPTIONS_OFFSET, bytes.length, 'options', w, gen, opts.lenientEnd === true);
    if (w.overload & 1) walkArea(bytes, FILE_OFFSET, FILE_OFFSET + FILE_SIZE, 'file', w, gen);
    if (w.overload & 2) walkArea(bytes, SNAME_OFFSET, SNAME_OFFSET + SNAME_SIZE, 'sname', w, gen);
  } catch {
    return undefined;
  }
  let total = 0;
  let value = 0;
  for (let k = 0; k < w.count; k++) {
    if (instCode[k] !== Opt.MESSAGE_TYPE) continue;
    const l = instLen[k] as number;
    if (total === 0 && l > 0) value = bytes[instStart[k] as number] as number;
    total += l;
  }
  return total === 1 ? value : 0;
}

// ---------------------------------------------------------------- encoding

function encodeError(message: string, details: Record<string, string | number> = {}): AgentError {
  return new AgentError('DHCP_ENCODE_INVALID', message, details);
}

function checkInt(v: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw encodeError(`${field} must be an integer 0..${max}, got ${v}`, { field });
  return v;
}

/** Writes a dotted quad at `o` without regexes; throws DHCP_ENCODE_INVALID naming `field`. */
function writeIp(out: Uint8Array, o: number, text: string, field: string): void {
  let part = 0;
  let digits = 0;
  let k = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || k > 3) throw encodeError(`${field} is not an IPv4 address: ${JSON.stringify(text)}`, { field });
      out[o + k] = part;
      k++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) throw encodeError(`${field} is not an IPv4 address: ${JSON.stringify(text)}`, { field });
    } else {
      throw encodeError(`${field} is not an IPv4 address: ${JSON.stringify(text)}`, { field });
    }
  }
  if (k !== 4) throw encodeError(`${field} is not an IPv4 address: ${JSON.stringify(text)}`, { field });
}

/** One wire instance of an option: `code`, then `data[start, end)`. */
interface Instance {
  code: number;
  data: Uint8Array;
  start: number;
  end: number;
}

function instancesOf(options: readonly DhcpOption[]): Instance[] {
  const out: Instance[] = [];
  for (const o of options) {
    const code = o.code;
    checkCode(code);
    const d = o.data;
    if (d.length <= 255) {
      out.push({ code, data: d, start: 0, end: d.length });
      continue;
    }
    // RFC 3396: split into consecutive instances of at most 255 bytes each.
    for (let s = 0; s < d.length; s += 255) out.push({ code, data: d, start: s, end: Math.min(d.length, s + 255) });
  }
  return out;
}

function instanceSize(x: Instance): number {
  return 2 + x.end - x.start;
}

function writeInstance(out: Uint8Array, o: number, x: Instance): number {
  out[o] = x.code;
  out[o + 1] = x.end - x.start;
  out.set(x.data.subarray(x.start, x.end), o + 2);
  return o + 2 + x.end - x.start;
}

function writeField(out: Uint8Array, offset: number, size: number, src: Uint8Array, field: string): void {
  if (src.length > size) throw encodeError(`${field} is ${src.length} bytes, at most ${size}`, { field, length: src.length });
  out.set(src, offset);
}

function put32(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = (v >>> 16) & 0xff;
  out[o + 2] = (v >>> 8) & 0xff;
  out[o + 3] = v & 0xff;
}

/** BOOTP header and cookie; sname/file are written unless `overload` says they carry options. */
function writeHeader(out: Uint8Array, msg: DhcpMessage, overload: number): void {
  out[0] = checkInt(msg.op, 255, 'op');
  out[1] = checkInt(msg.htype, 255, 'htype');
  out[2] = checkInt(msg.hlen, 255, 'hlen');
  out[3] = checkInt(msg.hops, 255, 'hops');
  put32(out, 4, checkInt(msg.xid, 0xffffffff, 'xid'));
  const secs = checkInt(msg.secs, 0xffff, 'secs');
  out[8] = secs >>> 8;
  out[9] = secs & 0xff;
  const flags = checkInt(msg.flags, 0xffff, 'flags');
  out[10] = flags >>> 8;
  out[11] = flags & 0xff;
  writeIp(out, 12, msg.ciaddr, 'ciaddr');
  writeIp(out, 16, msg.yiaddr, 'yiaddr');
  writeIp(out, 20, msg.siaddr, 'siaddr');
  writeIp(out, 24, msg.giaddr, 'giaddr');
  writeField(out, CHADDR_OFFSET, 16, msg.chaddr, 'chaddr');
  if (!(overload & 2)) writeField(out, SNAME_OFFSET, SNAME_SIZE, msg.sname, 'sname');
  if (!(overload & 1)) writeField(out, FILE_OFFSET, FILE_SIZE, msg.file, 'file');
  put32(out, HEADER_SIZE, MAGIC_COOKIE);
}

function checkCode(code: number): void {
  if (!Number.isInteger(code) || code < 1 || code > 254) throw encodeError(`option code must be 1..254, got ${code}`, { code });
  if (code === Opt.OVERLOAD) throw encodeError('option 52 (overload) is managed by the encoder; leave it out of options', { code });
}

/**
 * Encodes a message. Options go in `msg.options` order; data longer than 255 bytes is split
 * into consecutive instances (RFC 3396). When `maxSize` is given and the options field would
 * make the packet larger, option 52 is added and the remaining options spill into `file`,
 * then `sname` (RFC 2131 §4.1); options up to 255 bytes are moved whole, long options may be
 * split at the area boundary. Throws DHCP_TOO_LARGE when even that does not fit.
 */
export function encodeMessage(msg: DhcpMessage, opts: EncodeOptions = {}): Uint8Array {
  const minSize = opts.minSize ?? 300;
  const maxSize = opts.maxSize;
  if (maxSize !== undefined && (!Number.isInteger(maxSize) || maxSize < OPTIONS_OFFSET + 1)) {
    throw encodeError(`maxSize must be an integer >= ${OPTIONS_OFFSET + 1}, got ${maxSize}`, { maxSize });
  }
  // Fast path: no option needs RFC 3396 splitting and everything fits the options field.
  const list = msg.options;
  let simpleTotal = 0;
  let simple = true;
  for (let k = 0; k < list.length; k++) {
    const opt = list[k] as DhcpOption;
    checkCode(opt.code);
    const l = opt.data.length;
    if (l > 255) simple = false;
    simpleTotal += 2 + l;
  }
  if (simple && (maxSize === undefined || simpleTotal <= maxSize - OPTIONS_OFFSET - 1)) {
    const out = allocBytes(Math.max(OPTIONS_OFFSET + simpleTotal + 1, minSize));
    writeHeader(out, msg, 0);
    let o = OPTIONS_OFFSET;
    for (let k = 0; k < list.length; k++) {
      const opt = list[k] as DhcpOption;
      const d = opt.data;
      const l = d.length;
      out[o] = opt.code;
      out[o + 1] = l;
      if (l < 16) for (let j = 0; j < l; j++) out[o + 2 + j] = d[j] as number;
      else out.set(d, o + 2);
      o += 2 + l;
    }
    out[o] = Opt.END;
    return out;
  }

  const inst = instancesOf(list);
  let total = 0;
  for (const x of inst) total += instanceSize(x);

  const mainCap = maxSize === undefined ? Infinity : maxSize - OPTIONS_OFFSET - 1; // minus END
  let overload = 0;
  // Areas: [0] options field, [1] file, [2] sname; each holds a list of instances.
  const areas: Instance[][] = [[], [], []];
  if (total <= mainCap) {
    areas[0] = inst;
  } else {
    const caps = [mainCap - 3, FILE_SIZE - 1, SNAME_SIZE - 1]; // minus option 52, minus END
    const tooLarge = (): AgentError =>
      new AgentError('DHCP_TOO_LARGE', `options need ${total} bytes; they do not fit in ${maxSize} bytes even with file and sname overloaded`, {
        maxSize: maxSize ?? 0,
        size: total,
      });
    let a = 0;
    let used = 0;
    for (const o of list) {
      const d = o.data;
      if (d.length <= 255) {
        // moved whole: clients without RFC 3396 support still read it
        while (a <= 2 && 2 + d.length > (caps[a] as number) - used) {
          a++;
          used = 0;
        }
        if (a > 2) throw tooLarge();
        (areas[a] as Instance[]).push({ code: o.code, data: d, start: 0, end: d.length });
        used += 2 + d.length;
        continue;
      }
      // a long option is a byte stream: fill each area, in instances of at most 255 bytes
      let pos = 0;
      while (pos < d.length) {
        if (a > 2) throw tooLarge();
        const room = (caps[a] as number) - used;
        if (room < 3) {
          a++;
          used = 0;
          continue;
        }
        const n = Math.min(255, room - 2, d.length - pos);
        (areas[a] as Instance[]).push({ code: o.code, data: d, start: pos, end: pos + n });
        used += 2 + n;
        pos += n;
      }
    }
    overload = ((areas[1] as Instance[]).length > 0 ? 1 : 0) | ((areas[2] as Instance[]).length > 0 ? 2 : 0);
  }

  let mainBytes = 1; // END
  for (const x of areas[0] as Instance[]) mainBytes += instanceSize(x);
  if (overload) mainBytes += 3;
  const size = Math.max(OPTIONS_OFFSET + mainBytes, minSize);
  const out = allocBytes(size);
  writeHeader(out, msg, overload);

  let o = OPTIONS_OFFSET;
  const main = areas[0] as Instance[];
  let k = 0;
  if (overload) {
    if (main.length > 0 && (main[0] as Instance).code === Opt.MESSAGE_TYPE) o = writeInstance(out, o, main[k++] as Instance);
    out[o++] = Opt.OVERLOAD;
    out[o++] = 1;
    out[o++] = overload;
  }
  for (; k < main.length; k++) o = writeInstance(out, o, main[k] as Instance);
  out[o] = Opt.END;
  if (overload & 1) {
    let f = FILE_OFFSET;
    for (const x of areas[1] as Instance[]) f = writeInstance(out, f, x);
    out[f] = Opt.END;
  }
  if (overload & 2) {
    let s = SNAME_OFFSET;
    for (const x of areas[2] as Instance[]) s = writeInstance(out, s, x);
    out[s] = Opt.END;
  }
  return out;
}
