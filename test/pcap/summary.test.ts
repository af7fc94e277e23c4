import { describe, expect, it } from 'vitest';
import { packetToJson, packetToLine, summarizeMessage, VendorClassMemory } from '../../agent/pcap/summary.ts';
import type { DhcpPacket } from '../../agent/pcap/dhcp.ts';
import { AgentError } from '../../agent/errors.ts';
import { dhcpMessage } from './fixtures.ts';

const head = { frame: 3, time: Date.UTC(2026, 10, 23, 18, 0, 0, 250), srcIp: '198.18.0.1', dstIp: '198.18.0.10', srcPort: 67, dstPort: 68 };

describe('packet summaries', () => {
  it('a decoded packet: contract fields, options by code', () => {
    const msg = dhcpMessage(0x42, 5);
    msg.options.push({ code: 51, data: new Uint8Array([0, 0, 0x0e, 0x10]) }, { code: 82, data: new Uint8Array([1, 1, 0xaa, 2, 1, 0xbb]) });
    const j = packetToJson({ ...head, message: msg });
    expect(j).toMatchObject({
      frame: 3,
      time: '2026-11-23T18:00:00.250Z',
      messageType: 'ACK',
      xid: 0x42,
      chaddr: '02:00:5e:10:00:42',
      yiaddr: '198.18.0.10',
      vendorClass: 'FS-0900E',
      leaseSeconds: 3600,
      relayAgent: { circuitId: 'aa', remoteId: 'bb' },
      options: { '51': 3600, '53': 'ACK', '60': 'FS-0900E', '82': { circuitId: 'aa', remoteId: 'bb' } },
    });
    expect(packetToLine({ ...head, message: msg })).toBe(
      '2026-11-23T18:00:00.250Z 198.18.0.1:67 > 198.18.0.10:68 ACK         xid=0x00000042 chaddr=02:00:5e:10:00:42 yiaddr=198.18.0.10 lease=3600s vendor-class="FS-0900E" opt82=[circuit=aa remote=bb]',
    );
  });
  it('a packet that did not decode: error {code, message, offset}', () => {
    const p: DhcpPacket = { ...head, error: new AgentError('DHCP_NO_END', 'options field has no end option (255)', { offset: 300 }) };
    expect(packetToJson(p)).toEqual({ ...head, time: '2026-11-23T18:00:00.250Z', error: { code: 'DHCP_NO_END', message: 'options field has no end option (255)', offset: 300 } });
    expect(packetToLine(p)).toMatch(/ERROR \[DHCP_NO_END\] options field has no end option \(255\) \(offset 300\)$/);
  });
  it('malformed typed options do not stop the summary', () => {
    const msg = dhcpMessage(1, 5);
    msg.options.push({ code: 51, data: new Uint8Array([1]) }, { code: 82, data: new Uint8Array([1, 9]) });
    const s = summarizeMessage(msg);
    expect(s.leaseSeconds).toBeUndefined();
    expect(s.relayAgent).toBeUndefined();
    expect(s.options['51']).toEqual({ malformed: '01', error: 'DHCP_BAD_OPTION' });
  });
  it('BOOTP without option 53 is labelled BOOTP', () => {
    const msg = dhcpMessage(1, 1);
    msg.options = [];
    expect(summarizeMessage(msg).messageType).toBe('BOOTP');
  });
  it('VendorClassMemory remembers by xid and stays bounded', () => {
    const mem = new VendorClassMemory(2);
    const withVc = (xid: number): ReturnType<typeof dhcpMessage> => dhcpMessage(xid, 1);
    const reply = (xid: number): ReturnType<typeof dhcpMessage> => ({ ...dhcpMessage(xid, 2), options: [] });
    expect(mem.see(withVc(1))).toBe('FS-0900E');
    expect(mem.see(reply(1))).toBe('FS-0900E');
    mem.see(withVc(2));
    mem.see(withVc(3));
    expect(mem.see(reply(1))).toBeUndefined(); // evicted, oldest first
    expect(mem.see(reply(3))).toBe('FS-0900E');
  });
});
