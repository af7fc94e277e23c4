/** The RDR TCP listener on 127.0.0.1: good records, a malformed one, lost framing, reconnect. */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { memorySink } from '../../agent/leg/events.ts';
import { listenRdr, parseHostPort, type RdrListener } from '../../agent/leg/rdr-server.ts';
import { encodeRdr } from '../../agent/leg/rdr.ts';
import { dhcpRdrToRecord, type DhcpRdr } from '../../agent/leg/rdr-dhcp.ts';
import { encodeRelayAgent } from '../../agent/dhcp/relay-agent.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { parseMac } from '../../agent/util/bytes.ts';
import { waitFor } from '../../scripts/lab/netns.ts';
import { cfg, lease, MODEM } from './helpers.ts';

const rdr = (n: number, over: Partial<DhcpRdr> = {}): Uint8Array =>
  encodeRdr(
    dhcpRdrToRecord({
      cpeMac: `aa:bb:cc:00:00:${n.toString(16).padStart(2, '0')}`,
      cmtsIp: '198.18.80.1',
      assignedIp: `198.18.81.${n}`,
      releasedIp: '0.0.0.0',
      transactionId: n,
      messageType: MessageType.ACK,
      options: [
        { code: 51, data: lease(600) },
        { code: 82, data: encodeRelayAgent([{ code: 2, data: parseMac(MODEM) }]) },
      ],
      endTime: Math.floor(Date.now() / 1000),
      ...over,
    }),
  );

let listener: RdrListener | undefined;
const socks: Socket[] = [];
afterEach(async () => {
  for (const s of socks.splice(0)) s.destroy();
  await listener?.close();
  listener = undefined;
});

async function setup() {
  const sink = memorySink();
  const engine = new LegEngine(cfg({ cable: true }), new LegStore(), sink);
  listener = await listenRdr(engine, '127.0.0.1', 0, (await import('../../agent/log.ts')).silentLogger());
  const { port } = listener.address();
  const open = async (): Promise<Socket> => {
    const s = connect(port, '127.0.0.1');
    socks.push(s);
    await new Promise<void>((r) => s.once('connect', () => r()));
    return s;
  };
  return { sink, engine, open };
}

describe('RDR listener', () => {
  it('logs on from DHCP RDRs split across TCP segments; a malformed record is skipped, the connection survives', async () => {
    const { sink, engine, open } = await setup();
    const s = await open();
    const a = rdr(1);
    const bad = rdr(2);
    bad[20] = 99; // first field's type: unknown
    const all = new Uint8Array([...a, ...bad, ...rdr(3)]);
    s.write(all.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 20));
    s.write(all.subarray(7));
    await waitFor(() => sink.events.length >= 2, 'two logons');
    expect(sink.events.map((e) => [e.event, e.subscriber, e.ip, e.transaction])).toEqual([
      ['logon', MODEM, '198.18.81.1', 'ack'],
      ['logon', MODEM, '198.18.81.3', 'ack'],
    ]);
    expect(engine.counters()['malformed.rdr']).toBe(1);
    expect(s.destroyed).toBe(false);
  });

  it('lost framing closes that connection only; the listener keeps accepting, nothing processed is lost', async () => {
    const { sink, engine, open } = await setup();
    const s1 = await open();
    const closed = new Promise<void>((r) => s1.once('close', () => r()));
    s1.write(new Uint8Array([...rdr(1), 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0]));
    s1.on('data', () => undefined);
    await closed;
    const s2 = await open();
    s2.write(rdr(2));
    s2.write(rdr(1, { messageType: MessageType.RELEASE, assignedIp: '0.0.0.0', releasedIp: '198.18.81.1', options: [], transactionId: 77 }));
    await waitFor(() => sink.events.length >= 3, 'events after reconnect');
    expect(sink.events.map((e) => [e.event, e.ip])).toEqual([
      ['logon', '198.18.81.1'],
      ['logon', '198.18.81.2'],
      ['logout', '198.18.81.1'],
    ]);
    expect(engine.counters()).toMatchObject({ 'malformed.rdr-framing': 1, 'rdr.connections': 2 });
  });

  it('parses HOST:PORT', () => {
    expect(parseHostPort('198.18.80.1:33110')).toEqual({ host: '198.18.80.1', port: 33110 });
    expect(parseHostPort(':33110')).toEqual({ host: '0.0.0.0', port: 33110 });
    expect(parseHostPort('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(() => parseHostPort('nope')).toThrow(expect.objectContaining({ code: 'CLI_INVALID' }));
  });
});
