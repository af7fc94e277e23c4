/**
 * pcap and pcapng reader (pure). One incremental parser serves both whole files
 * (strict: the first problem throws a typed PCAP_* error, after the records before it
 * have been delivered) and live streams
 * such as `tcpdump -w -` (`CaptureStream.push(chunk)` → complete records; a record split
 * across chunks waits for the rest; garbled bytes are skipped, counted in `stats`, and the
 * parser resynchronises on the next plausible record).
 *
 * pcap: both byte orders, microsecond (a1b2c3d4) and nanosecond (a1b23c4d) magic.
 * pcapng: SHB (either byte order, several sections), IDB (link type, snaplen, if_tsresol,
 * if_tsoffset), EPB, SPB, and the obsolete packet block; every other block is skipped.
 *
 * Record data are views into the pushed chunks (or into a joined copy when a record
 * straddles chunks); the parser never writes to them.
 */
import { AgentError } from '../errors.ts';

export interface CaptureRecord {
  /** 1-based position among the packet records of the capture (like tshark's frame.number) */
  frame: number;
  /** ms since the epoch, fractional; for pcapng simple packet blocks (no timestamp) the time of the previous record */
  time: number;
  /** false for pcapng simple packet blocks, which carry no timestamp */
  timeKnown: boolean;
  /** LINKTYPE_* of the record's interface */
  linkType: number;
  /** captured bytes (may be shorter than the packet on the wire) */
  data: Uint8Array;
  origLength: number;
  interfaceId: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureStats {
  records: number;
  /** garbled stretches skipped while resynchronising (streaming mode only) */
  garbled: number;
  skippedBytes: number;
  /** pcapng blocks of other types skipped (NRB, ISB, DSB, custom …) */
  otherBlocks: number;
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
const PCAPNG_IDB = 1;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
/** obsolete packet block, still written by old tools: like EPB with a 16-bit interface id */
const PCAPNG_OPB = 2;
/** larger than any real snaplen (tcpdump's maximum is 262144) */
const MAX_RECORD = 0x40000;
const MAX_BLOCK = 16 * 1024 * 1024;
const MAX_STREAM_BLOCK = 1024 * 1024;
/** pcapng block types registered in the pcapng specification (local-use types are not accepted when streaming) */
const KNOWN_TYPES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x0bad, 0x40000bad, PCAPNG_SHB]);
const RESYNC_TYPES = new Set([PCAPNG_SHB, PCAPNG_IDB, PCAPNG_OPB, PCAPNG_SPB, 5 /* ISB */, PCAPNG_EPB]);

interface Iface {
  linkType: number;
  snaplen: number;
  /** ms per timestamp unit */
  msPerUnit: number;
  /** divide ticks by this to get ms when the resolution is 10^-n with n >= 3 (exact) */
  unitsPerMs: number;
  offsetMs: number;
}

function u32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0
    : (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? (b[o] as number) | ((b[o + 1] as number) << 8) : ((b[o] as number) << 8) | (b[o + 1] as number);
}

type Step = { kind: 'need' } | { kind: 'ok'; used: number; record?: CaptureRecord | undefined } | { kind: 'bad'; error: AgentError };
const NEED: Step = { kind: 'need' };

export class CaptureStream {
  readonly strict: boolean;
  readonly stats: CaptureStats = { records: 0, garbled: 0, skippedBytes: 0, otherBlocks: 0 };
  format: CaptureFormat | undefined;

  private buf: Uint8Array = new Uint8Array(0);
  /** absolute offset of buf[0] in the stream, for error details */
  private base = 0;
  private le = false;
  // pcap
  private nanos = false;
  private linkType = 0;
  private snaplen = 0;
  private lastSec = -1;
  // pcapng
  private ifaces: Iface[] = [];
  private lastTime = 0;
  private inGarbage = false;
  private failure: AgentError | undefined;
  private readonly okStep: { kind: 'ok'; used: number; record: CaptureRecord | undefined } = { kind: 'ok', used: 0, record: undefined };

  constructor(opts: { strict?: boolean } = {}) {
    this.strict = opts.strict ?? false;
  }

  /**
   * Feeds bytes; returns every record completed by them. Records (and the unparsed tail the
   * stream keeps) are views into `chunk`: hand over a chunk you will not write to again
   * (stream 'data' Buffers are fine; copy a reused read buffer first).
   */
  push(chunk: Uint8Array): CaptureRecord[] {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return [];
    if (this.buf.length === 0) this.buf = chunk;
    else {
      const j = new Uint8Array(this.buf.length + chunk.length);
      j.set(this.buf, 0);
      j.set(chunk, this.buf.length);
      this.buf = j;
    }
    const out: CaptureRecord[] = [];
    let pos = 0;
    for (;;) {
      const step = this.step(pos);
      if (step.kind === 'need') break;
      if (step.kind === 'ok') {
        if (this.inGarbage) this.inGarbage = false;
        pos += step.used;
        if (step.record) out.push(step.record);
        continue;
      }
      if (this.strict || this.format === undefined) {
        // Records complete before the problem are delivered first; the error is thrown
        // now when there are none, else by the next push() or end().
        if (out.length === 0) throw step.error;
        this.failure = step.error;
        break;
      }
      // streaming: skip one byte and try again (garbage need not keep pcapng's 32-bit
      // alignment; a block is only accepted when its trailing length matches)
      if (!this.inGarbage) {
        this.stats.garbled++;
        this.inGarbage = true;
      }
      pos += 1;
      this.stats.skippedBytes += 1;
    }
    this.base += pos;
    this.buf = pos >= this.buf.length ? new Uint8Array(0) : this.buf.subarray(pos);
    return out;
  }

  /**
   * Hands back the unparsed bytes (the start of a record not complete yet) and forgets them:
   * the caller passes them again at the start of its next chunk, which the stream then needs
   * not join to them in a fresh array. Lets a file reader reuse two read buffers (the tail
   * is copied to the front of the other one) instead of allocating two per chunk.
   */
  takeTail(): Uint8Array {
    const t = this.buf;
    this.buf = new Uint8Array(0);
    return t;
  }

  /**
   * Ends the stream. Leftover bytes are an incomplete record: strict mode throws
   * PCAP_TRUNCATED; streaming mode counts them as skipped.
   */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.buf.length === 0 && this.format !== undefined) return;
    if (this.format === undefined) {
      if (this.strict || this.buf.length > 0) {
        throw new AgentError('PCAP_TRUNCATED', `capture ends after ${this.buf.length} bytes, before its file header is complete`, { offset: this.base + this.buf.length });
      }
      return;
    }
    if (this.strict) {
      throw new AgentError('PCAP_TRUNCATED', `capture ends inside a record: ${this.buf.length} bytes left over`, { offset: this.base, length: this.buf.length });
    }
    this.stats.skippedBytes += this.buf.length;
    this.stats.garbled++;
    this.buf = new Uint8Array(0);
  }

  /** The step of a packet record, in one reused object: push() reads it at once (no allocation per packet). */
  private ok(used: number, record: CaptureRecord): Step {
    this.okStep.used = used;
    this.okStep.record = record;
    return this.okStep;
  }

  private step(pos: number): Step {
    const b = this.buf;
    const avail = b.length - pos;
    if (this.format === undefined) return this.fileHeader(pos, avail);
    if (this.format === 'pcap') return this.pcapRecord(pos, avail);
    return this.ngBlock(pos, avail);
  }

  private fileHeader(pos: number, avail: number): Step {
    const b = this.buf;
    if (avail < 4) return NEED;
    const be = u32(b, pos, false);
    const le = u32(b, pos, true);
    if (be === PCAPNG_SHB) {
      this.format = 'pcapng';
      return this.ngBlock(pos, avail);
    }
    if (be === PCAP_US || be === PCAP_NS || le === PCAP_US || le === PCAP_NS) {
      if (avail < 24) return NEED;
      this.le = le === PCAP_US || le === PCAP_NS;
      this.nanos = (this.le ? le : be) === PCAP_NS;
      this.snaplen = u32(b, pos + 16, this.le);
      this.linkType = u32(b, pos + 20, this.le) & 0xffff;
      this.format = 'pcap';
      return { kind: 'ok', used: 24 };
    }
    return {
      kind: 'bad',
      error: new AgentError('PCAP_BAD_MAGIC', `not a pcap or pcapng capture (first 4 bytes 0x${be.toString(16).padStart(8, '0')})`, { offset: this.base + pos }),
    };
  }

  private pcapRecord(pos: number, avail: number): Step {
    const b = this.buf;
    if (avail < 16) return NEED;
    const le = this.le;
    const sec = u32(b, pos, le);
    const frac = u32(b, pos + 4, le);
    const incl = u32(b, pos + 8, le);
    const orig = u32(b, pos + 12, le);
    const limit = Math.max(this.snaplen, MAX_RECORD);
    const fracMax = this.nanos ? 1e9 : 1e6;
    // Streaming mode also checks what every real record satisfies (fraction below one
    // second, captured <= original length <= 1 MiB); while resynchronising it demands more:
    // a length within the snaplen and a time within a day of the last good record.
    const plausible =
      incl <= limit &&
      (this.strict || (frac < fracMax && orig >= incl && orig <= limit * 4)) &&
      (!this.inGarbage || ((this.snaplen === 0 || incl <= this.snaplen) && (this.lastSec < 0 || Math.abs(sec - this.lastSec) <= 86400)));
    if (!plausible) {
      return {
        kind: 'bad',
        error: new AgentError('PCAP_BAD_RECORD', `record header claims ${incl} captured bytes (limit ${limit})`, { offset: this.base + pos, length: incl }),
      };
    }
    if (avail < 16 + incl) return NEED;
    const time = sec * 1000 + (this.nanos ? frac / 1e6 : frac / 1e3);
    this.lastSec = sec;
    this.stats.records++;
    return this.ok(16 + incl, {
      frame: this.stats.records,
      time,
      timeKnown: true,
      linkType: this.linkType,
      data: b.subarray(pos + 16, pos + 16 + incl),
      origLength: orig,
      interfaceId: 0,
    });
  }

  private ngBlock(pos: number, avail: number): Step {
    const b = this.buf;
    if (avail < 12) return NEED;
    let le = this.le;
    const typeBE = u32(b, pos, false);
    if (typeBE === PCAPNG_SHB) {
      // byte order of the new section from its byte-order magic
      const bom = u32(b, pos + 8, false);
      if (bom === PCAPNG_BOM) le = false;
      else if (u32(b, pos + 8, true) === PCAPNG_BOM) le = true;
      else return this.badBlock(pos, 'section header block has no valid byte-order magic');
    }
    const type = u32(b, pos, le);
    const len = u32(b, pos + 4, le);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) return this.badBlock(pos, `block length ${len} is invalid`);
    // Streaming mode accepts only registered block types up to 1 MiB (so shifted bytes do not
    // pass as a block and stall the stream waiting for a bogus length); while
    // resynchronising, only the types a capture stream carries, with a packet block's length.
    if (!this.strict && (!KNOWN_TYPES.has(type) || len > MAX_STREAM_BLOCK)) return this.badBlock(pos, `unexpected block type 0x${type.toString(16)} or length ${len}`);
    if (this.inGarbage && (!RESYNC_TYPES.has(type) || len > MAX_RECORD + 1024)) return this.badBlock(pos, 'no block here');
    if (avail < len) return NEED;
    if (u32(b, pos + len - 4, le) !== len) return this.badBlock(pos, `block trailing length differs from leading length ${len}`);
    const body = b.subarray(pos + 8, pos + len - 4);
    switch (type) {
      case PCAPNG_SHB:
        if (body.length < 16) return this.badBlock(pos, 'section header block is too short');
        this.le = le;
        this.ifaces = [];
        return { kind: 'ok', used: len };
      case PCAPNG_IDB:
        return this.idb(pos, len, body);
      case PCAPNG_EPB:
        return this.epb(pos, len, body, false);
      case PCAPNG_OPB:
        return this.epb(pos, len, body, true);
      case PCAPNG_SPB:
        return this.spb(pos, len, body);
      default:
        this.stats.otherBlocks++;
        return { kind: 'ok', used: len };
    }
  }

  private badBlock(pos: number, why: string): Step {
    return { kind: 'bad', error: new AgentError('PCAP_BAD_BLOCK', `pcapng: ${why}`, { offset: this.base + pos }) };
  }

  private idb(pos: number, len: number, body: Uint8Array): Step {
    const le = this.le;
    if (body.length < 8) return this.badBlock(pos, 'interface description block is too short');
    const iface: Iface = { linkType: u16(body, 0, le), snaplen: u32(body, 4, le), msPerUnit: 1e-3, unitsPerMs: 1000, offsetMs: 0 };
    let o = 8;
    while (o + 4 <= body.length) {
      const code = u16(body, o, le);
      const olen = u16(body, o + 2, le);
      if (code === 0) break;
      if (o + 4 + olen > body.length) return this.badBlock(pos, `interface option ${code} overruns the block`);
      if (code === 9 && olen >= 1) {
        const r = body[o + 4] as number;
        if (r & 0x80) {
          iface.msPerUnit = 1000 / 2 ** (r & 0x7f);
          iface.unitsPerMs = 0;
        } else if (r >= 3) {
          iface.unitsPerMs = 10 ** (r - 3);
          iface.msPerUnit = 1 / iface.unitsPerMs;
        } else {
          iface.msPerUnit = 10 ** (3 - r);
          iface.unitsPerMs = 0;
        }
      } else if (code === 14 && olen >= 8) {
        const hi = u32(body, o + 4 + (le ? 4 : 0), le) | 0;
        const lo = u32(body, o + 4 + (le ? 0 : 4), le);
        iface.offsetMs = (hi * 4294967296 + lo) * 1000;
      }
      o += 4 + olen + ((4 - (olen % 4)) % 4);
    }
    this.ifaces.push(iface);
    return { kind: 'ok', used: len };
  }

  private epb(pos: number, len: number, body: Uint8Array, obsolete: boolean): Step {
    const le = this.le;
    if (body.length < 20) return this.badBlock(pos, 'enhanced packet block is too short');
    const id = obsolete ? u16(body, 0, le) : u32(body, 0, le);
    const iface = this.ifaces[id];
    if (!iface) {
      return { kind: 'bad', error: new AgentError('PCAP_NO_INTERFACE', `pcapng: packet refers to interface ${id}, which was not described`, { offset: this.base + pos, interfaceId: id }) };
    }
    const ticks = u32(body, 4, le) * 4294967296 + u32(body, 8, le);
    const cap = u32(body, 12, le);
    const orig = u32(body, 16, le);
    if (20 + cap > body.length) return this.badBlock(pos, `packet of ${cap} captured bytes overruns its block`);
    const time = (iface.unitsPerMs ? ticks / iface.unitsPerMs : ticks * iface.msPerUnit) + iface.offsetMs;
    this.lastTime = time;
    this.stats.records++;
    return this.ok(len, { frame: this.stats.records, time, timeKnown: true, linkType: iface.linkType, data: body.subarray(20, 20 + cap), origLength: orig, interfaceId: id });
  }

  private spb(pos: number, len: number, body: Uint8Array): Step {
    const iface = this.ifaces[0];
    if (!iface) {
      return { kind: 'bad', error: new AgentError('PCAP_NO_INTERFACE', 'pcapng: simple packet block before any interface description', { offset: this.base + pos, interfaceId: 0 }) };
    }
    if (body.length < 4) return this.badBlock(pos, 'simple packet block is too short');
    const orig = u32(body, 0, this.le);
    let cap = Math.min(orig, body.length - 4);
    if (iface.snaplen > 0) cap = Math.min(cap, iface.snaplen);
    this.stats.records++;
    return {
      kind: 'ok',
      used: len,
      record: { frame: this.stats.records, time: this.lastTime, timeKnown: false, linkType: iface.linkType, data: body.subarray(4, 4 + cap), origLength: orig, interfaceId: 0 },
    };
  }
}

/** Reads a whole capture file's bytes; the first problem throws a typed PCAP_* error. */
export function readCapture(bytes: Uint8Array): { format: CaptureFormat; records: CaptureRecord[] } {
  const s = new CaptureStream({ strict: true });
  const records = s.push(bytes);
  s.end();
  return { format: s.format ?? 'pcap', records };
}
