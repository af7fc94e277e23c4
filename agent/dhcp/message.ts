/**
 * The decoded form of one DHCPv4/BOOTP message (RFC 2131 §2, RFC 2132).
 *
 * `options` holds every option in wire order after RFC 3396 concatenation (an option
 * split into several instances, including instances carried in `file`/`sname` under
 * option 52 overload, appears once with the concatenated data). Pad (0), end (255) and
 * overload (52) are not in the list: the encoder re-creates them. Typed views of single
 * options live in `options.ts`; unknown codes stay as raw bytes and re-encode byte for byte.
 */
export interface DhcpOption {
  readonly code: number;
  readonly data: Uint8Array;
}

export interface DhcpMessage {
  /** 1 BOOTREQUEST, 2 BOOTREPLY */
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  /** unsigned 32-bit */
  xid: number;
  secs: number;
  /** bit 15 (0x8000) = broadcast */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** all 16 bytes of chaddr; the hardware address is the first `hlen` bytes */
  chaddr: Uint8Array;
  /** 64 bytes, as on the wire when not overloaded; zeros when it carried options */
  sname: Uint8Array;
  /** 128 bytes, as on the wire when not overloaded; zeros when it carried options */
  file: Uint8Array;
  options: DhcpOption[];
}

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const BROADCAST_FLAG = 0x8000;
export const MAGIC_COOKIE = 0x63825363;
export const ZERO_IP = '0.0.0.0';

/** The fields of a new message: `op` and `xid`, and any other field to set. */
export type MessageFields = Pick<DhcpMessage, 'op' | 'xid'> & Partial<DhcpMessage>;

/**
 * A message built from `f`; every field it leaves out (or undefined) takes its empty value:
 * Ethernet (htype 1, hlen 6), no hops, secs 0, flags 0, addresses 0.0.0.0, zeroed
 * chaddr/sname/file, no options.
 */
export function newMessage(f: MessageFields): DhcpMessage {
  return {
    op: f.op,
    htype: f.htype ?? 1,
    hlen: f.hlen ?? 6,
    hops: f.hops ?? 0,
    xid: f.xid,
    secs: f.secs ?? 0,
    flags: f.flags ?? 0,
    ciaddr: f.ciaddr ?? ZERO_IP,
    yiaddr: f.yiaddr ?? ZERO_IP,
    siaddr: f.siaddr ?? ZERO_IP,
    giaddr: f.giaddr ?? ZERO_IP,
    chaddr: f.chaddr ?? new Uint8Array(16),
    sname: f.sname ?? new Uint8Array(64),
    file: f.file ?? new Uint8Array(128),
    options: f.options ?? [],
  };
}

/** DHCP message types (option 53), RFC 2132 §9.6, RFC 4388 (leasequery), RFC 6926. */
export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
  FORCERENEW: 9,
  LEASEQUERY: 10,
  LEASEUNASSIGNED: 11,
  LEASEUNKNOWN: 12,
  LEASEACTIVE: 13,
  BULKLEASEQUERY: 14,
  LEASEQUERYDONE: 15,
  ACTIVELEASEQUERY: 16,
  LEASEQUERYSTATUS: 17,
  TLS: 18,
} as const;
export type MessageTypeName = keyof typeof MessageType;

export function messageTypeName(n: number): MessageTypeName | `UNKNOWN(${number})` {
  for (const [k, v] of Object.entries(MessageType)) if (v === n) return k as MessageTypeName;
  return `UNKNOWN(${n})`;
}

/** Option codes the agent names (RFC 2132 and later). */
export const Opt = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  BROADCAST: 28,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_T1: 58,
  REBINDING_T2: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  USER_CLASS: 77,
  RELAY_AGENT: 82,
  VIVSO: 125,
  END: 255,
} as const;
