/**
 * The third-party captures in ../shared/captures through the whole LEG (pcap reader, DHCP
 * codec, rules, store): the exact event sequence each must produce.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { memorySink, type LegEvent } from '../../agent/leg/events.ts';
import { replayFile } from '../../agent/leg/sources/replay.ts';
import type { LegConfigInput } from '../../agent/leg/config.ts';
import { cfg } from './helpers.ts';
import { capturePath } from '../helpers/prereq.ts';
import { dhcpFrame, writePcap } from '../../scripts/bench/gen-dhcp-capture.ts';
import { MessageType } from '../../agent/dhcp/message.ts';

const ZEEK = capturePath('zeek_dhcp.pcap');
const ZEEK82 = capturePath('zeek_dhcp_ack_subscriber_id_and_agent_remote_id.pcap');
const SURICATA = capturePath('sv_dhcp-eve-extended.pcap');
const RFC4388 = capturePath('tcpdump_dhcp-rfc4388.pcap');

async function replay(files: string[], c: LegConfigInput = {}): Promise<{ events: LegEvent[]; counters: Record<string, number> }> {
  const sink = memorySink();
  const engine = new LegEngine(cfg(c), new LegStore(), sink);
  for (const f of files) await replayFile(engine, f);
  const counters = engine.counters();
  engine.store.close();
  return { events: sink.events, counters };
}

const ev = (e: Partial<LegEvent>): LegEvent => ({
  event: 'logon',
  time: '',
  subscriber: null,
  ip: null,
  modem: false,
  leaseSeconds: null,
  package: null,
  reason: null,
  transaction: 'initial',
  chaddr: null,
  xid: null,
  ...e,
});

describe('zeek dhcp.pcap: DISCOVER OFFER REQUEST NAK REQUEST ACK DECLINE RELEASE INFORM', () => {
  const DELL = '90:b1:1c:99:49:29';
  it('with the IP fallback: logon, logout by the DECLINE (matched by xid: no option 50), RELEASE without ciaddr rejected', async () => {
    const { events, counters } = await replay([ZEEK], { fallbackToIp: true, policy: { defaultPackage: 'basic' } });
    expect(events).toEqual([
      ev({ event: 'logon', time: '2013-06-02T19:14:04.371Z', subscriber: 'IP_128.2.6.189', ip: '128.2.6.189', leaseSeconds: 900, package: 'basic', chaddr: DELL, xid: '0x000007c0' }),
      ev({ event: 'logout', time: '2013-06-02T19:14:05.381Z', subscriber: 'IP_128.2.6.189', ip: '128.2.6.189', reason: 'decline', transaction: 'decline', chaddr: DELL, xid: '0x000007c0' }),
      ev({ event: 'rejected', time: '2013-06-02T19:14:06.402Z', reason: 'release-without-ciaddr', transaction: 'release', chaddr: DELL, xid: '0x0000079c' }),
    ]);
    expect(counters).toMatchObject({ 'ignored.DISCOVER': 1, 'ignored.OFFER': 1, 'ignored.REQUEST': 2, 'ignored.NAK': 1, 'ignored.INFORM': 1, transactions: 9 });
  });

  it('without a subscriber ID the ACK cannot log on (IP unknown); the DECLINE then matches nothing', async () => {
    const { events, counters } = await replay([ZEEK]);
    expect(events.map((e) => [e.event, e.reason, e.ip])).toEqual([
      ['rejected', 'no-subscriber-id-and-ip-unknown', '128.2.6.189'],
      ['rejected', 'release-without-ciaddr', null],
    ]);
    expect(counters['ignored.DECLINE-not-logged-on']).toBe(1);
  });

  it('cable mode: no option 82 → no initial logon', async () => {
    const { events } = await replay([ZEEK], { cable: true });
    expect(events.map((e) => [e.event, e.reason])).toEqual([
      ['rejected', 'missing-option-82'],
      ['rejected', 'release-without-ciaddr'],
    ]);
  });
});

describe('zeek ACK with option 82 (circuit-ID, remote-ID, subscriber-ID)', () => {
  const base = { time: '2004-12-05T19:16:24.387Z', ip: '192.168.0.10', leaseSeconds: 3600, chaddr: '00:0a:28:00:fa:42', xid: '0x00003d11' };
  it.each([
    ['82.6 subscriber-ID (printable → text)', '82.6', '-subID-'],
    ['82.2 remote-ID (one byte 0x13, not printable → hex)', '82.2', '13'],
    ['82.1 circuit-ID', '82.1', 'this is only a test...'],
  ])('%s', async (_n, opt, id) => {
    const { events } = await replay([ZEEK82], { subscriberOption: opt });
    expect(events).toEqual([ev({ event: 'logon', subscriber: id, ...base })]);
  });
  it('cable mode: a one-byte remote-ID is no modem MAC → rejected', async () => {
    const { events } = await replay([ZEEK82], { cable: true });
    expect(events).toEqual([ev({ event: 'rejected', reason: 'remote-id-not-mac', ...base })]);
  });
});

describe('suricata renewal (REQUEST with ciaddr, ACK with lease 3600)', () => {
  const NAS = '00:11:32:17:49:f0';
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('an extension of an IP the LEG never saw, without subscriber ID → rejected', async () => {
    const { events } = await replay([SURICATA]);
    expect(events).toEqual([
      ev({ event: 'rejected', time: '2020-04-29T19:58:19.731Z', ip: '10.16.1.4', leaseSeconds: 3600, reason: 'no-subscriber-id-and-ip-unknown', transaction: 'extension', chaddr: NAS, xid: '0xef645744' }),
    ]);
  });

  it('with the fallback the extension logs the IP on', async () => {
    const { events } = await replay([SURICATA], { fallbackToIp: true });
    expect(events).toEqual([
      ev({ event: 'logon', time: '2020-04-29T19:58:19.731Z', subscriber: 'IP_10.16.1.4', ip: '10.16.1.4', leaseSeconds: 3600, transaction: 'extension', chaddr: NAS, xid: '0xef645744' }),
    ]);
  });

  it('after an initial logon of that IP it is an extension of the same subscriber (found by IP)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'leg-cap-'));
    dirs.push(d);
    const first = join(d, 'initial.pcap');
    const t = Date.parse('2020-04-29T19:30:00Z');
    writePcap(first, [
      [t, dhcpFrame({ type: MessageType.ACK, xid: 0x77, chaddr: NAS, yiaddr: '10.16.1.4', lease: 3600, options: [], relay: [{ code: 1, data: new TextEncoder().encode('sw1/7') }] })],
    ]);
    const { events } = await replay([first, SURICATA], { subscriberOption: '82.1' });
    expect(events.map((e) => [e.event, e.subscriber, e.ip, e.transaction, e.time])).toEqual([
      ['logon', 'sw1/7', '10.16.1.4', 'initial', '2020-04-29T19:30:00.000Z'],
      ['extend', 'sw1/7', '10.16.1.4', 'extension', '2020-04-29T19:58:19.731Z'],
    ]);
  });
});

describe('tcpdump dhcp-rfc4388.pcap: relayed DORA ×4, leasequery, two malformed BOOTP packets', () => {
  it('four logons, leasequery ignored, malformed packets counted, other traffic skipped', async () => {
    const { events, counters } = await replay([RFC4388], { fallbackToIp: true });
    expect(events.map((e) => [e.event, e.subscriber, e.xid])).toEqual([
      ['logon', 'IP_10.30.4.4', '0x3cd0af7e'],
      ['logon', 'IP_10.50.4.4', '0xbebd1734'],
      ['logon', 'IP_10.50.4.4', '0x5ad9290e'],
      ['logon', 'IP_10.30.4.4', '0xf9704526'],
    ]);
    expect(counters).toMatchObject({ 'ignored.LEASEQUERY': 9, 'ignored.LEASEACTIVE': 8, 'ignored.LEASEUNKNOWN': 1, 'malformed.dhcp': 2, 'skipped.non-dhcp': 18 });
  });
});
