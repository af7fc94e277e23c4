import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LinkType, udpFromFrame } from '../../agent/pcap/frames.ts';
import { ethernet, ipUdp, sll, sll2 } from './fixtures.ts';

const payload = new Uint8Array([1, 2, 3, 4, 5]);
const ip = ipUdp(payload, { src: [198, 18, 0, 1], dst: [198, 18, 0, 2], sport: 67, dport: 68 });
const expected = { srcIp: '198.18.0.1', dstIp: '198.18.0.2', srcPort: 67, dstPort: 68, payload, truncated: false };

describe('link layers to UDP', () => {
  it('Ethernet', () => expect(udpFromFrame(LinkType.ETHERNET, ethernet(ip))).toEqual(expected));
  it('Ethernet with 802.1Q', () => expect(udpFromFrame(LinkType.ETHERNET, ethernet(ip, [100]))).toEqual(expected));
  it('Ethernet with QinQ (802.1ad outer, 802.1Q inner)', () => expect(udpFromFrame(LinkType.ETHERNET, ethernet(ip, [10, 20], [0x88a8, 0x8100]))).toEqual(expected));
  it('Linux cooked v1', () => expect(udpFromFrame(LinkType.LINUX_SLL, sll(ip))).toEqual(expected));
  it('Linux cooked v2', () => expect(udpFromFrame(LinkType.LINUX_SLL2, sll2(ip))).toEqual(expected));
  it('raw IPv4 (101 and 228)', () => {
    expect(udpFromFrame(LinkType.RAW, ip)).toEqual(expected);
    expect(udpFromFrame(LinkType.IPV4, ip)).toEqual(expected);
  });
  it('BSD loopback (0)', () => expect(udpFromFrame(LinkType.NULL, new Uint8Array([2, 0, 0, 0, ...ip]))).toEqual(expected));
  it('IP options (IHL 6) are skipped', () => {
    const withOpts = ipUdp(payload, { ihlWords: 6, sport: 67, dport: 68, src: [198, 18, 0, 1], dst: [198, 18, 0, 2] });
    expect(udpFromFrame(LinkType.RAW, withOpts)).toEqual(expected);
  });
  it('Ethernet padding after the IP packet is not payload', () => {
    const small = ethernet(ipUdp(new Uint8Array([9])));
    const padded = new Uint8Array(60);
    padded.set(small);
    expect(udpFromFrame(LinkType.ETHERNET, padded)?.payload).toEqual(new Uint8Array([9]));
  });
  it('non-first fragments, non-UDP, non-IPv4 and unknown link types yield nothing', () => {
    expect(udpFromFrame(LinkType.RAW, ipUdp(payload, { fragOffset: 185 }))).toBeUndefined();
    expect(udpFromFrame(LinkType.RAW, ipUdp(payload, { protocol: 6 }))).toBeUndefined();
    const arp = ethernet(ip);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(udpFromFrame(LinkType.ETHERNET, arp)).toBeUndefined();
    expect(udpFromFrame(105, ip)).toBeUndefined();
  });
  it('a first fragment is read and marked truncated', () => {
    expect(udpFromFrame(LinkType.RAW, ipUdp(payload, { moreFragments: true }))?.truncated).toBe(true);
  });
  it('a frame cut by the snaplen gives the captured part, marked truncated', () => {
    const f = ethernet(ip);
    const cut = udpFromFrame(LinkType.ETHERNET, f.subarray(0, f.length - 2));
    expect(cut?.payload).toEqual(payload.subarray(0, 3));
    expect(cut?.truncated).toBe(true);
    expect(udpFromFrame(LinkType.ETHERNET, f.subarray(0, 14 + 20 + 4))).toBeUndefined();
  });
  it('random frames never throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 101, 113, 228, 276, 7), fc.uint8Array({ maxLength: 120, size: 'max' }), (lt, b) => {
        udpFromFrame(lt, b);
      }),
      { numRuns: 3000 },
    );
  });
});
