import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newMessage, type DhcpMessage } from '../../agent/dhcp/message.ts';
import * as O from '../../agent/dhcp/options.ts';
import { decodeMessage, encodeMessage } from '../../agent/dhcp/codec.ts';
import { fromHex, toHex } from '../../agent/util/bytes.ts';
import { errorOf } from '../helpers/errors.ts';

function msg(options: [number, string][]): DhcpMessage {
  return newMessage({ op: 2, xid: 1, yiaddr: '198.18.0.10', options: options.map(([code, hex]) => ({ code, data: fromHex(hex) })) });
}

describe('typed getters', () => {
  const m = msg([
    [53, '05'],
    [1, 'ffffff00'],
    [3, 'c6120001c6120002'],
    [6, 'c6120035'],
    [12, '63706500'], // trailing NUL dropped
    [15, '6c61622e6578616d706c65'],
    [28, 'c61200ff'],
    [43, '010100'],
    [50, 'c612000a'],
    [51, '00000e10'],
    [54, 'c6120001'],
    [55, '3633'],
    [57, '0240'],
    [58, '00000708'],
    [59, '00000c4e'],
    [60, '46532d3039303045'], // "FS-0900E"
    [61, '0102005e100001'],
    [82, '0103616263 02020a0b 0601ff 0902abcd'],
    [125, '00000de9 03 010203 00000001 00'],
  ]);
  it('reads each option as its type', () => {
    expect(O.messageType(m)).toBe(5);
    expect(O.subnetMask(m)).toBe('255.255.255.0');
    expect(O.routers(m)).toEqual(['198.18.0.1', '198.18.0.2']);
    expect(O.dns(m)).toEqual(['198.18.0.53']);
    expect(O.hostname(m)).toBe('cpe');
    expect(O.domainName(m)).toBe('lab.example');
    expect(O.broadcastAddress(m)).toBe('198.18.0.255');
    expect(toHex(O.vendorSpecific(m) ?? new Uint8Array())).toBe('010100');
    expect(O.requestedIp(m)).toBe('198.18.0.10');
    expect(O.leaseSeconds(m)).toBe(3600);
    expect(O.serverId(m)).toBe('198.18.0.1');
    expect(O.parameterList(m)).toEqual([54, 51]);
    expect(O.maxMessageSize(m)).toBe(576);
    expect(O.t1(m)).toBe(1800);
    expect(O.t2(m)).toBe(3150);
    expect(O.vendorClass(m)).toBe('FS-0900E');
    expect(O.clientId(m)).toEqual({ type: 1, id: fromHex('02005e100001') });
    const ra = O.relayAgent(m);
    expect(toHex(ra?.circuitId ?? new Uint8Array())).toBe('616263');
    expect(toHex(ra?.remoteId ?? new Uint8Array())).toBe('0a0b');
    expect(toHex(ra?.subscriberId ?? new Uint8Array())).toBe('ff');
    expect(ra?.subOptions.map((s) => s.code)).toEqual([1, 2, 6, 9]);
    expect(O.vivso(m)?.map((e) => [e.enterprise, toHex(e.data)])).toEqual([
      [3561, '010203'],
      [1, ''],
    ]);
  });
  it('absent options are undefined', () => {
    const e = msg([]);
    expect(O.messageType(e)).toBeUndefined();
    expect(O.routers(e)).toBeUndefined();
    expect(O.relayAgent(e)).toBeUndefined();
  });
  const bad: [string, number, string, (m: DhcpMessage) => unknown][] = [
    ['message type of 2 bytes', 53, '0101', O.messageType],
    ['lease time of 3 bytes', 51, '000e10', O.leaseSeconds],
    ['server id of 5 bytes', 54, 'c612000101', O.serverId],
    ['router list of 6 bytes', 3, 'c6120001c612', O.routers],
    ['empty dns list', 6, '', O.dns],
    ['max message size of 1 byte', 57, '02', O.maxMessageSize],
    ['client id of 1 byte', 61, '01', O.clientId],
    ['empty hostname', 12, '', O.hostname],
    ['option 82 sub-option overflow', 82, '0105616263', O.relayAgent],
    ['option 82 sub-option without length', 82, '010161 02', O.relayAgent],
    ['option 125 truncated entry', 125, '00000de9', O.vivso],
    ['option 125 data overrun', 125, '00000de9 05 0102', O.vivso],
  ];
  for (const [name, code, hex, get] of bad) {
    it(`DHCP_BAD_OPTION: ${name}`, () => {
      const e = errorOf(() => get(msg([[code, hex]])));
      expect(e.code).toBe('DHCP_BAD_OPTION');
      expect(e.details['code']).toBe(code);
      expect(typeof e.details['length']).toBe('number');
    });
  }
});

describe('setOption / builders', () => {
  it('setOption replaces in place or appends; removeOption removes', () => {
    const m = msg([
      [53, '01'],
      [12, '61'],
    ]);
    O.setOption(m, 53, O.u8(3));
    O.setOption(m, 50, O.ipv4('198.18.0.7'));
    expect(m.options.map((o) => o.code)).toEqual([53, 12, 50]);
    expect(O.messageType(m)).toBe(3);
    O.removeOption(m, 12);
    expect(m.options.map((o) => o.code)).toEqual([53, 50]);
    expect(errorOf(() => O.setOption(m, 52, O.u8(1))).code).toBe('DHCP_ENCODE_INVALID');
  });
  it('builders produce what the getters read back through the wire', () => {
    const m = msg([]);
    O.setOption(m, 53, O.u8(1));
    O.setOption(m, 3, O.ipv4List(['198.18.0.1', '198.18.0.2']));
    O.setOption(m, 51, O.u32(4294967295));
    O.setOption(m, 57, O.u16(1500));
    O.setOption(m, 60, O.text('ESH-3105'));
    O.setOption(m, 55, O.codeList([54, 51, 58, 59, 1, 3, 6, 15, 28, 43]));
    O.setOption(m, 61, O.clientIdOption(1, fromHex('02005e100001')));
    O.setOption(m, 125, O.vivsoOption([{ enterprise: 4491, data: fromHex('0102') }]));
    const d = decodeMessage(encodeMessage(m));
    expect(O.routers(d)).toEqual(['198.18.0.1', '198.18.0.2']);
    expect(O.leaseSeconds(d)).toBe(4294967295);
    expect(O.maxMessageSize(d)).toBe(1500);
    expect(O.vendorClass(d)).toBe('ESH-3105');
    expect(O.parameterList(d)).toEqual([54, 51, 58, 59, 1, 3, 6, 15, 28, 43]);
    expect(O.clientId(d)?.type).toBe(1);
    expect(O.vivso(d)?.[0]?.enterprise).toBe(4491);
  });
  it('builders reject out-of-range values with DHCP_ENCODE_INVALID', () => {
    for (const f of [() => O.u8(256), () => O.u16(-1), () => O.u32(2 ** 32), () => O.ipv4('1.2.3'), () => O.ipv4('1.2.3.400'), () => O.ipv4(' 1.2.3.4'), () => O.ipv4List([]), () => O.text(''), () => O.codeList([300])]) {
      expect(errorOf(f).code).toBe('DHCP_ENCODE_INVALID');
    }
  });
  it('u32/u16/ipv4 round-trip any value', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat(0xffff), (a, b) => {
        expect(O.parseU32(51, O.u32(a))).toBe(a);
        expect(O.parseU16(57, O.u16(b))).toBe(b);
        const ip = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
        expect(O.parseIp(54, O.ipv4(ip))).toBe(ip);
      }),
    );
  });
});

describe('describeOption', () => {
  it('renders typed JSON values by code', () => {
    expect(O.describeOption(53, fromHex('0d'))).toBe('LEASEACTIVE');
    expect(O.describeOption(53, fromHex('63'))).toBe('UNKNOWN(99)');
    expect(O.describeOption(1, fromHex('ffffff00'))).toBe('255.255.255.0');
    expect(O.describeOption(6, fromHex('c6120001c6120002'))).toEqual(['198.18.0.1', '198.18.0.2']);
    expect(O.describeOption(51, fromHex('00000384'))).toBe(900);
    expect(O.describeOption(57, fromHex('0240'))).toBe(576);
    expect(O.describeOption(60, fromHex('4172756261415000'))).toBe('ArubaAP');
    expect(O.describeOption(55, fromHex('0103'))).toEqual([1, 3]);
    expect(O.describeOption(61, fromHex('01aabbccddeeff'))).toEqual({ type: 1, hex: 'aabbccddeeff' });
    expect(O.describeOption(82, fromHex('010161 020162 060163 050400000000'))).toEqual({ circuitId: '61', remoteId: '62', subscriberId: '63', other: [{ code: 5, hex: '00000000' }] });
    expect(O.describeOption(125, fromHex('0000000102abcd'))).toEqual([{ enterprise: 1, hex: 'abcd' }]);
  });
  it('unknown codes and option 43 are hex strings', () => {
    expect(O.describeOption(43, fromHex('3137322e3138'))).toBe('3137322e3138');
    expect(O.describeOption(224, fromHex('00ff'))).toBe('00ff');
  });
  it('a malformed known option is reported, not thrown', () => {
    expect(O.describeOption(51, fromHex('0001'))).toEqual({ malformed: '0001', error: 'DHCP_BAD_OPTION' });
  });
  it('never throws for any code and data', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.uint8Array({ maxLength: 300, size: 'max' }), (code, data) => {
        const v = O.describeOption(code, data);
        expect(() => JSON.stringify(v)).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });
});
