/**
 * The LEG's normalized transaction: what the rules need from one DHCP message or one SCE
 * RDR record, and nothing else. Pure. Options are addressed by selector text: "51",
 * "60", and option 82 sub-options as "82.1", "82.2", "82.6".
 */
import type { DhcpMessage } from '../dhcp/message.ts';
import { Opt, MessageType, ZERO_IP } from '../dhcp/message.ts';
import { decodeRelayAgent } from '../dhcp/relay-agent.ts';
import { macAt, macText } from './format.ts';
import { macToString } from '../util/bytes.ts';
import { ALL_OPTIONS, type OptionFilter } from './option-filter.ts';

export interface LegTransaction {
  /** ms since the epoch: capture time, RDR end_time, or the wall clock (live) */
  time: number;
  /** DHCP message type (option 53); 0 when absent (BOOTP) */
  messageType: number;
  xid: number;
  /** client hardware address "aa:bb:cc:dd:ee:ff" (lowercase); "" for messages the LEG ignores */
  chaddr: string;
  /** "0.0.0.0" when not set */
  ciaddr: string;
  yiaddr: string;
  /**
   * ACK: true = lease extension (client was bound: ciaddr set), false = initial logon
   * (ciaddr 0), undefined = not known (RDR records carry no ciaddr).
   */
  renewing: boolean | undefined;
  /** the address a RELEASE gives back (ciaddr) or a DECLINE refuses (option 50) */
  releasedIp?: string;
  /** option 51; undefined when absent; NaN when present but not 4 bytes */
  leaseSeconds?: number;
  /** option data by selector ("60", "82", "82.1" …), first instance */
  options: ReadonlyMap<string, Uint8Array>;
  /** set when option 82 could not be parsed (its sub-options are then absent) */
  relayError?: string;
  /** option 54 (server identifier) as a uint32, when present and 4 bytes */
  serverId?: number;
  /** the IP header's source and destination (uint32), when the transaction came from a capture */
  srcIp?: number;
  dstIp?: number;
}

/** Selector text of every option code and option 82 sub-option, built once. */
const CODE_KEY: string[] = Array.from({ length: 256 }, (_, i) => String(i));
const SUB_KEY: string[] = Array.from({ length: 256 }, (_, i) => `82.${i}`);

function ipOf(b: Uint8Array | undefined): string | undefined {
  if (!b || b.length !== 4) return undefined;
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

export function serverIdOf(b: Uint8Array | undefined): number | undefined {
  if (!b || b.length !== 4) return undefined;
  return u32At(b, 0);
}

export function leaseFromOption(b: Uint8Array | undefined): number | undefined {
  if (!b) return undefined;
  if (b.length !== 4) return NaN;
  return (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
}

/**
 * `addRelaySubOptions` for option 82 at payload[st, end), without the intermediate
 * RelayAgentInfo, keeping the sub-options `keep` selects: well-formed data (checked first, as
 * decodeRelayAgent does, so nothing is added when it is not) is walked in place; malformed
 * data takes the decoder for its error text.
 */
function addRelaySubOptionsFast(opts: Map<string, Uint8Array>, payload: Uint8Array, st: number, end: number, keep: Uint8Array): string | undefined {
  let i = st;
  while (i < end) {
    if (i + 1 >= end) return addRelaySubOptions(opts, payload.subarray(st, end));
    i += 2 + (payload[i + 1] as number);
  }
  if (i !== end) return addRelaySubOptions(opts, payload.subarray(st, end));
  for (i = st; i < end; i += 2 + (payload[i + 1] as number)) {
    const sub = payload[i] as number;
    if (keep[sub] === 0) continue;
    const k = SUB_KEY[sub] as string;
    if (!opts.has(k)) opts.set(k, new Uint8Array(payload.buffer, payload.byteOffset + i + 2, payload[i + 1] as number));
  }
  return undefined;
}

/** Adds option 82's sub-options as "82.N" to `opts`; returns an error text when malformed. */
export function addRelaySubOptions(opts: Map<string, Uint8Array>, data: Uint8Array): string | undefined {
  try {
    const info = decodeRelayAgent(data);
    for (const s of info.subOptions) {
      const k = SUB_KEY[s.code] as string;
      if (!opts.has(k)) opts.set(k, s.data);
    }
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const NO_OPTIONS: ReadonlyMap<string, Uint8Array> = new Map();

/** Message types the rules look into; every other type is only counted. */
export function isLegMessageType(t: number): boolean {
  return t === MessageType.ACK || t === MessageType.RELEASE || t === MessageType.DECLINE;
}

/** The address at `o` as text; "0.0.0.0" is the shared constant (no string built). */
function ipAt(b: Uint8Array, o: number): string {
  const b0 = b[o] as number;
  const b1 = b[o + 1] as number;
  const b2 = b[o + 2] as number;
  const b3 = b[o + 3] as number;
  if ((b0 | b1 | b2 | b3) === 0) return ZERO_IP;
  return `${b0}.${b1}.${b2}.${b3}`;
}

function u32At(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

/** ciaddr as text: the yiaddr string when both are the same address (a renewal's ACK). */
function ciaddrAt(b: Uint8Array, yiaddr: string): string {
  return u32At(b, 12) === u32At(b, 16) ? yiaddr : ipAt(b, 12);
}

/**
 * `fromDhcpMessage(decodeMessage(payload), time)` for a message the LEG ignores, from the
 * raw payload: `messageType` from `peekMessageType(payload)` (which also vouched that the
 * payload decodes), and not an ACK, RELEASE or DECLINE. No copy, no options.
 */
export function ignoredTransaction(payload: Uint8Array, messageType: number, time: number): LegTransaction {
  const yiaddr = ipAt(payload, 16);
  const ciaddr = ciaddrAt(payload, yiaddr);
  return { time, messageType, xid: u32At(payload, 4), chaddr: '', ciaddr, yiaddr, renewing: ciaddr !== ZERO_IP, options: NO_OPTIONS };
}

const OPTIONS_AT = 240;
const CHADDR_AT = 28;
// per option code: the walk (generation) that last saw it, to find repeated codes
const seen = new Uint32Array(256);
let walk = 0;

/**
 * `fromDhcpMessage(decodeMessage(payload), time)` straight from the wire, for an ACK,
 * RELEASE or DECLINE whose type `peekMessageType(payload)` read (so the payload decodes):
 * no copy, no DhcpMessage, option data are views into `payload` (the caller processes the
 * transaction before that buffer is reused). `keep` limits `options` to what the rules will
 * look up (option-filter.ts); every other field is as the full decode gives it. `lenient`:
 * options may run to the end of the payload without the end option (as
 * `decodeMessage(payload, { lenientEnd: true })`). Returns
 * undefined for what only the full decode handles: option overload (52) or an option split
 * into several instances (RFC 3396).
 */
export function fromPayload(payload: Uint8Array, messageType: number, time: number, keep: OptionFilter = ALL_OPTIONS, lenient = false): LegTransaction | undefined {
  walk = (walk + 1) >>> 0;
  if (walk === 0) {
    seen.fill(0);
    walk = 1;
  }
  const options = new Map<string, Uint8Array>();
  let relayError: string | undefined;
  // option 51 and 50: offset of the data (-1 = absent) and its length
  let leaseAt = -1;
  let leaseLen = 0;
  let requestedAt = -1;
  let serverAt = -1;
  const n = payload.length;
  let i = OPTIONS_AT;
  for (;;) {
    // no end option: only a lenient reader accepts options that run to the end of the packet
    if (i >= n) {
      if (lenient) break;
      return undefined;
    }
    const code = payload[i] as number;
    if (code === Opt.PAD) {
      i++;
      continue;
    }
    if (code === Opt.END) break;
    if (code === Opt.OVERLOAD || seen[code] === walk || i + 1 >= n) return undefined;
    seen[code] = walk;
    const st = i + 2;
    const end = st + (payload[i + 1] as number);
    if (end > n) return undefined;
    // a view made by the constructor: cheaper than subarray (no species lookup)
    if (keep.codes[code] === 1) options.set(CODE_KEY[code] as string, new Uint8Array(payload.buffer, payload.byteOffset + st, end - st));
    if (code === Opt.RELAY_AGENT) relayError = addRelaySubOptionsFast(options, payload, st, end, keep.subs);
    else if (code === Opt.LEASE_TIME) {
      leaseAt = st;
      leaseLen = end - st;
    } else if (code === Opt.REQUESTED_IP && end - st === 4) requestedAt = st;
    else if (code === Opt.SERVER_ID && end - st === 4) serverAt = st;
    i = end;
  }
  const hlen = payload[2] as number;
  const yiaddr = ipAt(payload, 16);
  const ciaddr = ciaddrAt(payload, yiaddr);
  const tx: LegTransaction = {
    time,
    messageType,
    xid: u32At(payload, 4),
    chaddr: hlen === 6 || hlen < 1 || hlen > 16 ? macAt(payload, CHADDR_AT) : macToString(payload.subarray(CHADDR_AT, CHADDR_AT + 16), hlen),
    ciaddr,
    yiaddr,
    renewing: ciaddr !== ZERO_IP,
    options,
    serverId: serverAt >= 0 ? u32At(payload, serverAt) : undefined,
    srcIp: undefined,
    dstIp: undefined,
  };
  if (leaseAt >= 0) tx.leaseSeconds = leaseLen === 4 ? u32At(payload, leaseAt) : NaN;
  if (relayError !== undefined) tx.relayError = relayError;
  if (messageType === MessageType.RELEASE && ciaddr !== ZERO_IP) tx.releasedIp = ciaddr;
  if (messageType === MessageType.DECLINE && requestedAt >= 0) {
    const req = ipAt(payload, requestedAt);
    if (req !== ZERO_IP) tx.releasedIp = req;
  }
  return tx;
}

/**
 * Normalizes a decoded DHCP message seen at `time` (ms). Messages the LEG ignores
 * (DISCOVER, OFFER, REQUEST …: most of the traffic) are only typed: no options, no chaddr.
 */
export function fromDhcpMessage(msg: DhcpMessage, time: number): LegTransaction {
  let messageType = 0;
  for (const o of msg.options) {
    if (o.code === Opt.MESSAGE_TYPE) {
      messageType = o.data.length === 1 ? (o.data[0] as number) : 0;
      break;
    }
  }
  if (!isLegMessageType(messageType)) {
    return { time, messageType, xid: msg.xid >>> 0, chaddr: '', ciaddr: msg.ciaddr, yiaddr: msg.yiaddr, renewing: msg.ciaddr !== ZERO_IP, options: NO_OPTIONS };
  }
  const options = new Map<string, Uint8Array>();
  let relayError: string | undefined;
  for (const o of msg.options) {
    const k = CODE_KEY[o.code] ?? String(o.code);
    if (options.has(k)) continue;
    options.set(k, o.data);
    if (o.code === Opt.RELAY_AGENT) relayError = addRelaySubOptions(options, o.data);
  }
  const hlen = msg.hlen >= 1 && msg.hlen <= 16 ? msg.hlen : 6;
  const tx: LegTransaction = {
    time,
    messageType,
    xid: msg.xid >>> 0,
    chaddr: macText(msg.chaddr, hlen),
    ciaddr: msg.ciaddr,
    yiaddr: msg.yiaddr,
    renewing: msg.ciaddr !== ZERO_IP,
    options,
    serverId: serverIdOf(options.get('54')),
    srcIp: undefined,
    dstIp: undefined,
  };
  const lease = leaseFromOption(options.get('51'));
  if (lease !== undefined) tx.leaseSeconds = lease;
  if (relayError !== undefined) tx.relayError = relayError;
  if (messageType === MessageType.RELEASE && msg.ciaddr !== ZERO_IP) tx.releasedIp = msg.ciaddr;
  if (messageType === MessageType.DECLINE) {
    const req = ipOf(options.get('50'));
    if (req !== undefined && req !== ZERO_IP) tx.releasedIp = req;
  }
  return tx;
}
