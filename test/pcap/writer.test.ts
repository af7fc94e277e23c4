import { describe, expect, it } from 'vitest';
import { writePcap, writePcapng } from '../../agent/pcap/writer.ts';
import { toHex } from '../../agent/util/bytes.ts';

describe('capture writer', () => {
  it('classic pcap: 24-byte header then 16-byte record headers (libpcap layout)', () => {
    const b = writePcap(1, [{ time: 1000.5, data: new Uint8Array([0xaa, 0xbb]) }]);
    expect(toHex(b)).toBe(
      ['d4c3b2a1', '0200', '0400', '00000000', '00000000', '00000400', '01000000', '01000000', 'f4010000', '02000000', '02000000', 'aabb'].join(''),
    );
    const ns = writePcap(113, [], { littleEndian: false, nanos: true });
    expect(toHex(ns.subarray(0, 4))).toBe('a1b23c4d');
    expect(toHex(ns.subarray(20, 24))).toBe('00000071');
  });
  it('pcapng: SHB, one IDB per link type, EPB per frame, all 32-bit aligned', () => {
    const b = writePcapng([
      { time: 1, data: new Uint8Array(3), linkType: 1 },
      { time: 2, data: new Uint8Array(5), linkType: 276 },
    ]);
    const dv = new DataView(b.buffer);
    const types: number[] = [];
    for (let o = 0; o < b.length; o += dv.getUint32(o + 4, true)) {
      expect(dv.getUint32(o + 4, true) % 4).toBe(0);
      types.push(dv.getUint32(o, true));
    }
    expect(types).toEqual([0x0a0d0d0a, 1, 1, 6, 6]);
  });
});
