/**
 * Issue 8 point 7 through the whole LEG (generated capture → replay): busybox udhcpc renews
 * with the xid of its initial exchange; ISC dhcpd (dhcp-cache-threshold) may answer an early
 * renewal with the expiry unchanged. The renewal ACK (ciaddr set) is an `extend`, not a
 * duplicate of the initial ACK; the second leg of each relayed ACK stays a duplicate. And an
 * ACK without the end option is taken (`lenient.no-end`) while the codec stays strict.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { memorySink } from '../../agent/leg/events.ts';
import { replayFile } from '../../agent/leg/sources/replay.ts';
import { buildMessage, udpFrame, writePcap } from '../../scripts/bench/gen-dhcp-capture.ts';
import { decodeMessage, encodeMessage, peekMessageType } from '../../agent/dhcp/codec.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { fromPayload, fromDhcpMessage } from '../../agent/leg/transaction.ts';
import { cfg } from './helpers.ts';
import { execFileSync } from 'node:child_process';
import { haveTool } from '../helpers/prereq.ts';

const SERVER = '198.18.98.1';
const RELAY = '198.18.98.254';
const CLIENT = '02:dd:00:00:00:01';
const IP = '198.18.99.20';
const T = Date.UTC(2026, 6, 1, 9, 0, 0);
const dir = mkdtempSync(join(tmpdir(), 'leg-renew-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const toRelay = (m: Uint8Array) => udpFrame({ srcMac: '02:53:00:00:00:01', dstMac: '02:52:00:00:00:01', srcIp: SERVER, dstIp: RELAY, srcPort: 67, dstPort: 67 }, m);
const toClient = (m: Uint8Array) => udpFrame({ srcMac: '02:52:00:00:00:01', dstMac: '02:dd:00:00:00:01', srcIp: RELAY, dstIp: IP, srcPort: 67, dstPort: 68 }, m);

async function replay(file: string): Promise<{ events: string[]; counters: Record<string, number> }> {
  const sink = memorySink();
  const engine = new LegEngine(cfg({ subscriberOption: '82.1', trustedServers: [SERVER] }), new LegStore(), sink);
  await replayFile(engine, file);
  const counters = engine.counters();
  engine.store.close();
  return { events: sink.events.map((e) => `${e.event} ${e.transaction} ${e.subscriber} ${e.ip}`), counters };
}

describe('udhcpc renewal with the initial xid, expiry unchanged', () => {
  it('initial ACK (both legs) → logon; renewal ACK (both legs, same xid, same expiry) → extend', async () => {
    const file = join(dir, 'renew.pcap');
    const relay = [{ code: 1, data: new TextEncoder().encode('r1') }];
    const base = { xid: 0xabc, chaddr: CLIENT, yiaddr: IP, serverId: SERVER, giaddr: RELAY };
    // lease 600 s at T; the renewal 5 s later gets "the remaining lease" (595 s): same expiry
    const initial = encodeMessage(buildMessage({ ...base, type: MessageType.ACK, lease: 600, relay }));
    const initialClientLeg = encodeMessage(buildMessage({ ...base, type: MessageType.ACK, lease: 600 }));
    const renewal = encodeMessage(buildMessage({ ...base, type: MessageType.ACK, ciaddr: IP, lease: 595, relay }));
    const renewalClientLeg = encodeMessage(buildMessage({ ...base, type: MessageType.ACK, ciaddr: IP, lease: 595 }));
    writePcap(file, [
      [T, toRelay(initial)],
      [T + 1, toClient(initialClientLeg)],
      [T + 5000, toRelay(renewal)],
      [T + 5001, toClient(renewalClientLeg)],
    ]);
    const r = await replay(file);
    expect(r.events).toEqual([`logon initial r1 ${IP}`, `extend extension r1 ${IP}`]);
    expect(r.counters['duplicate.ACK']).toBe(2);
  });
});

describe('ACK without the end option', () => {
  const ack = encodeMessage(buildMessage({ type: MessageType.ACK, xid: 0x77, chaddr: CLIENT, yiaddr: IP, serverId: SERVER, lease: 600, relay: [{ code: 1, data: new TextEncoder().encode('r2') }] }));
  // the message cut just before its end option (the encoder pads after it to 300 bytes):
  // the last option then ends exactly at the end of the packet
  let end = 240;
  while (ack[end] !== 255) end += ack[end] === 0 ? 1 : 2 + (ack[end + 1] as number);
  const noEnd = ack.slice(0, end);

  it('the DHCP codec stays strict by default; lenientEnd takes it, and nothing else changes', () => {
    expect(ack[end]).toBe(255);
    expect(() => decodeMessage(noEnd)).toThrow(/no end option/);
    expect(peekMessageType(noEnd)).toBeUndefined();
    expect(peekMessageType(noEnd, { lenientEnd: true })).toBe(MessageType.ACK);
    const lenient = decodeMessage(noEnd, { lenientEnd: true });
    expect(lenient.options).toEqual(decodeMessage(ack).options);
    // an option cut short is still an error, lenient or not
    expect(() => decodeMessage(noEnd.slice(0, noEnd.length - 1), { lenientEnd: true })).toThrow(/claims/);
  });

  it('the LEG wire reader: lenient only when asked, then equal to the full lenient decode', () => {
    expect(fromPayload(noEnd, MessageType.ACK, T)).toBeUndefined();
    expect(fromPayload(noEnd, MessageType.ACK, T, undefined, true)).toEqual(fromDhcpMessage(decodeMessage(noEnd, { lenientEnd: true }), T));
  });

  it('replay: the ACK logs on, counted lenient.no-end (not malformed); tshark reads it as an ACK', async () => {
    const file = join(dir, 'no-end.pcap');
    writePcap(file, [[T, toRelay(noEnd)]]);
    if (haveTool('tshark')) {
      const out = execFileSync('tshark', ['-r', file, '-Y', 'dhcp.option.dhcp == 5', '-T', 'fields', '-e', 'dhcp.ip.your', '-e', 'dhcp.option.ip_address_lease_time'], { encoding: 'utf8' });
      expect(out.trim()).toBe(`${IP}\t600`);
    } else if (process.env.CI) throw new Error('tshark missing under CI (scripts/setup.sh installs it)');
    const r = await replay(file);
    expect(r.events).toEqual([`logon initial r2 ${IP}`]);
    expect(r.counters['lenient.no-end']).toBe(1);
    expect(r.counters['malformed.dhcp']).toBeUndefined();
  });
});
