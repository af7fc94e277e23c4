import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CaptureStream, readCapture, type CaptureRecord } from '../../agent/pcap/reader.ts';
import { writePcap, writePcapng, type FrameIn } from '../../agent/pcap/writer.ts';
import { dhcpPackets } from '../../agent/pcap/dhcp.ts';
import { LinkType } from '../../agent/pcap/frames.ts';
import { AgentError } from '../../agent/errors.ts';
import { dhcpFrame, ipUdp, sll, sll2, ethernet } from './fixtures.ts';
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import { dhcpMessage } from './fixtures.ts';
import { captureBytes } from '../dhcp/captures.ts';
import { errorOf } from '../helpers/errors.ts';

const T0 = Date.UTC(2026, 10, 23, 18, 0, 0);
const frames: FrameIn[] = [1, 2, 3, 4].map((i) => ({ time: T0 + i * 1000 + i * 0.25, data: dhcpFrame(0x1000 + i, i % 2 ? 1 : 2) }));

const summary = (rs: CaptureRecord[]): [number, number, number, number][] => rs.map((r) => [r.frame, r.time, r.linkType, r.data.length]);

describe('classic pcap', () => {
  for (const littleEndian of [true, false]) {
    for (const nanos of [false, true]) {
      it(`${littleEndian ? 'little' : 'big'}-endian, ${nanos ? 'nanosecond' : 'microsecond'} magic`, () => {
        const { format, records } = readCapture(writePcap(LinkType.ETHERNET, frames, { littleEndian, nanos }));
        expect(format).toBe('pcap');
        expect(records.map((r) => r.frame)).toEqual([1, 2, 3, 4]);
        records.forEach((r, i) => {
          expect(r.time).toBeCloseTo((frames[i] as FrameIn).time, 6);
          expect(r.data).toEqual((frames[i] as FrameIn).data);
          expect(r.linkType).toBe(1);
        });
        expect([...dhcpPackets(records)].map((p) => p.message?.xid)).toEqual([0x1001, 0x1002, 0x1003, 0x1004]);
      });
    }
  }
  it('reads the shared third-party captures', () => {
    expect(readCapture(captureBytes('zeek_dhcp.pcap')).records.length).toBe(9);
    expect(readCapture(captureBytes('tcpdump_dhcp-rfc4388.pcap')).records.length).toBe(54);
  });
});

describe('pcapng', () => {
  const mixed: FrameIn[] = [
    { time: T0 + 1.5, data: dhcpFrame(1), linkType: LinkType.ETHERNET },
    { time: T0 + 2.25, data: sll(ipUdp(encodeMessage(dhcpMessage(2)))), linkType: LinkType.LINUX_SLL },
    { time: T0 + 3.125, data: sll2(ipUdp(encodeMessage(dhcpMessage(3)))), linkType: LinkType.LINUX_SLL2 },
    { time: T0 + 4, data: ipUdp(encodeMessage(dhcpMessage(4))), linkType: LinkType.RAW },
    { time: T0 + 5, data: ethernet(ipUdp(encodeMessage(dhcpMessage(5))), [10, 20], [0x88a8, 0x8100]), linkType: LinkType.ETHERNET },
  ];
  for (const littleEndian of [true, false]) {
    for (const tsresol of [6, 9, 0x80 | 20]) {
      it(`${littleEndian ? 'LE' : 'BE'} section, if_tsresol ${tsresol}, one interface per link type`, () => {
        const { format, records } = readCapture(writePcapng(mixed, { littleEndian, tsresol }));
        expect(format).toBe('pcapng');
        expect(records.map((r) => r.linkType)).toEqual([1, 113, 276, 101, 1]);
        records.forEach((r, i) => expect(r.time).toBeCloseTo((mixed[i] as FrameIn).time, 3));
        expect([...dhcpPackets(records)].map((p) => p.message?.xid)).toEqual([1, 2, 3, 4, 5]);
      });
    }
  }
  it('several sections with different byte orders (concatenated pcapng files)', () => {
    const a = writePcapng([{ time: T0, data: dhcpFrame(21) }], { littleEndian: true });
    const b = writePcapng([{ time: T0 + 1, data: sll2(ipUdp(encodeMessage(dhcpMessage(22)))), linkType: LinkType.LINUX_SLL2 }], { littleEndian: false, tsresol: 9 });
    const { records } = readCapture(new Uint8Array(Buffer.concat([a, b])));
    expect(records.map((r) => [r.frame, r.linkType, r.time])).toEqual([
      [1, 1, T0],
      [2, 276, T0 + 1],
    ]);
    expect([...dhcpPackets(records)].map((p) => p.message?.xid)).toEqual([21, 22]);
  });
  it('skips other blocks, reads simple packet blocks (time of the previous record) and obsolete packet blocks', () => {
    const base = writePcapng([{ time: T0, data: dhcpFrame(7) }]);
    const le = true;
    const block = (type: number, body: Uint8Array): Uint8Array => {
      const b = new Uint8Array(12 + body.length);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, type, le);
      dv.setUint32(4, b.length, le);
      b.set(body, 8);
      dv.setUint32(b.length - 4, b.length, le);
      return b;
    };
    const f = dhcpFrame(8);
    const spbBody = new Uint8Array(4 + f.length + ((4 - (f.length % 4)) % 4));
    new DataView(spbBody.buffer).setUint32(0, f.length, le);
    spbBody.set(f, 4);
    // obsolete packet block (type 2): 16-bit interface id, 16-bit drops, then as EPB
    const g = dhcpFrame(9);
    const opbBody = new Uint8Array(20 + g.length + ((4 - (g.length % 4)) % 4));
    const odv = new DataView(opbBody.buffer);
    const ticks = BigInt(T0 + 7) * 1000n;
    odv.setUint32(4, Number(ticks >> 32n), le);
    odv.setUint32(8, Number(ticks & 0xffffffffn), le);
    odv.setUint32(12, g.length, le);
    odv.setUint32(16, g.length, le);
    opbBody.set(g, 20);
    const all = Buffer.concat([base, block(5, new Uint8Array(12)), block(0x0bad, new Uint8Array(8)), block(3, spbBody), block(2, opbBody)]);
    const s = new CaptureStream({ strict: true });
    const recs = s.push(new Uint8Array(all));
    s.end();
    expect(s.stats.otherBlocks).toBe(2);
    expect(recs.map((r) => [r.frame, r.timeKnown, r.time])).toEqual([
      [1, true, T0],
      [2, false, T0],
      [3, true, T0 + 7],
    ]);
    expect([...dhcpPackets(recs)].map((p) => p.message?.xid)).toEqual([7, 8, 9]);
  });
});

describe('streaming (tcpdump -w -)', () => {
  const file = writePcap(LinkType.ETHERNET, frames);
  const whole = summary(readCapture(file).records);
  it('every split into two chunks gives the same records', () => {
    for (let cut = 0; cut <= file.length; cut++) {
      const s = new CaptureStream();
      const recs = [...s.push(file.subarray(0, cut)), ...s.push(file.subarray(cut))];
      s.end();
      expect(summary(recs)).toEqual(whole);
    }
  });
  it('any chunking gives the same records, pcap and pcapng', () => {
    const ng = writePcapng(frames, { littleEndian: false, tsresol: 9 });
    const wholeNg = summary(readCapture(ng).records);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 40, size: '+1' }), fc.boolean(), (sizes, useNg) => {
        const src = useNg ? ng : file;
        const s = new CaptureStream();
        const recs: CaptureRecord[] = [];
        let o = 0;
        for (const n of sizes) {
          recs.push(...s.push(src.subarray(o, o + n)));
          o += n;
        }
        recs.push(...s.push(src.subarray(o)));
        s.end();
        expect(summary(recs)).toEqual(useNg ? wholeNg : whole);
      }),
      { numRuns: 300 },
    );
  });
  it('takeTail: the tail handed back at the start of the next chunk (reused buffers) gives what plain pushes give', () => {
    const ng = writePcapng(frames, { littleEndian: false, tsresol: 9 });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 40, size: '+1' }), fc.boolean(), fc.uint8Array({ maxLength: 48, size: 'max' }), fc.nat(), (sizes, useNg, junk, at) => {
        const clean = useNg ? ng : file;
        const cut = 100 + (at % (clean.length - 99)); // after the file header
        const src = new Uint8Array([...clean.subarray(0, cut), ...junk, ...clean.subarray(cut)]);
        const plain = new CaptureStream();
        const tailed = new CaptureStream();
        const want: CaptureRecord[] = [];
        const got: CaptureRecord[] = [];
        const bufs = [new Uint8Array(2048), new Uint8Array(2048)];
        let o = 0;
        for (const [i, n] of [...sizes, src.length].entries()) {
          const part = src.subarray(o, o + n);
          o += part.length;
          want.push(...plain.push(part));
          const tail = tailed.takeTail();
          if (tail.length + part.length > (bufs[i % 2] as Uint8Array).length) bufs[i % 2] = new Uint8Array(tail.length + part.length);
          const buf = bufs[i % 2] as Uint8Array;
          buf.set(tail, 0);
          buf.set(part, tail.length);
          // records are used before the buffer is written again: summarise now
          const recs = tailed.push(buf.subarray(0, tail.length + part.length));
          got.push(...recs.map((r) => ({ ...r, data: r.data.slice() })));
        }
        plain.end();
        tailed.end();
        expect(summary(got)).toEqual(summary(want));
        expect(got.map((r) => [...r.data])).toEqual(want.map((r) => [...r.data]));
        expect(tailed.stats).toEqual(plain.stats);
      }),
      { numRuns: 100 },
    );
  });
  it('garbage between records is skipped and counted; later records still arrive', () => {
    const head = file.subarray(0, 24);
    const rec = (i: number): Uint8Array => writePcap(LinkType.ETHERNET, [frames[i] as FrameIn]).subarray(24);
    const junk = new Uint8Array(37).fill(0xff);
    const s = new CaptureStream();
    const recs = [...s.push(head), ...s.push(rec(0)), ...s.push(junk), ...s.push(rec(1)), ...s.push(rec(2))];
    s.end();
    expect([...dhcpPackets(recs)].map((p) => p.message?.xid)).toEqual([0x1001, 0x1002, 0x1003]);
    expect(s.stats.garbled).toBe(1);
    expect(s.stats.skippedBytes).toBe(37);
  });
  it('pcapng: unaligned garbage between blocks is skipped; later blocks still arrive', () => {
    const ng = writePcapng(frames);
    const dv = new DataView(ng.buffer);
    const starts: number[] = [];
    for (let o = 0; o < ng.length; o += dv.getUint32(o + 4, true)) starts.push(o);
    const cut = starts[3] as number; // SHB, IDB, EPB#1 | EPB#2 …
    const junk = new Uint8Array(37).map((_, i) => (i * 89 + 7) & 0xff);
    const s = new CaptureStream();
    const recs = [...s.push(ng.subarray(0, cut)), ...s.push(junk), ...s.push(ng.subarray(cut))];
    s.end();
    expect([...dhcpPackets(recs)].map((p) => p.message?.xid)).toEqual([0x1001, 0x1002, 0x1003, 0x1004]);
    expect(s.stats.garbled).toBe(1);
    expect(s.stats.skippedBytes).toBe(37);
  });
  it('random junk (1-64 bytes) at any record boundary: every record is still recovered (pcap LE/BE, µs/ns, pcapng)', () => {
    const many: FrameIn[] = Array.from({ length: 10 }, (_, i) => ({ time: T0 + i * 10, data: dhcpFrame(0x2000 + i) }));
    const variants = [
      writePcap(1, many),
      writePcap(1, many, { littleEndian: false, nanos: true }),
      writePcapng(many),
      writePcapng(many, { littleEndian: false, tsresol: 9 }),
    ];
    const boundaries = variants.map((f, w) => {
      if (w < 2) {
        const out = [24];
        for (const m of many) out.push((out[out.length - 1] as number) + 16 + m.data.length);
        return out.slice(1, -1);
      }
      const dv = new DataView(f.buffer);
      const le = w === 2;
      const out: number[] = [];
      for (let o = 0; o < f.length; o += dv.getUint32(o + 4, le)) out.push(o);
      return out.slice(3); // after SHB, IDB and the first EPB
    });
    fc.assert(
      fc.property(fc.nat(3), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64, size: 'max' }), (w, k, junk) => {
        const f = variants[w] as Uint8Array;
        const b = boundaries[w] as number[];
        const cut = b[k % b.length] as number;
        const s = new CaptureStream();
        const recs = [...s.push(f.subarray(0, cut)), ...s.push(junk), ...s.push(f.subarray(cut))];
        s.end();
        expect([...dhcpPackets(recs)].map((p) => p.message?.xid)).toEqual(many.map((_, i) => 0x2000 + i));
      }),
      { numRuns: 1000, seed: 20261123 },
    );
  });
  it('a truncated tail is counted on end(), not thrown', () => {
    const s = new CaptureStream();
    const recs = s.push(file.subarray(0, file.length - 10));
    s.end();
    expect(recs.length).toBe(3);
    expect(s.stats.garbled).toBe(1);
  });
});

describe('bad captures: typed PCAP_* errors', () => {
  const ng = writePcapng(frames);
  const cases: [string, Uint8Array, string][] = [
    ['not a capture', new TextEncoder().encode('hello, this is text'), 'PCAP_BAD_MAGIC'],
    ['empty file', new Uint8Array(0), 'PCAP_TRUNCATED'],
    ['header only partly there', writePcap(1, []).subarray(0, 10), 'PCAP_TRUNCATED'],
    ['record cut short', writePcap(1, frames).subarray(0, 100), 'PCAP_TRUNCATED'],
    [
      'record length beyond any snaplen',
      (() => {
        const b = writePcap(1, frames);
        new DataView(b.buffer).setUint32(24 + 8, 0x7fffffff, true);
        return b;
      })(),
      'PCAP_BAD_RECORD',
    ],
    [
      'pcapng trailing length mismatch',
      (() => {
        const b = ng.slice();
        b[b.length - 1] = (b[b.length - 1] as number) ^ 0x10;
        return b;
      })(),
      'PCAP_BAD_BLOCK',
    ],
    [
      'pcapng packet for an undescribed interface',
      (() => {
        const b = ng.slice();
        const shbLen = new DataView(b.buffer).getUint32(4, true);
        const idbLen = new DataView(b.buffer).getUint32(shbLen + 4, true);
        new DataView(b.buffer).setUint32(shbLen + idbLen + 8, 3, true);
        return b;
      })(),
      'PCAP_NO_INTERFACE',
    ],
  ];
  for (const [name, bytes, code] of cases) {
    it(name, () => {
      const e = errorOf(() => readCapture(bytes));
      expect(e.code).toBe(code);
      expect(typeof e.details['offset']).toBe('number');
    });
  }
});

describe('strict stream: records before the damage are delivered, then the error', () => {
  it('push returns the good records; the next push or end() throws the typed error', () => {
    const b = writePcap(1, frames);
    const second = 24 + 16 + (frames[0] as FrameIn).data.length;
    new DataView(b.buffer).setUint32(second + 8, 0x7fffffff, true); // damage record 2
    const s = new CaptureStream({ strict: true });
    expect(s.push(b).map((r) => r.frame)).toEqual([1]);
    expect(errorOf(() => s.end()).code).toBe('PCAP_BAD_RECORD');
    expect(errorOf(() => s.push(new Uint8Array(1))).code).toBe('PCAP_BAD_RECORD');
    expect(errorOf(() => readCapture(b)).code).toBe('PCAP_BAD_RECORD');
  });
});

describe('fuzz: never anything but PCAP_* errors', () => {
  const isPcapError = (e: unknown): void => {
    expect(e).toBeInstanceOf(AgentError);
    expect((e as AgentError).code).toMatch(/^PCAP_/);
  };
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400, size: 'max' }), (b) => {
        try {
          [...dhcpPackets(readCapture(b).records)];
        } catch (e) {
          isPcapError(e);
        }
      }),
      { numRuns: 2000 },
    );
  });
  it('corrupted valid files, strict and streaming', () => {
    const files = [writePcap(1, frames), writePcap(1, frames, { littleEndian: false, nanos: true }), writePcapng(frames), writePcapng(frames, { littleEndian: false })];
    fc.assert(
      fc.property(fc.nat(3), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 10 }), (which, flips) => {
        const b = (files[which] as Uint8Array).slice();
        for (const [at, v] of flips) b[4 + (at % (b.length - 4))] = v; // keep the magic
        try {
          [...dhcpPackets(readCapture(b).records)];
        } catch (e) {
          isPcapError(e);
        }
        const s = new CaptureStream();
        try {
          const recs = s.push(b);
          s.end();
          for (const p of dhcpPackets(recs)) if (p.error) expect(p.error.code).toMatch(/^DHCP_/);
        } catch (e) {
          isPcapError(e);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
