import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePacket, encodePacket, peekOpcode, writeAck, type TftpPacket } from '../../agent/transfer/tftp-packets.ts';
import { isAgentError } from '../../agent/errors.ts';
import { fromHex, toHex } from '../../agent/util/bytes.ts';

// Byte tables written from RFC 1350 / 2347 figures (hex of the wire format).
const TABLE: Array<[string, TftpPacket, string]> = [
  [
    'RRQ with options',
    { op: 'rrq', file: 'cts/fw.bin', mode: 'octet', options: [['blksize', '1468'], ['tsize', '0']] },
    '0001' + '6374732f66772e62696e00' + '6f6374657400' + '626c6b73697a6500' + '3134363800' + '7473697a6500' + '3000',
  ],
  ['RRQ plain', { op: 'rrq', file: 'a', mode: 'octet', options: [] }, '0001' + '6100' + '6f6374657400'],
  ['WRQ', { op: 'wrq', file: 'b', mode: 'netascii', options: [] }, '0002' + '6200' + '6e65746173636969' + '00'],
  ['DATA', { op: 'data', block: 0x1234, data: new Uint8Array([0xde, 0xad]) }, '00031234dead'],
  ['empty DATA', { op: 'data', block: 65535, data: new Uint8Array(0) }, '0003ffff'],
  ['ACK', { op: 'ack', block: 1 }, '00040001'],
  ['ACK 0', { op: 'ack', block: 0 }, '00040000'],
  ['ERROR', { op: 'error', code: 1, message: 'File not found' }, '00050001' + '46696c65206e6f7420666f756e64' + '00'],
  ['OACK', { op: 'oack', options: [['blksize', '512']] }, '0006' + '626c6b73697a6500' + '35313200'],
  ['empty OACK', { op: 'oack', options: [] }, '0006'],
];

describe('TFTP packet codec tables', () => {
  for (const [name, packet, hex] of TABLE) {
    it(`encodes ${name}`, () => {
      expect(toHex(encodePacket(packet))).toBe(hex);
    });
    it(`decodes ${name}`, () => {
      expect(decodePacket(fromHex(hex))).toEqual(packet);
    });
  }

  it('accepts an ERROR without its final NUL (seen from some servers)', () => {
    expect(decodePacket(fromHex('0005000248692121'))).toEqual({ op: 'error', code: 2, message: 'Hi!!' });
  });

  it('DATA payload is a view, not a copy', () => {
    const wire = fromHex('0003000101020304');
    const p = decodePacket(wire);
    expect(p.op).toBe('data');
    if (p.op === 'data') expect(p.data.buffer).toBe(wire.buffer);
  });

  const BAD: Array<[string, string]> = [
    ['empty', ''],
    ['one byte', '00'],
    ['unknown opcode', '0009'],
    ['opcode 0', '0000'],
    ['short DATA', '000300'],
    ['short ACK', '0004'],
    ['short ERROR', '000500'],
    ['RRQ without mode', '00016100'],
    ['RRQ unterminated', '0001610061'],
    ['OACK name without value', '0006626c6b73697a6500'],
    ['OACK unterminated value', '0006626c6b73697a650035'],
  ];
  for (const [name, hex] of BAD) {
    it(`rejects ${name} with TFTP_MALFORMED`, () => {
      expect(() => decodePacket(fromHex(hex))).toThrow(expect.objectContaining({ code: 'TFTP_MALFORMED' }));
    });
  }

  it('refuses to encode a NUL inside a file name or an out-of-range block', () => {
    expect(() => encodePacket({ op: 'rrq', file: 'a\0b', mode: 'octet', options: [] })).toThrow(expect.objectContaining({ code: 'TFTP_BAD_REQUEST' }));
    expect(() => encodePacket({ op: 'ack', block: 65536 })).toThrow(expect.objectContaining({ code: 'TFTP_BAD_REQUEST' }));
    expect(() => encodePacket({ op: 'data', block: -1, data: new Uint8Array(0) })).toThrow(expect.objectContaining({ code: 'TFTP_BAD_REQUEST' }));
  });

  it('writeAck fills a preallocated buffer; peekOpcode reads the opcode', () => {
    const b = new Uint8Array([9, 9, 9, 9]);
    writeAck(b, 0xabcd);
    expect(toHex(b)).toBe('0004abcd');
    expect(peekOpcode(b)).toBe(4);
    expect(peekOpcode(new Uint8Array([1]))).toBe(0);
  });
});

const noNul = fc.string({ maxLength: 40, size: 'max' }).filter((s) => !s.includes('\0'));
const options = fc.array(fc.tuple(noNul, noNul), { maxLength: 6 });
const packet: fc.Arbitrary<TftpPacket> = fc.oneof(
  fc.record({ op: fc.constantFrom('rrq' as const, 'wrq' as const), file: noNul, mode: noNul, options }),
  fc.record({ op: fc.constant('data' as const), block: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 1500, size: 'max' }) }),
  fc.record({ op: fc.constant('ack' as const), block: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ op: fc.constant('error' as const), code: fc.integer({ min: 0, max: 65535 }), message: noNul }),
  fc.record({ op: fc.constant('oack' as const), options }),
);

describe('TFTP packet codec properties', () => {
  it('decode(encode(p)) equals p', () => {
    fc.assert(
      fc.property(packet, (p) => {
        expect(decodePacket(encodePacket(p))).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes never crash the decoder: a packet or TFTP_MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600, size: 'max' }), (bytes) => {
        try {
          const p = decodePacket(bytes);
          expect(['rrq', 'wrq', 'data', 'ack', 'error', 'oack']).toContain(p.op);
        } catch (e) {
          expect(isAgentError(e, 'TFTP_MALFORMED')).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('random bytes behind a valid opcode never crash either', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 100, size: 'max' }), (op, rest) => {
        const bytes = new Uint8Array([0, op, ...rest]);
        try {
          decodePacket(bytes);
        } catch (e) {
          expect(isAgentError(e, 'TFTP_MALFORMED')).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
