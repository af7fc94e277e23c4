/**
 * Stopping must stop (issue 8.1), against real slow servers: ISC dhcpd, tftpd-hpa (a large
 * image in 512-byte lockstep blocks) and vsftpd (rate-limited), `dist/cpe-agent run` as a
 * daemon in a client namespace. SIGTERM (or `cpe-agent reboot`) mid-download:
 *   - the process exits within 2 s (exit 0, `cpe-agent: stopped`), `exiting` is the last log line;
 *   - bootenv.json is byte for byte what it was during the download; slot B is empty and not
 *     staged; state.json records the stop;
 *   - a few seconds later nothing changed (files, log);
 *   - the TFTP server got an ERROR packet from the client (tcpdump on the server side); the
 *     FTP session process of vsftpd is gone.
 *
 * Addresses 198.18.80.0/24, namespaces cps-<tag>-*.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT, describeLab } from '../helpers/prereq.ts';
import { labTag, run, waitFor } from '../../scripts/lab/netns.ts';
import { md5Hex, pseudoRandomImage, startUpgradeLab, type UpgradeLab } from '../../scripts/lab/upgrade-lab.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';

const SUBNET = '198.18.80';
const SERVER = `${SUBNET}.1`;
const tag = labTag();
const FTP = { user: `cps${tag}`, password: `Pw-${createHash('sha256').update(tag).digest('hex').slice(0, 12)}` };
const FTP_RATE = 1_000_000; // bytes/s per vsftpd session

const FACTORY = pseudoRandomImage(300, 200_000);
const BIG = pseudoRandomImage(301, 64 * 1024 * 1024); // TFTP, 512-byte lockstep blocks: several seconds
const MID = pseudoRandomImage(302, 24 * 1024 * 1024); // FTP at 1 MB/s: ~24 s
const F = { factory: 'STOP_FW_1_00_00_factory.bin', big: 'STOP_FW_2_00_00_big.bin', mid: 'STOP_FW_2_00_00_mid.bin' };

const tftp = (file: string, md5: string): Option43Offer => ({ protocol: 'tftp', server: SERVER, softwareFile: file, softwareMd5: md5, flags: 0, urgent: false, unknown: [] });
const ftp = (file: string, md5: string): Option43Offer => ({ ...tftp(file, md5), protocol: 'ftp', user: FTP.user, password: FTP.password });
const CLASSES: Record<string, Option43Offer> = { 'STOP-TFTP': tftp(F.big, md5Hex(BIG)), 'STOP-FTP': ftp(F.mid, md5Hex(MID)) };

let lab: UpgradeLab;
let work: string;
const live = new Set<ChildProcess>();

interface Agent {
  child: ChildProcess;
  logFile: string;
  stdout: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

interface Cpe {
  ns: string;
  dir: string;
  vc: string;
}

function cpe(i: number, vc: string, name: string): Cpe {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, F.factory), FACTORY);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ tftp: { blksize: 512 }, log: { progressIntervalSeconds: 1 } }));
  return { ns: lab.clientNs[i] ?? '', dir, vc };
}

function startAgent(c: Cpe, name: string, extra: string[] = []): Agent {
  const logFile = join(c.dir, `${name}.log`);
  writeFileSync(logFile, '');
  const args = [
    'run', '--iface', 'wan0', '--vendor-class', c.vc, '--platform', 'sim', '--state-dir', join(c.dir, 'state'), '--sim-dir', join(c.dir, 'sim'),
    '--factory-image', join(c.dir, F.factory), '--resolv-conf', join(c.dir, 'resolv.conf'), '--log-format', 'json', '--config', join(c.dir, 'config.json'), ...extra,
  ];
  const child = spawn('ip', ['netns', 'exec', c.ns, AGENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    writeFileSync(logFile, err);
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => {
      const at = Date.now();
      live.delete(child);
      resolve({ code, at });
    }),
  );
  return { child, logFile, stdout: () => out, exited };
}

const events = (logFile: string): Array<Record<string, unknown>> =>
  readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Waits until the download has moved at least `bytes` (the throttled progress lines). */
async function downloading(a: Agent, bytes: number): Promise<void> {
  await waitFor(
    () => events(a.logFile).some((e) => e.event === 'download.progress' || (typeof e.bytes === 'number' && e.bytes >= bytes && e.event !== 'staged')),
    'the download to be under way',
    60_000,
    100,
  );
}

interface Snapshot {
  env: string;
  state: string;
  slotA: number;
  slotB: number;
  log: string;
}

function snapshot(c: Cpe, a: Agent): Snapshot {
  return {
    env: readFileSync(join(c.dir, 'sim', 'bootenv.json'), 'utf8'),
    state: readFileSync(join(c.dir, 'state', 'state.json'), 'utf8'),
    slotA: statSync(join(c.dir, 'sim', 'slot-A.img')).size,
    slotB: statSync(join(c.dir, 'sim', 'slot-B.img')).size,
    log: readFileSync(a.logFile, 'utf8'),
  };
}

describeLab('stopping stops: SIGTERM / reboot mid-download (dhcpd + tftpd-hpa + rate-limited vsftpd, dist/cpe-agent)', ['dhcpd', 'in.tftpd', 'vsftpd', 'tcpdump'], () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'cps-stop-'));
    lab = await startUpgradeLab({ prefix: 'cps', subnet: SUBNET, tag, clients: 3, leaseSeconds: 600, classes: CLASSES, files: { [F.big]: BIG, [F.mid]: MID }, ftp: FTP, ftpMaxRate: FTP_RATE });
  }, 60_000);

  afterAll(async () => {
    for (const c of live) c.kill('SIGKILL');
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The common checks after a SIGTERM mid-download. */
  async function sigtermMidDownload(c: Cpe, a: Agent): Promise<{ before: Snapshot }> {
    const before = snapshot(c, a);
    const sent = Date.now();
    a.child.kill('SIGTERM');
    const { code, at } = await a.exited;
    expect(at - sent, 'exit within 2 s of SIGTERM').toBeLessThan(2000);
    expect(code).toBe(0);
    expect(a.stdout()).toContain('cpe-agent: stopped');
    const after = snapshot(c, a);
    const ev = events(a.logFile);
    expect(ev.at(-1)).toMatchObject({ event: 'exit', outcome: 'stopped' });
    expect(ev.map((e) => e.event)).toContain('download.cancelled');
    expect(after.env, 'boot environment untouched').toBe(before.env);
    expect(after.slotB, 'partial slot discarded').toBe(0);
    const state = JSON.parse(after.state) as { staged: unknown; history: Array<{ event: string; detail?: string }> };
    expect(state.staged).toBeNull();
    expect(state.history.at(-1)).toMatchObject({ event: 'stopped', detail: expect.stringContaining('cancelled') });
    // Nothing happens after the exit line.
    await new Promise((r) => setTimeout(r, 3000));
    expect(snapshot(c, a)).toEqual(after);
    return { before };
  }

  it('TFTP: SIGTERM mid-download → ERROR to tftpd-hpa, slot discarded, boot env untouched, exit 0 within 2 s, nothing after', async () => {
    const c = cpe(0, 'STOP-TFTP', 'tftp');
    const pcap = join(work, 'tftp.pcap');
    const dump = spawn('ip', ['netns', 'exec', lab.serverNs, 'tcpdump', '-i', 'br0', '-n', '-U', '-s', '128', '-w', pcap, 'udp and not port 67 and not port 68'], { stdio: 'ignore' });
    live.add(dump);
    try {
      await waitFor(() => existsSync(pcap), 'tcpdump to start', 10_000);
      await new Promise((r) => setTimeout(r, 300));
      const a = startAgent(c, 'tftp');
      await downloading(a, 512 * 1024);
      await sigtermMidDownload(c, a);
    } finally {
      dump.kill('SIGINT');
      await new Promise((r) => dump.once('exit', r));
      live.delete(dump);
    }
    // TFTP opcode 5 (ERROR) from the client, i.e. not from the server's address.
    const errors = await run(['tcpdump', '-n', '-r', pcap, `udp and udp[8:2] = 5 and not src host ${SERVER}`], { allowFail: true });
    expect(errors.stdout.trim().split('\n').filter(Boolean).length, 'an ERROR packet from the client reached the server').toBeGreaterThanOrEqual(1);
    expect(errors.stdout).toContain(`> ${SERVER}.`);
  });

  it('FTP: SIGTERM mid-download → the session closes, slot discarded, boot env untouched, exit 0 within 2 s, nothing after', async () => {
    const c = cpe(1, 'STOP-FTP', 'ftp');
    const a = startAgent(c, 'ftp');
    await downloading(a, 512 * 1024);
    expect((await lab.vsftpd.sessionPids()).length).toBeGreaterThan(0);
    await sigtermMidDownload(c, a);
    await waitFor(async () => (await lab.vsftpd.sessionPids()).length === 0, 'the vsftpd session to end', 15_000, 100);
  });

  it('reboot request mid-download (FTP): cancel, discard, then DHCPRELEASE and reboot into the running slot', async () => {
    const c = cpe(2, 'STOP-FTP', 'reboot');
    const a = startAgent(c, 'reboot');
    await downloading(a, 512 * 1024);
    const before = snapshot(c, a);
    const r = await run([AGENT, 'reboot', '--state-dir', join(c.dir, 'state')]);
    expect(r.stdout).toContain('releasing the lease');
    const sent = Date.now();
    const { code, at } = await a.exited;
    expect(at - sent).toBeLessThan(3000);
    expect(code).toBe(0);
    const ev = events(a.logFile).map((e) => String(e.event));
    const order = ev.filter((e) => ['download.cancelled', 'dhcp.release', 'reboot'].includes(e));
    expect(order).toEqual(['download.cancelled', 'dhcp.release', 'reboot']);
    expect(ev).not.toContain('staged');
    const after = snapshot(c, a);
    expect(after.env).toBe(before.env);
    expect(after.slotB).toBe(0);
    expect(JSON.parse(after.state)).toMatchObject({ staged: null });
    expect(JSON.parse(readFileSync(join(c.dir, 'sim', 'reboot.json'), 'utf8'))).toMatchObject({ reason: 'reboot requested (cli)' });
    // The CPE holds no connection to the server (control or data), now and 2 s later: the
    // agent closed the transfer and nothing reconnected. (vsftpd's own session process may
    // linger a while in a rate-limited write after the peer is gone: that is the server's
    // clean-up, seen taking over 15 s in full runs, so it is not what is asserted here.)
    const tcp = async (): Promise<string> => (await run(['ip', 'netns', 'exec', c.ns, 'ss', '-tnH', 'state', 'established', 'state', 'syn-sent', 'dst', SERVER])).stdout.trim();
    expect(await tcp()).toBe('');
    await new Promise((r2) => setTimeout(r2, 2000));
    expect(await tcp()).toBe('');
    expect(snapshot(c, a)).toEqual(after);
  });

  it('a damaged bootenv.json (issue 8.3): `run --once` still starts on the verified slot (exit 0), the damaged file kept aside', async () => {
    // The CPE of the FTP test: factory image running in slot A, state written at its stop.
    const c: Cpe = { ns: lab.clientNs[1] ?? '', dir: join(work, 'ftp'), vc: 'STOP-NONE' }; // no class: dhcpd sends no option 43
    writeFileSync(join(c.dir, 'sim', 'bootenv.json'), '{"next":"C"');
    const a = startAgent(c, 'bootenv', ['--once']);
    const { code } = await a.exited;
    expect(code).toBe(0);
    expect(a.stdout()).toContain('cpe-agent: no-offer (running slot A');
    const ev = events(a.logFile);
    expect(ev.find((e) => e.event === 'bootenv.recovered')).toMatchObject({ level: 50, slot: 'A', verified: true });
    expect(JSON.parse(readFileSync(join(c.dir, 'sim', 'bootenv.json'), 'utf8'))).toMatchObject({ next: 'A', current: 'A', trial: false });
    expect(readdirSync(join(c.dir, 'sim')).some((f) => f.startsWith('bootenv.json.damaged-'))).toBe(true);
  });
});
