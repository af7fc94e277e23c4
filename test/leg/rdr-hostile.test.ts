/**
 * The RDR listener under hostile peers (issue 11): while one allowed SCE (127.0.0.1) sends its
 * DHCP RDRs, a refused address (127.0.0.2) opens hundreds of connections, and allowed but
 * hostile peers (127.0.1.x) open more connections than the limits allow and send garbage,
 * half records, oversized or binary length fields and a flood. The allowed SCE's RDRs must all be
 * processed, in order; the limits must be counted. Peak RSS is reported (not asserted: no
 * timed or machine-dependent assertions).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { memorySink } from '../../agent/leg/events.ts';
import { listenRdr, allowList, peerAddress, RateLimit, type RdrListener } from '../../agent/leg/rdr-server.ts';
import { encodeRdr } from '../../agent/leg/rdr.ts';
import { dhcpRdrToRecord } from '../../agent/leg/rdr-dhcp.ts';
import { encodeRelayAgent } from '../../agent/dhcp/relay-agent.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { parseMac } from '../../agent/util/bytes.ts';
import { silentLogger } from '../../agent/log.ts';
import { waitFor } from '../../scripts/lab/netns.ts';
import { cfg, lease, MODEM } from './helpers.ts';

const GOOD = 1500;
const ipOf = (net: number, i: number) => `198.18.${net + (i >> 8)}.${i & 255}`;
function rdr(i: number, net: number): Uint8Array {
  return encodeRdr(
    dhcpRdrToRecord({
      cpeMac: `aa:bb:cc:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      cmtsIp: '198.18.80.1',
      assignedIp: ipOf(net, i),
      releasedIp: '0.0.0.0',
      transactionId: i,
      messageType: MessageType.ACK,
      options: [
        { code: 51, data: lease(86_400) },
        { code: 82, data: encodeRelayAgent([{ code: 2, data: parseMac(MODEM) }]) },
      ],
      endTime: 1_800_000_000 + i,
    }),
  );
}

let listener: RdrListener | undefined;
const socks: Socket[] = [];
afterEach(async () => {
  for (const s of socks.splice(0)) s.destroy();
  await listener?.close();
  listener = undefined;
});

function open(port: number, localAddress: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress });
    socks.push(s);
    s.on('error', () => resolve(undefined));
    s.on('data', () => undefined);
    s.once('connect', () => resolve(s));
  });
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RDR listener pieces', () => {
  it('allow list: CIDR prefixes, IPv4-mapped peers, nothing else', () => {
    const a = allowList(['127.0.0.1/32', '198.18.0.0/15', '::1']);
    expect(['127.0.0.1', '198.19.255.1', '::1', peerAddress('::ffff:198.18.3.4')].map((x) => a.allows(x))).toEqual([true, true, true, true]);
    expect(['127.0.0.2', '198.20.0.1', '::2', peerAddress(undefined)].map((x) => a.allows(x))).toEqual([false, false, false, false]);
    expect(() => allowList(['1:2:3:4:5:6:7:8:9/64'])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => allowList(['198.18.0.0/40'])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
  it('rate limit: a second of burst, then the rate', () => {
    const r = new RateLimit(10, 0);
    expect(Array.from({ length: 12 }, () => r.take(0)).filter(Boolean).length).toBe(10);
    expect(r.take(50)).toBe(false);
    expect(r.take(100)).toBe(true);
    expect(r.take(100)).toBe(false);
    expect(Array.from({ length: 12 }, () => r.take(10_000)).filter(Boolean).length).toBe(10);
  });
});

describe('RDR listener under hostile peers', { timeout: 120_000 }, () => {
  it('the allowed SCE’s RDRs are all processed in order; refusals and closures are counted', async () => {
    const sink = memorySink();
    const engine = new LegEngine(cfg({ cable: true }), new LegStore(), sink);
    const limits = { allow: ['127.0.0.1/32', '127.0.1.0/24'], maxConnections: 40, maxConnectionsPerPeer: 6, maxFrameBytes: 2048, idleTimeoutSeconds: 5, maxRecordsPerSecond: 3000 };
    listener = await listenRdr(engine, '127.0.0.1', 0, silentLogger(), limits);
    const { port } = listener.address();
    const rssStart = process.resourceUsage().maxRSS;

    // the allowed SCE connects first, then sends its records in odd-sized pieces throughout
    const good = (await open(port, '127.0.0.1')) as Socket;
    const goodBytes = Buffer.concat(Array.from({ length: GOOD }, (_, i) => rdr(i, 100)));
    const sending = (async () => {
      let o = 0;
      let k = 0;
      while (o < goodBytes.length) {
        const n = 1 + ((k++ * 7919) % 3000);
        good.write(goodBytes.subarray(o, o + n));
        o += n;
        if (k % 20 === 0) await pause(5);
      }
    })();

    // 300 connections from an address outside the allow list, each sending garbage
    const refused = Promise.all(
      Array.from({ length: 300 }, async () => {
        const s = await open(port, '127.0.0.2');
        s?.write(Buffer.alloc(64, 0x41));
      }),
    );
    // allowed but hostile: 10 addresses × 8 connections (per-peer limit 6, total limit 40)
    const hostile: Socket[] = [];
    for (let p = 1; p <= 10; p++) {
      for (let c = 0; c < 8; c++) {
        const s = await open(port, `127.0.1.${p}`);
        if (s) hostile.push(s);
      }
    }
    // all of them open at once before anyone writes: the limits, not closures, decide
    const c = () => engine.counters();
    const seenHostile = () => (c()['rdr.connections'] ?? 0) - 1 + (c()['rdr.refused.limit-peer'] ?? 0) + (c()['rdr.refused.limit-total'] ?? 0);
    await waitFor(() => seenHostile() >= hostile.length, `${hostile.length} hostile connections accepted or refused`, 60_000);
    let flood = 0;
    for (const [i, s] of hostile.entries()) {
      switch (i % 5) {
        case 0: // garbage: an impossible length → framing lost, closed
          s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
          break;
        case 1: // half a record, then silence → idle timeout
          s.write(rdr(i, 120).subarray(0, 30));
          break;
        case 2: // a length field beyond maxFrameBytes ("9999") → closed at once
          s.write(Buffer.from([0, 0x39, 0x39, 0x39, 0x39, 1, 2, 3]));
          break;
        case 3: // a flood of valid records far above maxRecordsPerSecond → closed
          for (let k = 0; k < 20; k++) s.write(Buffer.concat(Array.from({ length: 500 }, (_, j) => rdr(flood++ % 5000, 110))));
          break;
        default: // records with garbage fields (framing intact): skipped, the connection lives
          for (let k = 0; k < 5; k++) {
            const b = rdr(k, 120);
            b[20] = 99;
            s.write(b);
          }
      }
    }
    await refused;
    await sending;

    const fromGood = () => sink.events.filter((e) => e.event === 'logon' && e.ip?.startsWith('198.18.10') && Number(e.ip.split('.')[2]) < 110);
    await waitFor(() => fromGood().length >= GOOD, `${GOOD} events from the allowed SCE`, 60_000);
    await waitFor(() => (c()['rdr.refused.peer.127.0.0.2'] ?? 0) === 300, '300 refusals counted', 30_000);
    await waitFor(() => (c()['rdr.closed.idle'] ?? 0) >= 1, 'idle connections closed', 30_000);
    await waitFor(() => (c()['rdr.closed.rate'] ?? 0) >= 1, 'flood closed', 30_000);
    const rssPeak = process.resourceUsage().maxRSS;
    // eslint-disable-next-line no-console
    console.log(`rdr-hostile: peak RSS ${(rssPeak / 1024).toFixed(1)} MiB (${(rssStart / 1024).toFixed(1)} MiB before the peers; counters ${JSON.stringify(c())})`);

    // every record of the allowed SCE, in the order sent, nothing lost or repeated
    const got = fromGood();
    expect(got.length).toBe(GOOD);
    expect(got.map((e) => e.ip)).toEqual(Array.from({ length: GOOD }, (_, i) => ipOf(100, i)));
    expect(got.every((e) => e.event === 'logon')).toBe(true);
    const counters = c();
    expect(counters['rdr.refused.limit-peer']).toBeGreaterThan(0);
    expect(counters['rdr.refused.limit-total']).toBeGreaterThan(0);
    expect(counters['malformed.rdr-framing']).toBeGreaterThanOrEqual(2);
    expect(counters['malformed.rdr']).toBeGreaterThanOrEqual(5);
    // connections were bounded throughout: at most the limit were ever served
    expect(counters['rdr.connections']).toBeLessThanOrEqual(limits.maxConnections);
    expect(listener.connections()).toBeLessThanOrEqual(limits.maxConnections);
  });
});
