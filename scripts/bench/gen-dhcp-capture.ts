/**
 * Writes pcap files of DHCP traffic with the agent's own encoder (agent/dhcp/codec.ts):
 * Ethernet / IPv4 / UDP frames, classic pcap (microseconds). Used by the LEG bench (a large,
 * realistic mix) and by tests that need captures the shared ones do not hold.
 *
 *   node scripts/bench/gen-dhcp-capture.ts OUT.pcap [MESSAGES] [SUBSCRIBERS]
 *
 * The mix: subscribers are cable modems (MAC 02:00:…) each with 1–3 CPEs behind them; a
 * CPE's life is DISCOVER, OFFER, REQUEST, ACK (option 82 circuit-ID/remote-ID, lease 3600 s by default),
 * then renewals (REQUEST with ciaddr, ACK) every half lease, sometimes a RELEASE.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { DhcpMessage, DhcpOption } from '../../agent/dhcp/message.ts';
import { BOOTREPLY, BOOTREQUEST, MessageType, Opt, newMessage } from '../../agent/dhcp/message.ts';
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import { encodeRelayAgent } from '../../agent/dhcp/relay-agent.ts';
import { parseIpv4, parseMac } from '../../agent/util/bytes.ts';
import { mulberry32 } from '../../agent/util/prng.ts';

export function pcapFileHeader(linkType = 1): Uint8Array {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(262144, 16);
  b.writeUInt32LE(linkType, 20);
  return b;
}

export function pcapRecord(timeMs: number, frame: Uint8Array, origLength = frame.length): Uint8Array {
  const b = Buffer.alloc(16 + frame.length);
  const sec = Math.floor(timeMs / 1000);
  b.writeUInt32LE(sec, 0);
  b.writeUInt32LE(Math.round((timeMs - sec * 1000) * 1000), 4);
  b.writeUInt32LE(frame.length, 8);
  b.writeUInt32LE(origLength, 12);
  b.set(frame, 16);
  return b;
}

function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += ((b[off + i] as number) << 8) | (b[off + i + 1] as number);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export interface UdpEndpoints {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
}

/** Ethernet II + IPv4 (header checksum) + UDP (checksum 0: not computed, allowed by RFC 768). */
export function udpFrame(e: UdpEndpoints, payload: Uint8Array): Uint8Array {
  const f = Buffer.alloc(14 + 20 + 8 + payload.length);
  f.set(parseMac(e.dstMac), 0);
  f.set(parseMac(e.srcMac), 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + payload.length, 16);
  f[22] = 64;
  f[23] = 17;
  f.set(parseIpv4(e.srcIp), 26);
  f.set(parseIpv4(e.dstIp), 30);
  f.writeUInt16BE(ipChecksum(f, 14, 20), 24);
  f.writeUInt16BE(e.srcPort, 34);
  f.writeUInt16BE(e.dstPort, 36);
  f.writeUInt16BE(8 + payload.length, 38);
  f.set(payload, 42);
  return f;
}

export interface MsgSpec {
  type: number;
  xid: number;
  chaddr: string;
  ciaddr?: string;
  yiaddr?: string;
  giaddr?: string;
  lease?: number;
  /** option 82 sub-options: code → bytes */
  relay?: { code: number; data: Uint8Array }[];
  /** extra options, in order, after 53 */
  options?: DhcpOption[];
  serverId?: string;
}

export function buildMessage(s: MsgSpec): DhcpMessage {
  const chaddr = new Uint8Array(16);
  chaddr.set(parseMac(s.chaddr), 0);
  const reply = s.type === MessageType.OFFER || s.type === MessageType.ACK || s.type === MessageType.NAK;
  const options: DhcpOption[] = [{ code: Opt.MESSAGE_TYPE, data: new Uint8Array([s.type]) }];
  if (s.serverId) options.push({ code: Opt.SERVER_ID, data: parseIpv4(s.serverId) });
  if (s.lease !== undefined) {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setUint32(0, s.lease >>> 0);
    options.push({ code: Opt.LEASE_TIME, data: d });
  }
  for (const o of s.options ?? []) options.push(o);
  if (s.relay) options.push({ code: Opt.RELAY_AGENT, data: encodeRelayAgent(s.relay) });
  return newMessage({
    op: reply ? BOOTREPLY : BOOTREQUEST,
    hops: s.giaddr && s.giaddr !== '0.0.0.0' ? 1 : 0,
    xid: s.xid >>> 0,
    ciaddr: s.ciaddr,
    yiaddr: s.yiaddr,
    giaddr: s.giaddr,
    chaddr,
    options,
  });
}

const SERVER_MAC = '02:53:00:00:00:01';
const SERVER_IP = '198.18.95.1';
const RELAY_IP = '198.18.95.254';

/** A frame carrying `s`, relayed: requests relay → server (port 67), replies server → relay. */
export function dhcpFrame(s: MsgSpec): Uint8Array {
  const payload = encodeMessage(buildMessage(s));
  const reply = s.type === MessageType.OFFER || s.type === MessageType.ACK || s.type === MessageType.NAK;
  const relayMac = '02:52:00:00:00:01';
  return reply
    ? udpFrame({ srcMac: SERVER_MAC, dstMac: relayMac, srcIp: SERVER_IP, dstIp: RELAY_IP, srcPort: 67, dstPort: 67 }, payload)
    : udpFrame({ srcMac: relayMac, dstMac: SERVER_MAC, srcIp: s.ciaddr && s.ciaddr !== '0.0.0.0' ? s.ciaddr : RELAY_IP, dstIp: SERVER_IP, srcPort: 67, dstPort: 67 }, payload);
}

/** Writes `records` ([timeMs, frame]) as a pcap file. */
export function writePcap(file: string, records: Iterable<[number, Uint8Array]>): number {
  const fd = openSync(file, 'w');
  let n = 0;
  try {
    writeSync(fd, pcapFileHeader());
    let batch: Uint8Array[] = [];
    let size = 0;
    for (const [t, f] of records) {
      const r = pcapRecord(t, f);
      batch.push(r);
      size += r.length;
      n++;
      if (size > 1 << 20) {
        writeSync(fd, Buffer.concat(batch));
        batch = [];
        size = 0;
      }
    }
    if (batch.length) writeSync(fd, Buffer.concat(batch));
  } finally {
    closeSync(fd);
  }
  return n;
}

/** Deterministic PRNG (mulberry32) so a seed always gives the same capture. */
export const prng = mulberry32;

function mac(prefix: number, n: number): string {
  return [2, prefix, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function ipFor(n: number): string {
  // 10.0.0.0/8 style inside 198.18.0.0/15 is too small for 10^6 CPEs: the bench capture
  // never touches a network, so CPE addresses are drawn from 100.64.0.0/10 (shared space).
  const v = (100 << 24) | (64 << 16) | (n & 0x3fffff);
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export interface MixStats {
  /** message type of the record yielded last (lets a caller filter the mix) */
  lastType?: number;
  messages: number;
  acks: number;
  releases: number;
  subscribers: number;
  cpes: number;
}

/**
 * The realistic mix for the bench: `subscribers` modems; each CPE does a full DORA logon,
 * then renewals every 1800 s, and about one in ten releases and logs on again later.
 */
export function* dhcpMix(messages: number, subscribers: number, stats: MixStats, seed = 1, lease: number | ((cpe: number) => number) = 3600): Generator<[number, Uint8Array]> {
  const rnd = prng(seed);
  const t0 = Date.UTC(2026, 0, 1);
  let xid = 1;
  const cpesOf = Array.from({ length: subscribers }, () => 1 + Math.floor(rnd() * 3));
  type Cpe = { sub: number; mac: string; ip: string; bound: boolean; lease: number };
  const cpes: Cpe[] = [];
  let n = 0;
  cpesOf.forEach((k, sub) => {
    for (let j = 0; j < k; j++) cpes.push({ sub, mac: mac(0xcc, n), ip: ipFor(n), bound: false, lease: typeof lease === 'number' ? lease : lease(n) }), n++;
  });
  stats.subscribers = subscribers;
  stats.cpes = cpes.length;
  let t = t0;
  const step = 1800_000 / Math.max(1, cpes.length);
  let i = 0;
  while (stats.messages < messages) {
    const c = cpes[i % cpes.length] as Cpe;
    i++;
    t += step;
    const remote = parseMac(mac(0x0d, c.sub));
    const relay = [
      { code: 1, data: new TextEncoder().encode(`olt1/pon${c.sub % 64}`) },
      { code: 2, data: remote },
    ];
    const x = xid++;
    const emit = (type: number, extra: Partial<MsgSpec>, dt: number): [number, Uint8Array] => {
      stats.messages++;
      stats.lastType = type;
      if (type === MessageType.ACK) stats.acks++;
      if (type === MessageType.RELEASE) stats.releases++;
      return [t + dt, dhcpFrame({ type, xid: x, chaddr: c.mac, giaddr: RELAY_IP, serverId: SERVER_IP, ...extra })];
    };
    if (!c.bound) {
      yield emit(MessageType.DISCOVER, { relay }, 0);
      yield emit(MessageType.OFFER, { yiaddr: c.ip, lease: c.lease, relay }, 1);
      yield emit(MessageType.REQUEST, { relay }, 2);
      yield emit(MessageType.ACK, { yiaddr: c.ip, lease: c.lease, relay }, 3);
      c.bound = true;
    } else if (rnd() < 0.1) {
      yield emit(MessageType.RELEASE, { ciaddr: c.ip, giaddr: '0.0.0.0' }, 0);
      c.bound = false;
    } else {
      yield emit(MessageType.REQUEST, { ciaddr: c.ip, giaddr: '0.0.0.0' }, 0);
      yield emit(MessageType.ACK, { ciaddr: c.ip, yiaddr: c.ip, lease: c.lease, relay }, 1);
    }
  }
}

/** Only the ACKs of the mix (logons and renewals): the LEG's hot path, nothing to ignore. */
export function* ackOnly(mix: Generator<[number, Uint8Array]>, stats: MixStats): Generator<[number, Uint8Array]> {
  for (const r of mix) if (stats.lastType === MessageType.ACK) yield r;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: node scripts/bench/gen-dhcp-capture.ts OUT.pcap [MESSAGES] [SUBSCRIBERS]\n');
    process.exit(2);
  }
  const messages = Number(process.argv[3] ?? 1_000_000);
  const subs = Number(process.argv[4] ?? 100_000);
  const stats: MixStats = { messages: 0, acks: 0, releases: 0, subscribers: 0, cpes: 0 };
  writePcap(out, dhcpMix(messages, subs, stats));
  process.stdout.write(JSON.stringify(stats) + '\n');
}
