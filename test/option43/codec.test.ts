import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeOption43, encodeOption43, normalizeMd5Text, unknownFlagBits, type Md5WireFormat } from '../../agent/option43/codec.ts';
import { CTS_PROFILE } from '../../agent/option43/profiles/cts.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import { AgentError } from '../../agent/errors.ts';
import { fromHex, toHex } from '../../agent/util/bytes.ts';
import { errorOf } from '../helpers/errors.ts';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const MD5_COLON = 'd4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e';

function tlv(code: number, data: Uint8Array | string): string {
  const d = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return toHex(new Uint8Array([code, d.length, ...d]));
}

const decode = (hex: string): Option43Offer => decodeOption43(CTS_PROFILE, fromHex(hex));

describe('CTS option 43 profile (seed 000 table)', () => {
  it('decodes all nine sub-options of the seed', () => {
    const hex = [
      tlv(1, new Uint8Array([1])), // protocol: 1 = FTP
      tlv(2, new Uint8Array([198, 18, 0, 2])),
      tlv(3, 'cpe'),
      tlv(4, 's3cret'),
      tlv(5, 'FS-0900E_v2.1.bin'),
      tlv(6, fromHex(MD5)),
      tlv(7, 'fs0900e.cfg'),
      tlv(8, MD5_COLON),
      tlv(9, new Uint8Array([0, 1])),
    ].join('');
    expect(decode(hex)).toEqual({
      protocol: 'ftp',
      server: '198.18.0.2',
      user: 'cpe',
      password: 's3cret',
      softwareFile: 'FS-0900E_v2.1.bin',
      softwareMd5: MD5,
      configFile: 'fs0900e.cfg',
      configMd5: MD5,
      flags: 1,
      urgent: true,
      unknown: [],
    });
  });
  it('protocol 0 is tftp; absent fields are omitted', () => {
    expect(decode(tlv(1, new Uint8Array([0])) + tlv(5, 'img.bin'))).toEqual({ protocol: 'tftp', softwareFile: 'img.bin', unknown: [] });
    expect(decode('')).toEqual({ unknown: [] });
  });
  it('MD5: ISC `string` raw 16 bytes, 32 hex text (any case), colon-hex text → 32 lowercase hex', () => {
    expect(decode(tlv(6, fromHex(MD5))).softwareMd5).toBe(MD5);
    expect(decode(tlv(6, MD5.toUpperCase())).softwareMd5).toBe(MD5);
    expect(decode(tlv(6, MD5_COLON)).softwareMd5).toBe(MD5);
    expect(decode(tlv(6, MD5_COLON.toUpperCase())).softwareMd5).toBe(MD5);
    expect(decode(tlv(8, MD5 + '\0')).configMd5).toBe(MD5); // NUL-terminated text
  });
  it('urgency is flags bit 0; reserved bits 1-15 are kept in flags', () => {
    expect(decode(tlv(9, new Uint8Array([0, 0])))).toMatchObject({ flags: 0, urgent: false });
    expect(decode(tlv(9, new Uint8Array([0x80, 0x02])))).toMatchObject({ flags: 0x8002, urgent: false });
    expect(decode(tlv(9, new Uint8Array([0xff, 0xff])))).toMatchObject({ flags: 0xffff, urgent: true });
  });
  it('unknown sub-options are kept as {code, hex} in wire order', () => {
    const o = decode(tlv(42, fromHex('0102')) + tlv(1, new Uint8Array([0])) + tlv(200, new Uint8Array()));
    expect(o.unknown).toEqual([
      { code: 42, hex: '0102' },
      { code: 200, hex: '' },
    ]);
    expect(o.protocol).toBe('tftp');
  });
  it('pad is skipped, end stops, repeated sub-options are concatenated', () => {
    expect(decode('00' + tlv(5, 'ab') + '00' + tlv(5, 'cd') + 'ff' + 'deadbeef').softwareFile).toBe('abcd');
  });
});

describe('option 43 errors name the sub-option', () => {
  const cases: [string, string, string, number][] = [
    ['sub-option length overflow', '0510616263', 'OPT43_OVERFLOW', 5],
    ['sub-option without length', '010100 05', 'OPT43_TRUNCATED', 5],
    ['MD5 of 15 bytes', tlv(6, fromHex(MD5).subarray(0, 15)), 'OPT43_BAD_MD5', 6],
    ['MD5 of 32 non-hex chars', tlv(8, 'z'.repeat(32)), 'OPT43_BAD_MD5', 8],
    ['server IP of 3 bytes', tlv(2, new Uint8Array([198, 18, 0])), 'OPT43_BAD_IPV4', 2],
    ['protocol value 7', tlv(1, new Uint8Array([7])), 'OPT43_BAD_ENUM', 1],
    ['protocol of 2 bytes', tlv(1, new Uint8Array([0, 1])), 'OPT43_BAD_LENGTH', 1],
    ['flags of 1 byte', tlv(9, new Uint8Array([1])), 'OPT43_BAD_LENGTH', 9],
    ['password not UTF-8', tlv(4, fromHex('ff fe 41')), 'OPT43_BAD_TEXT', 4],
  ];
  for (const [name, hex, code, sub] of cases) {
    it(name, () => {
      const e = errorOf(() => decode(hex));
      expect(e.code).toBe(code);
      expect(e.details['subOption']).toBe(sub);
      expect(e.message).toContain(`sub-option ${sub}`);
    });
  }
  it('the field name is in the message (protocol 7)', () => {
    expect(errorOf(() => decode(tlv(1, new Uint8Array([7])))).message).toMatch(/protocol.*7.*0 tftp, 1 ftp/);
  });
  it('a password never appears in an error', () => {
    const e = errorOf(() => decode(tlv(4, 'hunter2') + '0105'));
    expect(JSON.stringify(e.toJSON()) + e.message).not.toContain('hunter2');
    const e2 = errorOf(() => encodeOption43({ password: 'x'.repeat(300), unknown: [] }, CTS_PROFILE));
    expect(e2.code).toBe('OPT43_ENCODE_INVALID');
    expect(e2.message).not.toContain('xxxx');
  });
  it('well-formed sub-option TLVs with random codes and contents only ever throw OPT43_* errors', () => {
    // random bytes rarely form a valid TLV chain past the first sub-option: this reaches every decoder
    const seen = { decoded: 0, refused: 0 };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(255), fc.uint8Array({ maxLength: 40, size: 'max' })), { maxLength: 12, size: 'max' }), (subs) => {
        const b = new Uint8Array(subs.flatMap(([c, d]) => (c === 0 || c === 255 ? [c] : [c, d.length, ...d])));
        let ok = true;
        try {
          decodeOption43(CTS_PROFILE, b);
        } catch (e) {
          ok = false;
          expect(e).toBeInstanceOf(AgentError);
          expect((e as AgentError).code).toMatch(/^OPT43_/);
        }
        seen[ok ? 'decoded' : 'refused']++;
      }),
      { numRuns: 2000 },
    );
    expect(seen.decoded).toBeGreaterThan(100);
    expect(seen.refused).toBeGreaterThan(100);
  });
  it('random bytes only ever throw OPT43_* errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300, size: 'max' }), (b) => {
        try {
          decodeOption43(CTS_PROFILE, b);
        } catch (e) {
          expect(e).toBeInstanceOf(AgentError);
          expect((e as AgentError).code).toMatch(/^OPT43_/);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

const arbOffer = fc
  .record(
    {
      protocol: fc.constantFrom('tftp' as const, 'ftp' as const),
      server: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.')),
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
    // text containing NUL at the end cannot survive NUL-stripping; keep generated text printable
    for (const k of ['user', 'password', 'softwareFile', 'configFile'] as const) if (offer[k] !== undefined) offer[k] = (offer[k] as string).replace(/\0+$/, '');
    return offer;
  });

describe('encodeOption43', () => {
  it('round-trips arbitrary offers in each MD5 wire format', () => {
    fc.assert(
      fc.property(arbOffer, fc.constantFrom<Md5WireFormat>('raw', 'hex', 'colon'), fc.array(fc.record({ code: fc.integer({ min: 10, max: 254 }), hex: fc.uint8Array({ maxLength: 20, size: 'max' }).map(toHex) }), { maxLength: 3 }), (offer, md5Format, unknown) => {
        const uniq = unknown.filter((u, i) => unknown.findIndex((v) => v.code === u.code) === i);
        const o = { ...offer, unknown: uniq };
        expect(decodeOption43(CTS_PROFILE, encodeOption43(o, CTS_PROFILE, { md5Format }))).toEqual(o);
      }),
      { numRuns: 500 },
    );
  });
  it('wire bytes for a typical offer (raw MD5)', () => {
    const bytes = encodeOption43({ protocol: 'tftp', server: '198.18.0.2', softwareFile: 'a.bin', softwareMd5: MD5_COLON, urgent: true, unknown: [] }, CTS_PROFILE);
    expect(toHex(bytes)).toBe(['010100', '0204c6120002', '0505612e62696e', '0610' + MD5, '09020001'].join(''));
  });
  it('urgent sets or clears bit 0 of flags', () => {
    expect(decode(toHex(encodeOption43({ flags: 0x8000, urgent: true, unknown: [] }, CTS_PROFILE)))).toMatchObject({ flags: 0x8001, urgent: true });
    expect(decode(toHex(encodeOption43({ flags: 0x8001, urgent: false, unknown: [] }, CTS_PROFILE)))).toMatchObject({ flags: 0x8000, urgent: false });
  });
  it('rejects invalid offers with OPT43_ENCODE_INVALID naming the sub-option', () => {
    const bad: Option43Offer[] = [
      { server: '198.18.0', unknown: [] },
      { softwareMd5: 'abc', unknown: [] },
      { flags: 70000, unknown: [] },
      { unknown: [{ code: 5, hex: '00' }] },
      { unknown: [{ code: 50, hex: 'zz' }] },
    ];
    for (const o of bad) expect(errorOf(() => encodeOption43(o, CTS_PROFILE)).code).toBe('OPT43_ENCODE_INVALID');
  });
  it('normalizeMd5Text accepts the three spellings', () => {
    expect(normalizeMd5Text(MD5.toUpperCase())).toBe(MD5);
    expect(normalizeMd5Text(MD5_COLON)).toBe(MD5);
    expect(normalizeMd5Text('d4-1d-8c-d9-8f-00-b2-04-e9-80-09-98-ec-f8-42-7e')).toBe(MD5);
    expect(normalizeMd5Text('d41d')).toBeUndefined();
  });
});

describe('unknownFlagBits', () => {
  it.each([
    [undefined, 0],
    [0, 0],
    [1, 0],
    [2, 2],
    [3, 2],
    [0x8001, 0x8000],
    [0xffff, 0xfffe],
  ])('flags %j → unknown bits %j (CTS defines only bit 0, urgent)', (flags, bits) => {
    expect(unknownFlagBits(CTS_PROFILE, { unknown: [], ...(flags === undefined ? {} : { flags }) })).toBe(bits);
  });
});
