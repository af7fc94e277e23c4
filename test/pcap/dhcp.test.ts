import { describe, expect, it } from 'vitest';
import { dhcpFromRecord, dhcpPackets } from '../../agent/pcap/dhcp.ts';
import type { CaptureRecord } from '../../agent/pcap/reader.ts';
import { LinkType } from '../../agent/pcap/frames.ts';
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import { dhcpMessage, ethernet, ipUdp } from './fixtures.ts';

const rec = (data: Uint8Array, frame = 1): CaptureRecord => ({ frame, time: 1000.5, timeKnown: true, linkType: LinkType.ETHERNET, data, origLength: data.length, interfaceId: 0 });

describe('DHCP packets out of capture records', () => {
  const payload = encodeMessage(dhcpMessage(0x77, 5));
  it('port 67 or 68 at either end is DHCP; the packet carries time, addresses and the message', () => {
    const p = dhcpFromRecord(rec(ethernet(ipUdp(payload, { src: [198, 18, 0, 1], dst: [198, 18, 0, 10], sport: 67, dport: 68 }))));
    expect(p).toMatchObject({ frame: 1, time: 1000.5, srcIp: '198.18.0.1', dstIp: '198.18.0.10', srcPort: 67, dstPort: 68 });
    expect(p?.message?.xid).toBe(0x77);
    expect(p?.error).toBeUndefined();
    // a relay talks 67 → 67; a client behind NAT may use another source port
    expect(dhcpFromRecord(rec(ethernet(ipUdp(payload, { sport: 67, dport: 67 }))))?.message?.xid).toBe(0x77);
    expect(dhcpFromRecord(rec(ethernet(ipUdp(payload, { sport: 40000, dport: 67 }))))?.message?.xid).toBe(0x77);
  });
  it('other UDP is not DHCP', () => {
    expect(dhcpFromRecord(rec(ethernet(ipUdp(payload, { sport: 53, dport: 5353 }))))).toBeUndefined();
  });
  it('a payload that does not decode gives the typed error and the run goes on', () => {
    const cut = ethernet(ipUdp(payload));
    const packets = [...dhcpPackets([rec(cut.subarray(0, 14 + 28 + 100), 1), rec(cut, 2)])];
    expect(packets.map((p) => [p.frame, p.error?.code, p.truncated, p.message?.xid])).toEqual([
      [1, 'DHCP_TRUNCATED_HEADER', true, undefined],
      [2, undefined, undefined, 0x77],
    ]);
  });
});
