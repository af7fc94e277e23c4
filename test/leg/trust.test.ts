/**
 * Trust (issue 11): the trust rule by table; a capture with two DHCP servers answering on one
 * segment (written with the capture generator, checked by tshark) replayed with one trusted
 * server; bounded counters; one log line per server per minute of capture time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { memorySink } from '../../agent/leg/events.ts';
import { replayFile } from '../../agent/leg/sources/replay.ts';
import { createLogger } from '../../agent/log.ts';
import type { LegConfigInput } from '../../agent/leg/config.ts';
import { parseConfig } from '../../agent/leg/config.ts';
import { trustRule, trustedSet } from '../../agent/leg/rules/trust.ts';
import { decide } from '../../agent/leg/decide.ts';
import { fromDhcpRdr } from '../../agent/leg/rdr-dhcp.ts';
import { BoundedNames, LogThrottle } from '../../agent/leg/bounded.ts';
import { buildMessage, udpFrame, writePcap } from '../../scripts/bench/gen-dhcp-capture.ts';
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { ipv4ToNumber } from '../../agent/util/bytes.ts';
import { haveTool } from '../helpers/prereq.ts';
import { cfg, tx, view, mapping, T0 } from './helpers.ts';

const A = '198.18.96.1';
const B = '198.18.96.2';
const RELAY = '198.18.96.254';
const n = ipv4ToNumber;

describe('trust rule (table)', () => {
  const trusted = trustedSet(cfg({ trustedServers: [A] }));
  const ack = (over: Parameters<typeof tx>[0] = {}, ids: { serverId?: string; src?: string; dst?: string } = {}) => {
    const t = tx(over);
    if (ids.serverId) t.serverId = n(ids.serverId);
    if (ids.src) t.srcIp = n(ids.src);
    if (ids.dst) t.dstIp = n(ids.dst);
    return t;
  };
  it.each([
    ['ACK, option 54 = trusted', 'ack', { serverId: A, src: B }, undefined],
    ['ACK, option 54 = other (source trusted: option 54 wins)', 'ack', { serverId: B, src: A }, 'server 198.18.96.2'],
    ['ACK without option 54 from the trusted source', 'ack', { src: A }, undefined],
    ['ACK without option 54 from another source', 'ack', { src: B }, 'server 198.18.96.2'],
    ['ACK with neither (RDR: vouched for by the SCE)', 'ack', {}, undefined],
    ['RELEASE unicast to the trusted server', 'release', { dst: A }, undefined],
    ['RELEASE unicast to the other server', 'release', { dst: B }, 'release 198.18.96.2'],
    ['RELEASE to the trusted address naming another server', 'release', { dst: A, serverId: B }, 'release 198.18.96.2'],
    ['DECLINE relayed to the trusted server', 'decline', { dst: A, serverId: A }, undefined],
    ['DECLINE broadcast naming the trusted server', 'decline', { dst: '255.255.255.255', serverId: A }, undefined],
    ['DECLINE broadcast naming no server', 'decline', { dst: '255.255.255.255' }, 'decline 255.255.255.255'],
    ['DECLINE broadcast naming the other server', 'decline', { dst: '255.255.255.255', serverId: B }, 'decline 198.18.96.2'],
    ['RELEASE by RDR (no addresses)', 'release', {}, undefined],
  ] as const)('%s', (_name, kind, ids, want) => {
    const r = trustRule(ack({}, ids), kind, trusted);
    expect(r === undefined ? undefined : `${r.reason} ${r.peer}`).toBe(want);
  });

  it('an RDR reporting option 54 is checked like a captured ACK', () => {
    const rdr = (server: string) =>
      fromDhcpRdr(
        { cpeMac: '02:c0:00:00:00:01', cmtsIp: RELAY, assignedIp: '198.18.97.1', releasedIp: '0.0.0.0', transactionId: 1, messageType: MessageType.ACK, options: [{ code: 54, data: new Uint8Array(server.split('.').map(Number)) }], endTime: 0 },
        T0,
      );
    expect(trustRule(rdr(A), 'ack', trusted)).toBeUndefined();
    expect(trustRule(rdr(B), 'ack', trusted)).toMatchObject({ reason: 'server', peer: B });
  });

  it('an empty list trusts everyone', () => {
    expect(trustRule(ack({}, { serverId: B, dst: B }), 'release', trustedSet(cfg()))).toBeUndefined();
  });

  it('decide: an untrusted RELEASE of a mapping the client holds changes nothing (the release rule alone would log it out)', () => {
    const c = cfg({ trustedServers: [A], fallbackToIp: true });
    const rel = ack({ type: MessageType.RELEASE, releasedIp: '198.18.80.10', ciaddr: '198.18.80.10' }, { dst: B });
    const v = view([mapping({ ip: '198.18.80.10', subscriber: 'IP_198.18.80.10' })]);
    expect(decide(rel, v, c)).toEqual([expect.objectContaining({ kind: 'untrusted', reason: 'release', peer: B })]);
    rel.dstIp = n(A);
    expect(decide(rel, v, c)).toEqual([expect.objectContaining({ kind: 'logout', reason: 'release' })]);
  });

  it('config: trustedServers must be IPv4 addresses', () => {
    expect(() => parseConfig({ trustedServers: ['198.18.96.300'] })).toThrow(/trustedServers/);
    expect(parseConfig({ trustedServers: [' 198.18.96.1 '] }).trustedServers).toEqual([A]);
  });
});

describe('bounded counter names and throttled logs', () => {
  it('at most 64 names per prefix, then .other; names already counted are kept across a restart', () => {
    const b = new BoundedNames(64);
    const keys = Array.from({ length: 100 }, (_, i) => b.key('untrusted.server', `10.0.0.${i}`));
    expect(new Set(keys).size).toBe(65);
    expect(keys[63]).toBe('untrusted.server.10.0.0.63');
    expect(keys.slice(64).every((k) => k === 'untrusted.server.other')).toBe(true);
    expect(b.key('untrusted.server', '10.0.0.5')).toBe('untrusted.server.10.0.0.5');
    const again = new BoundedNames(64, keys);
    expect(again.key('untrusted.server', '10.9.9.9')).toBe('untrusted.server.other');
    expect(again.key('untrusted.server', '10.0.0.1')).toBe('untrusted.server.10.0.0.1');
  });

  it('one line per key per minute of the given clock, with the count suppressed; memory bounded by maxKeys', () => {
    const t = new LogThrottle(60_000, 3);
    expect(t.allow('a', 0)).toBe(0);
    expect(t.allow('a', 30_000)).toBeUndefined();
    expect(t.allow('a', 59_999)).toBeUndefined();
    expect(t.allow('b', 59_999)).toBe(0);
    expect(t.allow('a', 60_000)).toBe(2);
    for (let i = 0; i < 1000; i++) t.allow(`k${i}`, 61_000);
    expect(t.size).toBe(3);
  });
});

describe('capture with two DHCP servers on one segment, one trusted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leg-trust-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'two-servers.pcap');
  const T = Date.UTC(2026, 5, 1, 8, 0, 0);
  const CLIENTS = 12;
  const cmac = (i: number) => `02:c0:00:00:00:${i.toString(16).padStart(2, '0')}`;
  const circuit = (i: number) => [{ code: 1, data: new TextEncoder().encode(`port${i}`) }];
  const reply = (server: string, m: Uint8Array) => udpFrame({ srcMac: server === A ? '02:5a:00:00:00:01' : '02:5b:00:00:00:02', dstMac: '02:52:00:00:00:01', srcIp: server, dstIp: RELAY, srcPort: 67, dstPort: 67 }, m);
  const request = (dst: string, m: Uint8Array, src = RELAY) => udpFrame({ srcMac: '02:52:00:00:00:01', dstMac: '02:5a:00:00:00:01', srcIp: src, dstIp: dst, srcPort: 67, dstPort: 67 }, m);
  // every client: DISCOVER (relayed to both), OFFER from each, REQUEST naming the server it
  // chose (even: A, odd: B), ACK from that server (B's ACKs to clients 9 and 11 without
  // option 54: recognised by source address); clients 0 and 1 release to their server.
  const recs: [number, Uint8Array][] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const t = T + i * 20_000; // B's ACKs spread over two minutes of capture time
    const srv = i % 2 === 0 ? A : B;
    const ip = `198.18.97.${10 + i}`;
    const base = { xid: 0x5000 + i, chaddr: cmac(i), giaddr: RELAY, relay: circuit(i) };
    const disc = encodeMessage(buildMessage({ ...base, type: MessageType.DISCOVER }));
    recs.push([t, request(A, disc)], [t, request(B, disc)]);
    for (const s of [A, B]) recs.push([t + 1, reply(s, encodeMessage(buildMessage({ ...base, type: MessageType.OFFER, yiaddr: ip, lease: 600, serverId: s })))]);
    const req = encodeMessage(buildMessage({ ...base, type: MessageType.REQUEST, serverId: srv, options: [{ code: 50, data: new Uint8Array(ip.split('.').map(Number)) }] }));
    recs.push([t + 2, request(A, req)], [t + 2, request(B, req)]);
    recs.push([t + 3, reply(srv, encodeMessage(buildMessage({ ...base, type: MessageType.ACK, yiaddr: ip, lease: 600, serverId: i === 9 || i === 11 ? undefined : srv })))]);
  }
  for (const i of [0, 1]) {
    const srv = i % 2 === 0 ? A : B;
    const ip = `198.18.97.${10 + i}`;
    recs.push([T + 300_000 + i, request(srv, encodeMessage(buildMessage({ type: MessageType.RELEASE, xid: 0x6000 + i, chaddr: cmac(i), ciaddr: ip, serverId: srv })), ip)]);
  }
  writePcap(file, recs);

  async function replay(c: LegConfigInput): Promise<{ events: ReturnType<typeof memorySink>['events']; counters: Record<string, number>; log: string[] }> {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', level: 'warn', destination: { write: (s: string) => lines.push(s) } });
    const sink = memorySink();
    const engine = new LegEngine(cfg(c), new LegStore(), sink, log);
    await replayFile(engine, file);
    const counters = engine.counters();
    engine.store.close();
    return { events: sink.events, counters, log: lines };
  }

  it('tshark reads both servers answering: ACKs from A and from B, REQUESTs naming each', () => {
    if (!haveTool('tshark')) {
      if (process.env.CI) throw new Error('tshark missing under CI (scripts/setup.sh installs it)');
      return;
    }
    const out = execFileSync('tshark', ['-r', file, '-Y', 'dhcp.option.dhcp == 5', '-T', 'fields', '-e', 'ip.src', '-e', 'dhcp.option.dhcp_server_id', '-e', 'dhcp.ip.your'], { encoding: 'utf8' });
    const rows = out.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.length).toBe(CLIENTS);
    expect(rows.filter((r) => r[0] === A && r[1] === A).length).toBe(6);
    expect(rows.filter((r) => r[0] === B && r[1] === B).length).toBe(4);
    expect(rows.filter((r) => r[0] === B && r[1] === '').length).toBe(2);
    const offers = execFileSync('tshark', ['-r', file, '-Y', 'dhcp.option.dhcp == 2', '-T', 'fields', '-e', 'ip.src'], { encoding: 'utf8' }).trim().split('\n');
    expect(new Set(offers)).toEqual(new Set([A, B]));
  });

  it('without a trust list every ACK logs on, and the LEG warns once', async () => {
    const r = await replay({ subscriberOption: '82.1' });
    expect(r.events.filter((e) => e.event === 'logon').length).toBe(CLIENTS);
    expect(r.log.filter((l) => l.includes('trustedServers is empty')).length).toBe(1);
  });

  it('--trusted-server A: only A’s ACKs and the RELEASE sent to A act; B’s are counted and logged once a minute', async () => {
    const r = await replay({ subscriberOption: '82.1', trustedServers: [A] });
    expect(r.events.map((e) => [e.event, e.subscriber, e.ip])).toEqual([
      ...Array.from({ length: CLIENTS / 2 }, (_, k) => ['logon', `port${2 * k}`, `198.18.97.${10 + 2 * k}`]),
      ['logout', 'port0', '198.18.97.10'],
    ]);
    expect(r.counters[`untrusted.server.${B}`]).toBe(CLIENTS / 2);
    expect(r.counters[`untrusted.release.${B}`]).toBe(1);
    expect(r.counters[`untrusted.server.${A}`]).toBeUndefined();
    // B's six ACKs come at 20, 60, 100, 140, 180, 220 s of capture time: a line at 20, 100
    // and 180 s (each naming the one suppressed before it), none at 60, 140, 220
    const warned = r.log.filter((l) => l.includes('untrusted DHCP server')).map((l) => JSON.parse(l) as { server: string; suppressedSinceLast: number });
    expect(warned.map((w) => [w.server, w.suppressedSinceLast])).toEqual([
      [B, 0],
      [B, 1],
      [B, 1],
    ]);
    expect(r.log.filter((l) => l.includes('RELEASE not addressed to a trusted server')).length).toBe(1);
    expect(r.log.some((l) => l.includes('trustedServers is empty'))).toBe(false);
  });
});
