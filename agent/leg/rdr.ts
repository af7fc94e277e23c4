/**
 * RDRv1 (Cisco SCE Raw Data Record) framing, as read by the open-source collectors
 * RDR::Collector (CPAN) and module::rdr (M. Dinic). Pure.
 *
 *   ppc_num        1 B  traffic processor number
 *   payload_size   4 B  FOUR ASCII DECIMAL DIGITS ("0066"), not a binary integer: the number
 *                       of bytes AFTER this 5-byte prefix (the 15-byte header below plus all
 *                       fields), so at most 9999
 *   src, dst       1 B each
 *   src_port       2 B
 *   dst_port       2 B
 *   flow_context   4 B
 *   tag            4 B  the RDR type (DHCP sniffer: 4042321986 = 0xF0F0F042)
 *   field_count    1 B
 *   fields         field_count × { type 1 B, size 4 B, data size B }
 *
 * Field types: 11 int8, 12 int16, 13 int32, 14 uint8, 15 uint16, 16 uint32 (big-endian),
 * 21 float (IEEE 754 single), 31 boolean (1 B), 41 string (raw bytes).
 *
 * `RdrStream.push(chunk)` returns complete records. A record whose fields do not add up is
 * reported as an error and skipped: its length prefix was sane, so the next record starts
 * where it ends. A length prefix that is itself impossible leaves no way to find the next
 * record in a length-prefixed stream: the stream reports `fatal` and the caller closes the
 * connection (everything before it was already delivered).
 */
import { AgentError } from '../errors.ts';

export const RDR_HEADER = 15;
export const RDR_PREFIX = 5;
/** the largest payload_size four decimal digits can say */
export const RDR_MAX_PAYLOAD = 9999;

/** payload_size at b[o..o+4): its value, or -1 when the four bytes are not all ASCII digits */
export function readPayloadSize(b: Uint8Array, o: number): number {
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = (b[o + i] as number) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export const RdrType = {
  INT8: 11,
  INT16: 12,
  INT32: 13,
  UINT8: 14,
  UINT16: 15,
  UINT32: 16,
  FLOAT: 21,
  BOOLEAN: 31,
  STRING: 41,
} as const;

const WIDTH: Record<number, number> = { 11: 1, 12: 2, 13: 4, 14: 1, 15: 2, 16: 4, 21: 4, 31: 1 };

export type RdrValue = number | boolean | Uint8Array;

export interface RdrField {
  type: number;
  value: RdrValue;
}

export interface RdrRecord {
  ppc: number;
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  flowContextId: number;
  tag: number;
  fields: RdrField[];
}

function fieldSize(f: RdrField): number {
  if (f.type === RdrType.STRING) {
    if (!(f.value instanceof Uint8Array)) throw new AgentError('RDR_ENCODE_INVALID', 'string field needs bytes');
    return f.value.length;
  }
  const w = WIDTH[f.type];
  if (w === undefined) throw new AgentError('RDR_ENCODE_INVALID', `unknown RDR field type ${f.type}`, { type: f.type });
  return w;
}

export function encodeRdr(r: RdrRecord): Uint8Array {
  if (r.fields.length > 255) throw new AgentError('RDR_ENCODE_INVALID', `at most 255 fields, got ${r.fields.length}`);
  let payload = RDR_HEADER;
  for (const f of r.fields) payload += 5 + fieldSize(f);
  if (payload > RDR_MAX_PAYLOAD) throw new AgentError('RDR_ENCODE_INVALID', `record of ${payload} bytes does not fit the 4-digit payload_size`, { payload });
  const out = new Uint8Array(RDR_PREFIX + payload);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, r.ppc);
  const digits = String(payload).padStart(4, '0');
  for (let i = 0; i < 4; i++) out[1 + i] = digits.charCodeAt(i);
  dv.setUint8(5, r.src);
  dv.setUint8(6, r.dst);
  dv.setUint16(7, r.srcPort);
  dv.setUint16(9, r.dstPort);
  dv.setUint32(11, r.flowContextId >>> 0);
  dv.setUint32(15, r.tag >>> 0);
  dv.setUint8(19, r.fields.length);
  let o = RDR_PREFIX + RDR_HEADER;
  for (const f of r.fields) {
    const size = fieldSize(f);
    dv.setUint8(o, f.type);
    dv.setUint32(o + 1, size);
    o += 5;
    const v = f.value;
    switch (f.type) {
      case RdrType.INT8:
        dv.setInt8(o, Number(v));
        break;
      case RdrType.INT16:
        dv.setInt16(o, Number(v));
        break;
      case RdrType.INT32:
        dv.setInt32(o, Number(v));
        break;
      case RdrType.UINT8:
        dv.setUint8(o, Number(v));
        break;
      case RdrType.UINT16:
        dv.setUint16(o, Number(v));
        break;
      case RdrType.UINT32:
        dv.setUint32(o, Number(v) >>> 0);
        break;
      case RdrType.FLOAT:
        dv.setFloat32(o, Number(v));
        break;
      case RdrType.BOOLEAN:
        dv.setUint8(o, v === true || v === 1 ? 1 : 0);
        break;
      default:
        out.set(v as Uint8Array, o);
    }
    o += size;
  }
  return out;
}

/** Decodes the body of one record: `b` starts at ppc_num and holds exactly prefix + payload_size bytes. */
export function decodeRdr(b: Uint8Array): RdrRecord {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < RDR_PREFIX + RDR_HEADER) throw new AgentError('RDR_TRUNCATED', `record of ${b.length} bytes is shorter than its header`, { offset: 0 });
  const payload = readPayloadSize(b, 1);
  if (payload + RDR_PREFIX !== b.length) {
    throw new AgentError('RDR_BAD_LENGTH', payload < 0 ? 'payload_size is not four ASCII digits' : `payload_size ${payload} does not match ${b.length - RDR_PREFIX} bytes`, { offset: 1 });
  }
  const count = dv.getUint8(19);
  const fields: RdrField[] = [];
  let o = RDR_PREFIX + RDR_HEADER;
  for (let i = 0; i < count; i++) {
    if (o + 5 > b.length) throw new AgentError('RDR_FIELD_TRUNCATED', `field ${i} header runs past the record`, { offset: o, field: i });
    const type = dv.getUint8(o);
    const size = dv.getUint32(o + 1);
    o += 5;
    if (o + size > b.length) throw new AgentError('RDR_FIELD_TRUNCATED', `field ${i} claims ${size} bytes, ${b.length - o} remain`, { offset: o - 5, field: i });
    const w = WIDTH[type];
    if (type !== RdrType.STRING && w === undefined) throw new AgentError('RDR_FIELD_TYPE', `field ${i} has unknown type ${type}`, { offset: o - 5, field: i, type });
    if (w !== undefined && size !== w) throw new AgentError('RDR_FIELD_SIZE', `field ${i} of type ${type} must be ${w} bytes, is ${size}`, { offset: o - 5, field: i, type });
    let value: RdrValue;
    switch (type) {
      case RdrType.INT8:
        value = dv.getInt8(o);
        break;
      case RdrType.INT16:
        value = dv.getInt16(o);
        break;
      case RdrType.INT32:
        value = dv.getInt32(o);
        break;
      case RdrType.UINT8:
        value = dv.getUint8(o);
        break;
      case RdrType.UINT16:
        value = dv.getUint16(o);
        break;
      case RdrType.UINT32:
        value = dv.getUint32(o);
        break;
      case RdrType.FLOAT:
        value = dv.getFloat32(o);
        break;
      case RdrType.BOOLEAN:
        value = dv.getUint8(o) !== 0;
        break;
      default:
        value = b.slice(o, o + size);
    }
    fields.push({ type, value });
    o += size;
  }
  if (o !== b.length) throw new AgentError('RDR_TRAILING', `${b.length - o} bytes after the last of ${count} fields`, { offset: o });
  return {
    ppc: dv.getUint8(0),
    src: dv.getUint8(5),
    dst: dv.getUint8(6),
    srcPort: dv.getUint16(7),
    dstPort: dv.getUint16(9),
    flowContextId: dv.getUint32(11),
    tag: dv.getUint32(15),
    fields,
  };
}

export interface RdrPushResult {
  records: RdrRecord[];
  /** records skipped because their fields were malformed (framing intact) */
  errors: AgentError[];
  /** the framing is lost (impossible payload_size): close the connection */
  fatal?: AgentError;
}

/**
 * Incremental decoder for one TCP connection. Bytes of an incomplete record are kept as the
 * chunks they came in and joined once the record is complete (a record trickling in byte by
 * byte costs its size, not its size squared); a record may be at most `maxPayload` bytes after
 * its 5-byte prefix, so one connection never holds more than that plus one chunk.
 */
export class RdrStream {
  private chunks: Uint8Array[] = [];
  private have = 0;
  private offset = 0;
  private dead = false;
  private readonly maxPayload: number;

  constructor(maxPayload = RDR_MAX_PAYLOAD) {
    this.maxPayload = maxPayload;
  }

  /** byte `i` of the pending bytes (i < have) */
  private byteAt(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i] as number;
      i -= c.length;
    }
    return 0;
  }

  /** payload_size of the record at the start of the pending bytes (have >= 5); -1 = not digits */
  private payloadSize(): number {
    return readPayloadSize(new Uint8Array([this.byteAt(1), this.byteAt(2), this.byteAt(3), this.byteAt(4)]), 0);
  }

  push(chunk: Uint8Array): RdrPushResult {
    const res: RdrPushResult = { records: [], errors: [] };
    if (this.dead || chunk.length === 0) return res;
    this.chunks.push(chunk);
    this.have += chunk.length;
    if (this.have < RDR_PREFIX) return res;
    const first = this.payloadSize();
    if (first >= RDR_HEADER && first <= this.maxPayload && this.have < RDR_PREFIX + first) return res;
    // at least one record is complete, or the length is impossible: one contiguous buffer
    let buf: Uint8Array;
    if (this.chunks.length === 1) buf = this.chunks[0] as Uint8Array;
    else {
      buf = new Uint8Array(this.have);
      let o = 0;
      for (const c of this.chunks) {
        buf.set(c, o);
        o += c.length;
      }
    }
    let pos = 0;
    while (buf.length - pos >= RDR_PREFIX) {
      const payload = readPayloadSize(buf, pos + 1);
      if (payload < RDR_HEADER || payload > this.maxPayload) {
        this.dead = true;
        const what = payload < 0 ? `payload_size ${JSON.stringify(String.fromCharCode(...buf.subarray(pos + 1, pos + 5)))} is not four digits` : `payload_size ${payload} is outside ${RDR_HEADER}..${this.maxPayload}`;
        res.fatal = new AgentError('RDR_BAD_LENGTH', `${what}: framing lost`, {
          offset: this.offset + pos + 1,
          payloadSize: payload,
        });
        this.chunks = [];
        this.have = 0;
        return res;
      }
      const end = pos + RDR_PREFIX + payload;
      if (end > buf.length) break;
      try {
        res.records.push(decodeRdr(buf.subarray(pos, end)));
      } catch (e) {
        res.errors.push(e instanceof AgentError ? e : new AgentError('RDR_INVALID', String(e), { offset: this.offset + pos }));
      }
      pos = end;
    }
    this.offset += pos;
    // the tail is copied: the caller may reuse the chunk it passed in
    this.chunks = pos === buf.length ? [] : [buf.slice(pos)];
    this.have = buf.length - pos;
    return res;
  }

  /** Bytes of an incomplete record left when the connection ends. */
  get pendingBytes(): number {
    return this.have;
  }
}
