/**
 * Bad input through the whole replay path: truncated packets, non-DHCP traffic on the DHCP
 * ports, other traffic, an ACK without option 51, duplicate ACKs (mirror port: both legs of
 * a relayed exchange), a capture cut inside a record. Nothing crashes, nothing half-applies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { memorySink } from '../../agent/leg/events.ts';
import { replayFile } from '../../agent/leg/sources/replay.ts';
import { cfg, MODEM, T0 } from './helpers.ts';
import { buildMessage, dhcpFrame, udpFrame, writePcap, type MsgSpec } from '../../scripts/bench/gen-dhcp-capture.ts';
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { parseMac } from '../../agent/util/bytes.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'leg-bad-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CPE1 = '02:cc:00:00:00:01';
const relay = [{ code: 2, data: parseMac(MODEM) }];
const ack = (s: Partial<MsgSpec>): MsgSpec => ({ type: MessageType.ACK, xid: 1, chaddr: CPE1, yiaddr: '198.18.81.1', lease: 600, relay, ...s });
const toClient = (s: MsgSpec) =>
  udpFrame({ srcMac: '02:52:00:00:00:01', dstMac: '02:cc:00:00:00:01', srcIp: '198.18.81.254', dstIp: '198.18.81.1', srcPort: 67, dstPort: 68 }, encodeMessage(buildMessage(s)));

async function replay(file: string) {
  const sink = memorySink();
  const engine = new LegEngine(cfg({ cable: true }), new LegStore(), sink);
  const r = await replayFile(engine, file);
  return { events: sink.events, counters: engine.counters(), result: r, store: engine.store };
}

describe('bad input in a capture', () => {
  it('is counted and skipped; good transactions around it are processed', async () => {
    const good = dhcpFrame(ack({}));
    const truncated = good.subarray(0, 42 + 100); // snaplen cut inside the BOOTP header
    const junk = udpFrame({ srcMac: '02:00:00:00:00:0a', dstMac: '02:00:00:00:00:0b', srcIp: '198.18.81.9', dstIp: '198.18.81.254', srcPort: 5000, dstPort: 67 }, new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'));
    const dns = udpFrame({ srcMac: '02:00:00:00:00:0a', dstMac: '02:00:00:00:00:0b', srcIp: '198.18.81.9', dstIp: '198.18.81.254', srcPort: 5353, dstPort: 53 }, new Uint8Array(30));
    const arp = new Uint8Array(42);
    arp.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 9, 0x08, 0x06], 0);
    const file = join(dir, 'bad.pcap');
    writePcap(file, [
      [T0, truncated],
      [T0 + 1, junk],
      [T0 + 2, dns],
      [T0 + 3, arp],
      [T0 + 4, good],
      [T0 + 5, good], // mirror copy of the same ACK
      [T0 + 6, toClient(ack({ relay: [] }))], // client-side leg: dhcrelay stripped option 82
      [T0 + 7, dhcpFrame(ack({ xid: 2, chaddr: '02:cc:00:00:00:02', yiaddr: '198.18.81.2', lease: undefined }))], // no option 51
    ]);
    const { events, counters } = await replay(file);
    expect(events.map((e) => [e.event, e.ip, e.reason])).toEqual([
      ['logon', '198.18.81.1', null],
      ['rejected', '198.18.81.2', 'missing-lease-time'],
    ]);
    expect(counters).toMatchObject({
      'malformed.truncated': 1,
      'malformed.dhcp': 1,
      'skipped.non-dhcp': 2,
      'duplicate.ACK': 2,
      'rejected.missing-lease-time': 1,
      'events.logon': 1,
    });
  });

  it('a capture cut inside its last record keeps everything before the cut', async () => {
    const file = join(dir, 'cut.pcap');
    writePcap(file, [
      [T0, dhcpFrame(ack({}))],
      [T0 + 1, dhcpFrame(ack({ xid: 3, chaddr: '02:cc:00:00:00:03', yiaddr: '198.18.81.3' }))],
    ]);
    const b = readFileSync(file);
    writeFileSync(file, b.subarray(0, b.length - 50));
    const { events, counters } = await replay(file);
    expect(events.map((e) => e.ip)).toEqual(['198.18.81.1']);
    expect(counters['malformed.pcap']).toBe(1);
  });

  it('a file that is not a capture is a typed error, and nothing is applied', async () => {
    const file = join(dir, 'not.pcap');
    writeFileSync(file, 'this is not a capture file at all, just text\n');
    await expect(replay(file)).rejects.toMatchObject({ code: expect.stringMatching(/^PCAP_/) });
    await expect(replay(join(dir, 'missing.pcap'))).rejects.toMatchObject({ code: 'LEG_REPLAY_OPEN' });
  });
});
