import { describe, expect, it } from 'vitest';
import { fromHex, ipv4ToNumber, maskToPrefix, numberToIpv4, parseIpv4, toHex, macToString } from '../../agent/util/bytes.ts';
import { isAgentError } from '../../agent/errors.ts';

describe('bytes', () => {
  it('hex round trip with separators', () => {
    expect(toHex(fromHex('de:ad-BE ef'))).toBe('deadbeef');
    expect(() => fromHex('abc')).toThrow(/not a hex/);
  });
  it('ipv4 conversions', () => {
    expect(numberToIpv4(ipv4ToNumber('198.18.0.1'))).toBe('198.18.0.1');
    expect(maskToPrefix('255.255.255.0')).toBe(24);
    expect(maskToPrefix('0.0.0.0')).toBe(0);
    expect(maskToPrefix('255.255.255.255')).toBe(32);
    try {
      maskToPrefix('255.0.255.0');
      expect.unreachable();
    } catch (e) {
      expect(isAgentError(e, 'IPV4_MASK_INVALID')).toBe(true);
    }
    expect(() => parseIpv4('1.2.3')).toThrow(/not an IPv4/);
    expect(() => parseIpv4('1.2.3.256')).toThrow(/not an IPv4/);
  });
  it('mac', () => {
    expect(macToString(new Uint8Array([0, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 9, 9]))).toBe('00:1a:2b:3c:4d:5e');
  });
});
