/** `cpe-agent leg …` end to end (node runs agent/main.ts directly; no build needed). */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturePath } from '../helpers/prereq.ts';
import { buildMessage, dhcpMix, udpFrame, writePcap } from '../../scripts/bench/gen-dhcp-capture.ts';
import { encodeMessage } from '../../agent/dhcp/codec.ts';

const MAIN = new URL('../../agent/main.ts', import.meta.url).pathname;
const ZEEK = capturePath('zeek_dhcp.pcap');
const ZEEK82 = capturePath('zeek_dhcp_ack_subscriber_id_and_agent_remote_id.pcap');
const dir = mkdtempSync(join(tmpdir(), 'leg-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function leg(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [MAIN, 'leg', ...args], { encoding: 'utf8', env: { ...process.env, CPE_AGENT_LOG_LEVEL: 'error' } });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('cpe-agent leg', { timeout: 30_000 }, () => {
  it('replay --json prints one event per line with the contract keys', () => {
    const r = leg(['replay', ZEEK82, '--subscriber-option', '82.6', '--default-package', 'gold', '--json']);
    expect(r.status).toBe(0);
    expect(lines(r.stdout)).toEqual([
      {
        event: 'logon',
        time: '2004-12-05T19:16:24.387Z',
        subscriber: '-subID-',
        ip: '192.168.0.10',
        modem: false,
        leaseSeconds: 3600,
        package: 'gold',
        reason: null,
        transaction: 'initial',
        chaddr: '00:0a:28:00:fa:42',
        xid: '0x00003d11',
      },
    ]);
  });

  it('flags override the config file', () => {
    const c = join(dir, 'leg.json');
    writeFileSync(c, JSON.stringify({ $comment: 'test', subscriberOption: '82.1', policy: { defaultPackage: 'from-file' } }));
    const r = leg(['replay', ZEEK82, '--config', c, '--subscriber-option', '82.6', '--json']);
    expect(lines(r.stdout)[0]).toMatchObject({ subscriber: '-subID-', package: 'from-file' });
  });

  it('with --state-dir the database persists: show, list, counters; a second replay adds nothing', () => {
    const sd = join(dir, 'state');
    expect(leg(['replay', ZEEK, '--fallback-ip', '--state-dir', sd, '--json']).stdout.trim().split('\n')).toHaveLength(3);
    expect(leg(['replay', ZEEK, '--fallback-ip', '--state-dir', sd, '--json']).stdout).toBe('');
    const show = JSON.parse(leg(['show', '128.2.6.189', '--state-dir', sd, '--json']).stdout) as { subscriber: string; ips: { endReason: string }[] };
    expect(show).toMatchObject({ subscriber: 'IP_128.2.6.189', ips: [{ ip: '128.2.6.189', active: false, endReason: 'decline' }] });
    expect(JSON.parse(leg(['list', '--state-dir', sd, '--json']).stdout)).toEqual([expect.objectContaining({ subscriber: 'IP_128.2.6.189', ips: [] })]);
    const counters = JSON.parse(leg(['counters', '--state-dir', sd, '--json']).stdout) as Record<string, number>;
    expect(counters).toMatchObject({ 'events.logon': 1, 'events.logout': 1, 'rejected.release-without-ciaddr': 1, 'ignored.NAK': 1 });
    expect(leg(['counters', '--state-dir', sd]).stdout).toMatch(/^events\.logon\s+1$/m);
  }, 60_000);

  it('text output is one line per event', () => {
    const r = leg(['replay', ZEEK, '--fallback-ip']);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      '2013-06-02T19:14:04.371Z logon       IP_128.2.6.189 128.2.6.189 lease=900',
      '2013-06-02T19:14:05.381Z logout      IP_128.2.6.189 128.2.6.189 reason=decline',
      '2013-06-02T19:14:06.402Z rejected    - - reason=release-without-ciaddr',
    ]);
  });

  it.each([
    [['replay', ZEEK, '--subscriber-option', '83.1'], 'CONFIG_INVALID'],
    [['replay', ZEEK, '--subscriber-option', 'abc'], 'CONFIG_INVALID'],
    [['replay', join(dir, 'missing.pcap')], 'LEG_REPLAY_OPEN'],
    [['show', '198.18.80.1', '--state-dir', join(dir, 'none')], 'LEG_STATE_MISSING'],
    [['run', '--state-dir', join(dir, 'r')], 'CLI_INVALID'],
    [['run', '--iface', 'eth0; rm -rf /', '--state-dir', join(dir, 'r2')], 'LEG_IFACE_INVALID'],
  ])('bad input %j → exit 2 with a typed error', (args, code) => {
    const r = leg(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`[${code}]`);
  });

  it('a reader that goes away (| head) stops the replay quietly', async () => {
    const big = join(dir, 'big.pcap');
    writePcap(big, dhcpMix(20_000, 2000, { messages: 0, acks: 0, releases: 0, subscribers: 0, cpes: 0 }));
    const child = spawn(process.execPath, [MAIN, 'leg', 'replay', big, '--cable', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(err).not.toContain('EPIPE');
    expect(code).toBe(0);
  });

  it('show of an unknown subscriber exits 1', () => {
    const sd = join(dir, 'state');
    expect(leg(['show', 'nobody', '--state-dir', sd]).status).toBe(1);
  });

  it('--help documents the commands', () => {
    const out = execFileSync(process.execPath, [MAIN, 'leg', '--help'], { encoding: 'utf8' });
    for (const c of ['replay', 'run', 'show', 'list', 'counters']) expect(out).toContain(c);
  });

  it('trust: --trusted-server counts the other server in leg counters and warns in the log; without it one warning at start', () => {
    const A = '198.18.96.1';
    const B = '198.18.96.2';
    const file = join(dir, 'two-servers.pcap');
    const T = Date.UTC(2026, 5, 1, 8, 0, 0);
    const ack = (server: string, i: number) =>
      udpFrame(
        { srcMac: '02:5a:00:00:00:01', dstMac: '02:52:00:00:00:01', srcIp: server, dstIp: '198.18.96.254', srcPort: 67, dstPort: 67 },
        encodeMessage(buildMessage({ type: 5, xid: i, chaddr: `02:c0:00:00:00:0${i}`, yiaddr: `198.18.97.${i}`, lease: 600, serverId: server, giaddr: '198.18.96.254' })),
      );
    writePcap(file, [
      [T, ack(A, 1)],
      [T + 1000, ack(B, 2)],
      [T + 2000, ack(B, 3)],
    ]);
    const sd = join(dir, 'trust-state');
    const run = (args: string[]) => spawnSync(process.execPath, [MAIN, 'leg', ...args], { encoding: 'utf8', env: { ...process.env, CPE_AGENT_LOG_LEVEL: 'warn' } });
    const r = run(['replay', file, '--fallback-ip', '--trusted-server', ` ${A} `, '--state-dir', sd, '--json']);
    expect(r.status).toBe(0);
    expect(lines(r.stdout).map((e) => e.ip)).toEqual(['198.18.97.1']);
    expect(r.stderr.split('\n').filter((l) => l.includes('untrusted DHCP server'))).toEqual([expect.stringContaining(B)]);
    expect(r.stderr).not.toContain('trustedServers is empty');
    const counters = JSON.parse(run(['counters', '--state-dir', sd, '--json']).stdout) as Record<string, number>;
    expect(counters[`untrusted.server.${B}`]).toBe(2);
    expect(run(['counters', '--state-dir', sd]).stdout).toMatch(/^untrusted\.server\.198\.18\.96\.2\s+2$/m);
    const open = run(['replay', file, '--fallback-ip', '--json']);
    expect(lines(open.stdout)).toHaveLength(3);
    expect(open.stderr.split('\n').filter((l) => l.includes('trustedServers is empty'))).toHaveLength(1);
    expect(run(['replay', file, '--trusted-server', 'not-an-ip']).status).toBe(2);
  }, 60_000);
});
