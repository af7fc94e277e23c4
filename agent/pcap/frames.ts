/**
 * Link layer → IPv4 → UDP for captured frames (pure). Supports LINKTYPE_ETHERNET (1, with
 * any number of 802.1Q / 802.1ad / QinQ tags), LINKTYPE_LINUX_SLL (113), LINUX_SLL2 (276),
 * RAW (101) and IPV4 (228), and BSD NULL/loopback (0). Anything else — other link types,
 * non-IPv4, non-UDP, non-first IP fragments, frames cut before the UDP header — yields
 * `undefined`: it is not a UDP datagram we can read.
 */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  LINUX_SLL2: 276,
} as const;

export interface UdpDatagram {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** the UDP payload as captured (may be cut short by the snaplen) */
  payload: Uint8Array;
  /** true when the payload is shorter than the UDP length field says (snaplen or first fragment) */
  truncated: boolean;
}

const ETH_IPV4 = 0x0800;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100, 0x9200]);

function be16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

/** Skips VLAN tags starting at the ethertype at `o`; returns [ethertype, offset of its payload]. */
function skipVlan(b: Uint8Array, o: number): [number, number] {
  let type = be16(b, o);
  let p = o + 2;
  while (VLAN_TAGS.has(type) && p + 4 <= b.length) {
    type = be16(b, p + 2);
    p += 4;
  }
  return [type, p];
}

/** Offset of the IPv4 header inside the frame, or -1 when the frame holds no IPv4 packet. */
export function ipv4Offset(linkType: number, b: Uint8Array): number {
  switch (linkType) {
    case LinkType.ETHERNET: {
      if (b.length < 14) return -1;
      const [type, p] = skipVlan(b, 12);
      return type === ETH_IPV4 ? p : -1;
    }
    case LinkType.LINUX_SLL: {
      if (b.length < 16) return -1;
      const [type, p] = skipVlan(b, 14);
      return type === ETH_IPV4 ? p : -1;
    }
    case LinkType.LINUX_SLL2: {
      if (b.length < 20) return -1;
      const type = be16(b, 0);
      if (type === ETH_IPV4) return 20;
      if (VLAN_TAGS.has(type) && b.length >= 24 && be16(b, 22) === ETH_IPV4) return 24;
      return -1;
    }
    case LinkType.RAW:
    case LinkType.IPV4:
      return b.length > 0 && (b[0] as number) >> 4 === 4 ? 0 : -1;
    case LinkType.NULL: {
      if (b.length < 4) return -1;
      // address family in the capturing host's byte order; AF_INET is 2 everywhere
      const le = (b[0] as number) | ((b[1] as number) << 8);
      const bef = be16(b, 2);
      return le === 2 || bef === 2 ? 4 : -1;
    }
    default:
      return -1;
  }
}

function ipAt(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** Where the UDP datagram of a frame is (offsets into the frame), without building strings. */
export interface UdpSpan {
  /** offset of the IPv4 header */
  ip: number;
  srcPort: number;
  dstPort: number;
  /** the payload as captured is frame[start, end) */
  start: number;
  end: number;
  /** true when the payload is shorter than the UDP length field says (snaplen or first fragment) */
  truncated: boolean;
}

/** The span of the UDP datagram carried by a captured frame, or undefined (see udpFromFrame). */
export function udpSpan(linkType: number, frame: Uint8Array): UdpSpan | undefined {
  const ip = ipv4Offset(linkType, frame);
  if (ip < 0 || ip + 20 > frame.length) return undefined;
  const vihl = frame[ip] as number;
  if (vihl >> 4 !== 4) return undefined;
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20 || ip + ihl > frame.length) return undefined;
  if ((frame[ip + 9] as number) !== 17) return undefined;
  const fragOffset = be16(frame, ip + 6) & 0x1fff;
  if (fragOffset !== 0) return undefined;
  const moreFragments = (be16(frame, ip + 6) & 0x2000) !== 0;
  const totalLength = be16(frame, ip + 2);
  // The IP total length bounds the packet (Ethernet pads short frames); a bogus total
  // length smaller than the header falls back to what was captured.
  const ipEnd = totalLength >= ihl ? Math.min(frame.length, ip + totalLength) : frame.length;
  const udp = ip + ihl;
  if (udp + 8 > ipEnd) return undefined;
  const udpLen = be16(frame, udp + 4);
  const want = udpLen >= 8 ? udpLen - 8 : ipEnd - udp - 8;
  const have = ipEnd - udp - 8;
  const n = Math.min(want, have);
  return { ip, srcPort: be16(frame, udp), dstPort: be16(frame, udp + 2), start: udp + 8, end: udp + 8 + n, truncated: have < want || moreFragments };
}

/** The UDP datagram carried by a captured frame, or undefined. */
export function udpFromFrame(linkType: number, frame: Uint8Array): UdpDatagram | undefined {
  const s = udpSpan(linkType, frame);
  if (!s) return undefined;
  return {
    srcIp: ipAt(frame, s.ip + 12),
    dstIp: ipAt(frame, s.ip + 16),
    srcPort: s.srcPort,
    dstPort: s.dstPort,
    payload: frame.subarray(s.start, s.end),
    truncated: s.truncated,
  };
}
