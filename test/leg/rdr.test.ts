import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RdrStream, RdrType, decodeRdr, encodeRdr, type RdrRecord } from '../../agent/leg/rdr.ts';
import { isAgentError } from '../../agent/errors.ts';

const rec: RdrRecord = {
  ppc: 1,
  src: 2,
  dst: 3,
  srcPort: 33000,
  dstPort: 33110,
  flowContextId: 0xdeadbeef,
  tag: 0xf0f0f042,
  fields: [
    { type: RdrType.INT8, value: -5 },
    { type: RdrType.INT16, value: -30000 },
    { type: RdrType.INT32, value: -2_000_000_000 },
    { type: RdrType.UINT8, value: 250 },
    { type: RdrType.UINT16, value: 65000 },
    { type: RdrType.UINT32, value: 4_000_000_000 },
    { type: RdrType.FLOAT, value: 1.5 },
    { type: RdrType.BOOLEAN, value: true },
    { type: RdrType.STRING, value: new TextEncoder().encode('hello') },
  ],
};

describe('RDRv1 codec', () => {
  it('encodes the documented layout: payload_size (four ASCII digits) counts the bytes after the 5-byte prefix', () => {
    const b = encodeRdr({ ...rec, fields: [{ type: RdrType.UINT8, value: 7 }] });
    expect(Buffer.from(b).toString('hex')).toBe(
      '01' + // ppc_num
        '30303231' + // payload_size "0021" = 15 header + 6 field
        '02' + '03' + '80e8' + '8156' + 'deadbeef' + 'f0f0f042' + '01' + // header
        '0e' + '00000001' + '07', // uint8 field
    );
  });

  it('round-trips every field type', () => {
    expect(decodeRdr(encodeRdr(rec))).toEqual(rec);
  });

  it('round-trips arbitrary records (fast-check)', () => {
    const field = fc.oneof(
      fc.integer({ min: -128, max: 127 }).map((v) => ({ type: RdrType.INT8 as number, value: v })),
      fc.integer({ min: 0, max: 0xffffffff }).map((v) => ({ type: RdrType.UINT32 as number, value: v })),
      fc.boolean().map((v) => ({ type: RdrType.BOOLEAN as number, value: v })),
      fc.uint8Array({ maxLength: 40, size: 'max' }).map((v) => ({ type: RdrType.STRING as number, value: v })),
    );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 30, size: 'max' }), fc.integer({ min: 0, max: 0xffffffff }), (fields, tag) => {
        const r = { ...rec, tag, fields };
        expect(decodeRdr(encodeRdr(r))).toEqual(r);
      }),
    );
  });

  it.each([
    ['field runs past the record', (b: Uint8Array) => b.subarray(0, b.length - 1), 'RDR_BAD_LENGTH'],
    ['field of unknown type', (b: Uint8Array) => ((b[20] = 99), b), 'RDR_FIELD_TYPE'],
    ['integer field with the wrong size', (b: Uint8Array) => ((b[24] = 2), b), 'RDR_FIELD_SIZE'],
    ['field size past the end', (b: Uint8Array) => ((b[23] = 1), b), 'RDR_FIELD_TRUNCATED'],
  ])('rejects a record whose %s', (_n, mutate, code) => {
    const b = mutate(encodeRdr({ ...rec, fields: [{ type: RdrType.UINT8, value: 7 }, { type: RdrType.UINT8, value: 8 }] }));
    try {
      decodeRdr(b);
      expect.unreachable();
    } catch (e) {
      expect(isAgentError(e)).toBe(true);
      expect((e as { code: string }).code).toBe(code);
    }
  });
});

describe('RdrStream: framing over TCP', () => {
  const a = encodeRdr(rec);
  const b = encodeRdr({ ...rec, tag: 1, fields: [] });

  it('delivers records split at every byte boundary', () => {
    const all = new Uint8Array([...a, ...b]);
    for (let cut = 1; cut < all.length; cut++) {
      const s = new RdrStream();
      const r1 = s.push(all.subarray(0, cut));
      const r2 = s.push(all.subarray(cut));
      expect([...r1.records, ...r2.records].map((r) => r.tag)).toEqual([rec.tag, 1]);
      expect(s.pendingBytes).toBe(0);
    }
  });

  it('skips a record with malformed fields and keeps the next one', () => {
    const bad = encodeRdr({ ...rec, fields: [{ type: RdrType.UINT8, value: 1 }] });
    bad[20] = 77; // unknown field type, framing intact
    const res = new RdrStream().push(new Uint8Array([...a, ...bad, ...b]));
    expect(res.records.map((r) => r.tag)).toEqual([rec.tag, 1]);
    expect(res.errors.map((e) => e.code)).toEqual(['RDR_FIELD_TYPE']);
    expect(res.fatal).toBeUndefined();
  });

  it('reports lost framing (impossible payload_size) after delivering what came before', () => {
    const garbage = new Uint8Array([0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    const s = new RdrStream();
    const res = s.push(new Uint8Array([...a, ...garbage, ...b]));
    expect(res.records).toHaveLength(1);
    expect(res.fatal?.code).toBe('RDR_BAD_LENGTH');
    expect(s.push(b).records).toHaveLength(0);
  });
});
