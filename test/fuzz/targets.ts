/**
 * The codec properties of the unit tests as named fuzz targets, for `make fuzz` (scripts/fuzz.ts,
 * millions of cases) and test/fuzz/targets.test.ts (a few hundred cases each in `make test`).
 * Plain node:assert, no vitest: the fuzz workers run outside vitest.
 * Targets: DHCP codec, option 43, pcap/pcapng reader, RDRv1 frames, TFTP packets — each with a
 * round trip over generated values, random bytes, and random bytes behind a valid header/magic
 * (random bytes alone almost never pass a magic check).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, peekMessageType } from '../../agent/dhcp/codec.ts';
import { MAGIC_COOKIE, type DhcpMessage } from '../../agent/dhcp/message.ts';
import { AgentError, isAgentError } from '../../agent/errors.ts';
import { RdrStream, RdrType, decodeRdr, encodeRdr, type RdrField, type RdrRecord } from '../../agent/leg/rdr.ts';
import { decodeOption43, encodeOption43, type Md5WireFormat } from '../../agent/option43/codec.ts';
import { CTS_PROFILE } from '../../agent/option43/profiles/cts.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import { dhcpPackets } from '../../agent/pcap/dhcp.ts';
import { CaptureStream, readCapture } from '../../agent/pcap/reader.ts';
import { writePcap, writePcapng, type FrameIn } from '../../agent/pcap/writer.ts';
import { decodePacket, encodePacket, type TftpPacket } from '../../agent/transfer/tftp-packets.ts';
import { toHex } from '../../agent/util/bytes.ts';
import { dhcpFrame } from '../pcap/fixtures.ts';

export interface FuzzParams {
  numRuns: number;
  seed: number;
  path?: string;
}

export interface FuzzResult {
  failed: boolean;
  numRuns: number;
  seed: number;
  path: string | null;
  counterexample: string;
  error: string;
}

export interface FuzzTarget {
  name: string;
  /** share of the case count (the cheap random-bytes targets get 4, the generators 1) */
  weight: number;
  run(p: FuzzParams): FuzzResult;
}

function target<Ts extends [unknown, ...unknown[]]>(name: string, make: () => fc.IPropertyWithHooks<Ts>, weight = 1): FuzzTarget {
  let prop: fc.IPropertyWithHooks<Ts> | undefined;
  return {
    name,
    weight,
    run(p) {
      prop ??= make();
      const d = fc.check(prop, { numRuns: p.numRuns, seed: p.seed, ...(p.path === undefined ? {} : { path: p.path }) });
      return {
        failed: d.failed,
        numRuns: d.numRuns,
        seed: d.seed,
        path: d.counterexamplePath,
        counterexample: d.counterexample === null ? '' : fc.stringify(d.counterexample),
        error: d.errorInstance instanceof Error ? (d.errorInstance.stack ?? d.errorInstance.message) : String(d.errorInstance ?? ''),
      };
    },
  };
}

/** Throws unless `f` returns or throws an AgentError whose code starts with `prefix`. */
function onlyTyped(prefix: string, f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (!(e instanceof AgentError)) throw new Error(`not an AgentError: ${String(e)}`, { cause: e });
    assert.ok(e.code.startsWith(prefix), `code ${e.code} does not start with ${prefix}`);
    return false;
  }
}

/** Deep equality of values, not of prototypes (fast-check builds records without one). */
const same = (actual: unknown, expected: unknown): void => assert.deepStrictEqual(structuredClone(actual), structuredClone(expected));

const bytes = (maxLength: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength, size: 'max' });
const flips = (maxLength: number): fc.Arbitrary<[number, number][]> => fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength });

// ------------------------------------------------------------------------- DHCP codec

const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const optionCode = fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52);
export const arbDhcpMessage: fc.Arbitrary<DhcpMessage> = fc
  .record({
    op: fc.constantFrom(1, 2),
    htype: fc.nat(255),
    hlen: fc.nat(16),
    hops: fc.nat(255),
    xid: fc.nat({ max: 0xffffffff }),
    secs: fc.nat(0xffff),
    flags: fc.nat(0xffff),
    ciaddr: ip,
    yiaddr: ip,
    siaddr: ip,
    giaddr: ip,
    chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    sname: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    file: fc.uint8Array({ minLength: 128, maxLength: 128 }),
    options: fc.uniqueArray(fc.record({ code: optionCode, data: fc.oneof({ weight: 4, arbitrary: bytes(40) }, { weight: 1, arbitrary: bytes(700) }) }), {
      selector: (o) => o.code,
      maxLength: 20,
      size: 'max',
    }),
  })
  .map((m): DhcpMessage => m);

/** A BOOTP header with the magic cookie, option 52 (overload `ov`) first, sname/file from `fields`. */
export function dhcpHeader(fields: Uint8Array, ov: number, tail: Uint8Array): Uint8Array {
  const b = new Uint8Array(243 + tail.length);
  b.set([1, 1, 6, 0]);
  b.set(fields, 44);
  new DataView(b.buffer).setUint32(236, MAGIC_COOKIE);
  b.set([52, 1, ov], 240);
  b.set(tail, 243);
  return b;
}

function decodeDhcpTyped(b: Uint8Array): void {
  try {
    decodeMessage(b);
  } catch (e) {
    if (!(e instanceof AgentError)) throw new Error(`not an AgentError: ${String(e)}`, { cause: e });
    assert.match(e.code, /^DHCP_/);
    assert.equal(typeof e.details['offset'], 'number', 'error without an offset');
  }
}

/** What decodeMessage says the type is: option 53 when one byte, else 0; undefined when it throws. */
function decodedType(b: Uint8Array): number | undefined {
  let m: DhcpMessage;
  try {
    m = decodeMessage(b);
  } catch (e) {
    assert.ok(e instanceof AgentError);
    return undefined;
  }
  const o = m.options.find((x) => x.code === 53);
  return o && o.data.length === 1 ? (o.data[0] as number) : 0;
}

const dhcp: FuzzTarget[] = [
  target('dhcp.roundtrip', () => fc.property(arbDhcpMessage, (m) => same(decodeMessage(encodeMessage(m)), m))),
  target('dhcp.max-size', () =>
    fc.property(arbDhcpMessage, fc.integer({ min: 300, max: 1500 }), (m, maxSize) => {
      let e: Uint8Array;
      try {
        e = encodeMessage(m, { maxSize });
      } catch (err) {
        assert.ok(isAgentError(err, 'DHCP_TOO_LARGE'), String(err));
        return;
      }
      assert.ok(e.length <= Math.max(maxSize, 300), `${e.length} > ${maxSize}`);
      same(decodeMessage(e).options, m.options);
    }),
  ),
  target('dhcp.random-bytes', () => fc.property(bytes(700), (b) => decodeDhcpTyped(b)), 4),
  target('dhcp.valid-header', () =>
    fc.property(bytes(400), fc.uint8Array({ minLength: 192, maxLength: 192 }), fc.nat(3), (tail, fields, ov) => {
      const b = dhcpHeader(fields, ov, tail);
      decodeDhcpTyped(b);
      assert.equal(peekMessageType(b), decodedType(b));
    }),
  ),
  target('dhcp.corrupted', () =>
    fc.property(arbDhcpMessage, flips(8), fc.nat(40), (m, fl, cut) => {
      let e: Uint8Array;
      try {
        e = encodeMessage(m, { maxSize: 576 });
      } catch (err) {
        assert.ok(isAgentError(err, 'DHCP_TOO_LARGE'), String(err));
        e = encodeMessage(m);
      }
      for (const [at, v] of fl) e[at % e.length] = v;
      const b = e.subarray(0, Math.max(0, e.length - cut));
      decodeDhcpTyped(b);
      assert.equal(peekMessageType(b), decodedType(b));
    }),
  ),
];

// ------------------------------------------------------------------------- option 43

const arbOffer: fc.Arbitrary<Option43Offer> = fc
  .record(
    {
      protocol: fc.constantFrom('tftp' as const, 'ftp' as const),
      server: ip,
      user: fc.string({ maxLength: 30, size: 'max' }),
      password: fc.string({ maxLength: 30, size: 'max' }),
      softwareFile: fc.string({ minLength: 1, maxLength: 100, size: 'max' }),
      softwareMd5: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(toHex),
      configFile: fc.string({ maxLength: 60, size: 'max' }),
      configMd5: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(toHex),
      flags: fc.nat(0xffff),
    },
    { requiredKeys: [] },
  )
  .map((o): Option43Offer => {
    const offer: Option43Offer = { ...o, unknown: [] };
    if (o.flags !== undefined) offer.urgent = (o.flags & 1) === 1;
    for (const k of ['user', 'password', 'softwareFile', 'configFile'] as const) if (offer[k] !== undefined) offer[k] = (offer[k] as string).replace(/\0+$/, '');
    return offer;
  });

/** Well-formed sub-option TLVs (codes 0..255, pad and end included) with random contents. */
const opt43Tlvs = fc
  .array(fc.tuple(fc.nat(255), bytes(40)), { maxLength: 12, size: 'max' })
  .map((subs) => new Uint8Array(subs.flatMap(([c, d]) => (c === 0 || c === 255 ? [c] : [c, d.length, ...d]))));

const opt43: FuzzTarget[] = [
  target('opt43.roundtrip', () =>
    fc.property(
      arbOffer,
      fc.constantFrom<Md5WireFormat>('raw', 'hex', 'colon'),
      fc.uniqueArray(fc.record({ code: fc.integer({ min: 10, max: 254 }), hex: bytes(20).map(toHex) }), { selector: (u) => u.code, maxLength: 3 }),
      (offer, md5Format, unknown) => {
        const o = { ...offer, unknown };
        same(decodeOption43(CTS_PROFILE, encodeOption43(o, CTS_PROFILE, { md5Format })), o);
      },
    ),
  ),
  target('opt43.random-bytes', () => fc.property(bytes(300), (b) => void onlyTyped('OPT43_', () => decodeOption43(CTS_PROFILE, b))), 4),
  target('opt43.valid-tlvs', () => fc.property(opt43Tlvs, (b) => void onlyTyped('OPT43_', () => decodeOption43(CTS_PROFILE, b))), 4),
];

// ------------------------------------------------------------------------- pcap / pcapng

const T0 = Date.UTC(2026, 10, 23, 18, 0, 0);
const frames: FrameIn[] = [1, 2, 3, 4].map((i) => ({ time: T0 + i * 1000 + i * 0.25, data: dhcpFrame(0x1000 + i, i % 2 ? 1 : 2) }));
let captures: Uint8Array[] | undefined;
const validCaptures = (): Uint8Array[] =>
  (captures ??= [writePcap(1, frames), writePcap(1, frames, { littleEndian: false, nanos: true }), writePcapng(frames), writePcapng(frames, { littleEndian: false })]);

function readBoth(b: Uint8Array, chunks: number[]): void {
  onlyTyped('PCAP_', () => [...dhcpPackets(readCapture(b).records)]);
  const s = new CaptureStream();
  onlyTyped('PCAP_', () => {
    let o = 0;
    const recs = [];
    for (const n of chunks) {
      recs.push(...s.push(b.subarray(o, o + n)));
      o += n;
    }
    recs.push(...s.push(b.subarray(o)));
    s.end();
    for (const p of dhcpPackets(recs)) if (p.error) assert.match(p.error.code, /^DHCP_/);
  });
}

const chunking = fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 8 });
const pcap: FuzzTarget[] = [
  target('pcap.random-bytes', () => fc.property(bytes(400), chunking, (b, ch) => readBoth(b, ch)), 4),
  target('pcap.valid-magic', () =>
    fc.property(fc.nat(3), flips(10), fc.nat(64), chunking, (which, fl, cut, ch) => {
      const src = validCaptures()[which] as Uint8Array;
      const b = src.slice(0, Math.max(4, src.length - cut));
      for (const [at, v] of fl) b[4 + (at % (b.length - 4))] = v; // keep the magic
      readBoth(b, ch);
    }),
  ),
];

// ------------------------------------------------------------------------- RDRv1

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const rdrField: fc.Arbitrary<RdrField> = fc.oneof(
  fc.integer({ min: -128, max: 127 }).map((value) => ({ type: RdrType.INT8 as number, value })),
  fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type: RdrType.INT16 as number, value })),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((value) => ({ type: RdrType.INT32 as number, value })),
  fc.nat(255).map((value) => ({ type: RdrType.UINT8 as number, value })),
  fc.nat(0xffff).map((value) => ({ type: RdrType.UINT16 as number, value })),
  u32.map((value) => ({ type: RdrType.UINT32 as number, value })),
  fc.float({ noNaN: true }).map((value) => ({ type: RdrType.FLOAT as number, value })),
  fc.boolean().map((value) => ({ type: RdrType.BOOLEAN as number, value })),
  bytes(60).map((value) => ({ type: RdrType.STRING as number, value })),
);
const arbRdr: fc.Arbitrary<RdrRecord> = fc.record({
  ppc: fc.nat(255),
  src: fc.nat(255),
  dst: fc.nat(255),
  srcPort: fc.nat(0xffff),
  dstPort: fc.nat(0xffff),
  flowContextId: u32,
  tag: u32,
  fields: fc.array(rdrField, { maxLength: 30, size: 'max' }),
});

/** Stream bytes through RdrStream in the given chunks; everything it hands back is typed. */
function streamRdr(b: Uint8Array, chunks: number[]): RdrRecord[] {
  const s = new RdrStream();
  const out: RdrRecord[] = [];
  let o = 0;
  for (const n of [...chunks, b.length]) {
    const r = s.push(b.subarray(o, o + n));
    o += n;
    out.push(...r.records);
    for (const e of r.errors) assert.match(e.code, /^RDR_/);
    if (r.fatal) assert.match(r.fatal.code, /^RDR_/);
  }
  return out;
}

const rdr: FuzzTarget[] = [
  target('rdr.roundtrip', () =>
    fc.property(fc.array(arbRdr, { minLength: 1, maxLength: 4 }), chunking, (recs, ch) => {
      for (const r of recs) same(decodeRdr(encodeRdr(r)), r);
      const wire = new Uint8Array(recs.flatMap((r) => [...encodeRdr(r)]));
      same(streamRdr(wire, ch), recs);
    }),
  ),
  target('rdr.random-bytes', () =>
    fc.property(bytes(300), chunking, (b, ch) => {
      onlyTyped('RDR_', () => decodeRdr(b));
      streamRdr(b, ch);
    }),
    4,
  ),
  target('rdr.corrupted', () =>
    fc.property(arbRdr, flips(6), chunking, (r, fl, ch) => {
      const b = encodeRdr(r);
      for (const [at, v] of fl) b[at % b.length] = v;
      onlyTyped('RDR_', () => decodeRdr(b));
      streamRdr(b, ch);
    }),
    4,
  ),
];

// ------------------------------------------------------------------------- TFTP packets

const noNul = fc.string({ maxLength: 40, size: 'max' }).filter((s) => !s.includes('\0'));
const tftpOptions = fc.array(fc.tuple(noNul, noNul), { maxLength: 6 });
const arbTftp: fc.Arbitrary<TftpPacket> = fc.oneof(
  fc.record({ op: fc.constantFrom('rrq' as const, 'wrq' as const), file: noNul, mode: noNul, options: tftpOptions }),
  fc.record({ op: fc.constant('data' as const), block: fc.integer({ min: 0, max: 65535 }), data: bytes(1500) }),
  fc.record({ op: fc.constant('ack' as const), block: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ op: fc.constant('error' as const), code: fc.integer({ min: 0, max: 65535 }), message: noNul }),
  fc.record({ op: fc.constant('oack' as const), options: tftpOptions }),
);
const tftpDecodes = (b: Uint8Array): void => {
  if (onlyTyped('TFTP_MALFORMED', () => decodePacket(b))) assert.ok(['rrq', 'wrq', 'data', 'ack', 'error', 'oack'].includes(decodePacket(b).op));
};

const tftp: FuzzTarget[] = [
  target('tftp.roundtrip', () =>
    fc.property(arbTftp, (p) => {
      const d = decodePacket(encodePacket(p));
      same(d, p);
    }),
    4,
  ),
  target('tftp.random-bytes', () => fc.property(bytes(600), tftpDecodes), 4),
  target('tftp.valid-opcode', () => fc.property(fc.integer({ min: 0, max: 7 }), bytes(100), (op, rest) => tftpDecodes(new Uint8Array([0, op, ...rest]))), 4),
];

export const TARGETS: readonly FuzzTarget[] = [...dhcp, ...opt43, ...pcap, ...rdr, ...tftp];
