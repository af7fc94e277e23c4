/** Frame builders for pcap tests: a DHCP message wrapped in UDP/IPv4 and each link layer. */
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import { newMessage, type DhcpMessage } from '../../agent/dhcp/message.ts';

export function dhcpMessage(xid: number, type = 1): DhcpMessage {
  return newMessage({
    op: type === 2 || type === 5 ? 2 : 1,
    xid,
    flags: 0x8000,
    yiaddr: type === 5 ? '198.18.0.10' : '0.0.0.0',
    chaddr: new Uint8Array([2, 0, 0x5e, 0x10, 0, xid & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    options: [
      { code: 53, data: new Uint8Array([type]) },
      { code: 60, data: new TextEncoder().encode('FS-0900E') },
    ],
  });
}

function sum16(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += ((b[i] as number) << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export interface IpOpts {
  src?: [number, number, number, number];
  dst?: [number, number, number, number];
  sport?: number;
  dport?: number;
  fragOffset?: number;
  moreFragments?: boolean;
  protocol?: number;
  ihlWords?: number;
}

/** IPv4 + UDP around a payload (header checksum set, UDP checksum 0). */
export function ipUdp(payload: Uint8Array, o: IpOpts = {}): Uint8Array {
  const ihl = (o.ihlWords ?? 5) * 4;
  const b = new Uint8Array(ihl + 8 + payload.length);
  const dv = new DataView(b.buffer);
  b[0] = 0x40 | (ihl / 4);
  dv.setUint16(2, b.length);
  dv.setUint16(6, ((o.moreFragments ? 1 : 0) << 13) | (o.fragOffset ?? 0));
  b[8] = 64;
  b[9] = o.protocol ?? 17;
  b.set(o.src ?? [0, 0, 0, 0], 12);
  b.set(o.dst ?? [255, 255, 255, 255], 16);
  dv.setUint16(10, sum16(b.subarray(0, ihl)));
  dv.setUint16(ihl, o.sport ?? 68);
  dv.setUint16(ihl + 2, o.dport ?? 67);
  dv.setUint16(ihl + 4, 8 + payload.length);
  b.set(payload, ihl + 8);
  return b;
}

export function ethernet(ip: Uint8Array, vlans: number[] = [], tpids: number[] = []): Uint8Array {
  const b = new Uint8Array(14 + 4 * vlans.length + ip.length);
  const dv = new DataView(b.buffer);
  b.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0x5e, 0x10, 0, 1]);
  let o = 12;
  vlans.forEach((v, i) => {
    dv.setUint16(o, tpids[i] ?? 0x8100);
    dv.setUint16(o + 2, v);
    o += 4;
  });
  dv.setUint16(o, 0x0800);
  b.set(ip, o + 2);
  return b;
}

/** LINKTYPE_LINUX_SLL (113) */
export function sll(ip: Uint8Array): Uint8Array {
  const b = new Uint8Array(16 + ip.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 4); // sent by us
  dv.setUint16(2, 1); // ARPHRD_ETHER
  dv.setUint16(4, 6);
  b.set([2, 0, 0x5e, 0x10, 0, 1], 6);
  dv.setUint16(14, 0x0800);
  b.set(ip, 16);
  return b;
}

/** LINKTYPE_LINUX_SLL2 (276) */
export function sll2(ip: Uint8Array): Uint8Array {
  const b = new Uint8Array(20 + ip.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 0x0800);
  dv.setUint32(4, 2); // ifindex
  dv.setUint16(8, 1); // ARPHRD_ETHER
  b[10] = 4;
  b[11] = 6;
  b.set([2, 0, 0x5e, 0x10, 0, 1], 12);
  b.set(ip, 20);
  return b;
}

export function dhcpFrame(xid: number, type = 1): Uint8Array {
  return ethernet(ipUdp(encodeMessage(dhcpMessage(xid, type))));
}
