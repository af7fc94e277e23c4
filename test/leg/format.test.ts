import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { macText, remoteIdMac } from '../../agent/leg/format.ts';
import { macToString } from '../../agent/util/bytes.ts';

describe('macText', () => {
  it('equals macToString for any bytes and length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 16, size: 'max' }), fc.integer({ min: -1, max: 17 }), (b, len) => {
        expect(macText(b, len)).toBe(macToString(b, len));
        expect(macText(b)).toBe(macToString(b));
      }),
      { numRuns: 3000 },
    );
    expect(macText(new Uint8Array([0, 0x0f, 0xa0, 0xff, 1, 0x10]))).toBe('00:0f:a0:ff:01:10');
  });

  it('remote-ID is a MAC only with 6 bytes', () => {
    expect(remoteIdMac(new Uint8Array([2, 0xd, 0, 0, 0, 1]))).toBe('02:0d:00:00:00:01');
    expect(remoteIdMac(new Uint8Array([2, 0xd, 0, 0, 0]))).toBeUndefined();
  });
});
