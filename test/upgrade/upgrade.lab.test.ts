/**
 * The seed's decision table against real peers: ISC dhcpd (option 43 per vendor class),
 * tftpd-hpa and vsftpd in one server namespace, `dist/cpe-agent run` in client namespaces
 * on the sim platform. Every agent run logs JSON to test-results/upgrade-logs/ (the last
 * test greps them all for the FTP password).
 *
 * Addresses 198.18.64.0/24 (block 198.18.64.0/20), namespaces cpu-<tag>-*.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT as BUILT_AGENT, describeLab } from '../helpers/prereq.ts';
import { loadedModules, writeModuleProbe } from '../helpers/module-probe.ts';
import { labTag, waitFor } from '../../scripts/lab/netns.ts';
import { md5Hex, pseudoRandomImage, startUpgradeLab, type UpgradeLab } from '../../scripts/lab/upgrade-lab.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';

/** The built agent; CPE_AGENT_BIN runs the suite against another build (e.g. a release candidate). */
const AGENT = process.env.CPE_AGENT_BIN ?? BUILT_AGENT;
const LOG_DIR = new URL('../../test-results/upgrade-logs/', import.meta.url).pathname;
const SUBNET = '198.18.64';
const SERVER = `${SUBNET}.1`;
const tag = labTag();
const FTP = { user: `cpu${tag}`, password: `Pw-${createHash('sha256').update(tag).digest('hex').slice(0, 14)}` };

const FACTORY = pseudoRandomImage(100, 300_000); // version 1.2.0
const NEW_FS = pseudoRandomImage(101, 700_000);
const NEW_ESH = pseudoRandomImage(102, 600_000);
const OLD = pseudoRandomImage(103, 200_000);
const FIXED = pseudoRandomImage(104, 250_000);
const F = {
  factory: 'FS-0900E_FW_1_02_00_20250101.bin',
  fs: 'FS-0900E_FW_1_03_00_20261123.bin',
  esh: 'ESH-3105_FW_1_03_00_20261123.bin',
  missing: 'CPU_FW_1_09_00_missing.bin',
  old: 'CPU_FW_1_01_00_20200101.bin',
  bad: 'CPU_FW_1_05_00_bad.bin',
  fixed: 'CPU_FW_1_05_01_fixed.bin',
};

const tftp = (file: string, md5: string, urgent = false): Option43Offer => ({ protocol: 'tftp', server: SERVER, softwareFile: file, softwareMd5: md5, flags: urgent ? 1 : 0, urgent, unknown: [] });
const ftp = (file: string, md5: string, urgent = false): Option43Offer => ({ ...tftp(file, md5, urgent), protocol: 'ftp', user: FTP.user, password: FTP.password });

const CLASSES: Record<string, Option43Offer> = {
  'FS-0900E': tftp(F.fs, md5Hex(NEW_FS), true),
  'ESH-3105': ftp(F.esh, md5Hex(NEW_ESH), false),
  'CPU-MISS': tftp(F.missing, 'ab'.repeat(16)),
  'CPU-OLD': ftp(F.old, md5Hex(OLD)),
  'CPU-BAD5': tftp(F.bad, 'cd'.repeat(16)),
};

interface AgentRun {
  code: number | null;
  stdout: string;
  events: Array<Record<string, unknown>>;
}

let lab: UpgradeLab;
let work: string;
let runs = 0;
const live = new Set<ChildProcess>();

function parseLog(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Starts `cpe-agent ARGS` inside namespace `ns`, stderr (JSON logs) to LOG_DIR/<name>-<n>.log. */
function startAgent(ns: string, args: string[], name: string, env?: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<AgentRun>; logFile: string } {
  const logFile = join(LOG_DIR, `${tag}-${String(++runs).padStart(2, '0')}-${name}.log`);
  writeFileSync(logFile, '');
  const child = spawn('ip', ['netns', 'exec', ns, AGENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    writeFileSync(logFile, stderr);
  });
  const done = new Promise<AgentRun>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      writeFileSync(logFile, stderr);
      resolve({ code, stdout, events: parseLog(stderr) });
    }),
  );
  return { child, done, logFile };
}

interface Cpe {
  ns: string;
  vc: string;
  dir: string;
}

function cpe(i: number, vc: string, name: string): Cpe {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, F.factory), FACTORY);
  return { ns: lab.clientNs[i] ?? '', vc, dir };
}

function runArgs(c: Cpe, extra: string[] = []): string[] {
  return [
    'run', '--iface', 'wan0', '--vendor-class', c.vc, '--platform', 'sim', '--state-dir', join(c.dir, 'state'), '--sim-dir', join(c.dir, 'sim'),
    '--factory-image', join(c.dir, F.factory), '--resolv-conf', join(c.dir, 'resolv.conf'), '--log-format', 'json', ...extra,
  ];
}

function runOnce(c: Cpe, name: string, extra: string[] = []): Promise<AgentRun> {
  return startAgent(c.ns, runArgs(c, ['--once', ...extra]), name).done;
}

function status(c: Cpe): Record<string, unknown> & {
  state: string;
  running: { slot: string; version: string | null; md5: string } | null;
  staged: { slot: string; version: string | null; md5: string; rebootRequested: boolean } | null;
  attempts: { failures: number; gaveUp: boolean; verifyFailed: boolean };
  lastError: { code: string } | null;
  lastOffer: Record<string, unknown> | null;
} {
  const out = spawnSyncText([AGENT, 'status', '--json', '--state-dir', join(c.dir, 'state')]);
  return JSON.parse(out) as ReturnType<typeof status>;
}

function spawnSyncText(argv: string[]): string {
  const [cmd, ...args] = argv;
  return execFileSync(cmd ?? '', args, { encoding: 'utf8' });
}

const events = (r: AgentRun, e: string): Array<Record<string, unknown>> => r.events.filter((x) => x.event === e);

/** The last lease-file entry for the address dhcpd gave to class `vc`. */
async function lastBinding(vc: string): Promise<string | undefined> {
  const leases = await lab.leases();
  const mine = leases.find((l) => l.vendorClass === vc);
  return mine ? leases.filter((l) => l.address === mine.address).at(-1)?.bindingState : undefined;
}

describeLab('upgrade decision table (dhcpd + tftpd-hpa + vsftpd, dist/cpe-agent on sim)', ['dhcpd', 'in.tftpd', 'vsftpd'], () => {
  beforeAll(async () => {
    mkdirSync(LOG_DIR, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'cpu-upgrade-'));
    lab = await startUpgradeLab({
      prefix: 'cpu',
      subnet: SUBNET,
      tag,
      clients: 6,
      leaseSeconds: 30,
      classes: CLASSES,
      files: { [F.fs]: NEW_FS, [F.esh]: NEW_ESH, [F.old]: OLD, [F.bad]: pseudoRandomImage(105, 100_000), [F.fixed]: FIXED },
      ftp: FTP,
    });
  });

  afterAll(async () => {
    for (const c of live) c.kill('SIGKILL');
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('same MD5 as the running image → nothing: no download attempted', async () => {
    const c = cpe(0, 'FS-0900E', 'same-md5');
    writeFileSync(join(c.dir, F.factory), NEW_FS); // the factory image IS the offered image
    const r = await runOnce(c, 'same-md5');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('up-to-date');
    expect(events(r, 'decision').map((e) => e.code)).toEqual(['UP_TO_DATE']);
    expect(events(r, 'download.start')).toEqual([]);
    expect(status(c)).toMatchObject({ state: 'up-to-date', running: { slot: 'A', md5: md5Hex(NEW_FS) }, staged: null });
  });

  it('the idle daemon verified its slots in a `cpe-agent digest` child: node:crypto and perf_hooks never loaded in it', async () => {
    const c = cpe(0, 'FS-0900E', 'lean');
    writeFileSync(join(c.dir, F.factory), NEW_FS);
    // a preload (NODE_OPTIONS reaches node + bundle, i.e. dist/cpe-agent) prints the daemon's built-in modules at exit
    const probe = join(c.dir, 'probe.cjs');
    writeModuleProbe(probe);
    const a = startAgent(c.ns, runArgs(c, ['--once']), 'lean', { NODE_OPTIONS: `--require=${probe}` });
    const r = await a.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('up-to-date');
    expect(events(r, 'boot').length).toBe(1);
    expect(events(r, 'digest.child-failed')).toEqual([]);
    const found = loadedModules(readFileSync(a.logFile, 'utf8'));
    expect(found, 'no LOADED line: the agent under test does not honour NODE_OPTIONS (a SEA: run this case on dist/cpe-agent)').toBeDefined();
    const loaded = found ?? [];
    expect(loaded).toContain('dgram'); // the probe saw the daemon
    expect(loaded).not.toContain('crypto');
    expect(loaded).not.toContain('perf_hooks');
    expect(status(c)).toMatchObject({ state: 'up-to-date', running: { slot: 'A', md5: md5Hex(NEW_FS) } });
  });

  it('urgency 1 → download over TFTP, stage, DHCPRELEASE (dhcpd lease file: free), reboot; next start runs the new slot', async () => {
    const c = cpe(0, 'FS-0900E', 'urgent');
    const r = await runOnce(c, 'urgent');
    expect(r.code).toBe(0); // the sim reboot ends the process
    expect(events(r, 'staged')).toHaveLength(1);
    const order = r.events.map((e) => e.event).filter((e) => e === 'staged' || e === 'dhcp.release' || e === 'reboot');
    expect(order).toEqual(['staged', 'dhcp.release', 'reboot']);
    await waitFor(async () => (await lastBinding('FS-0900E')) === 'free', 'dhcpd to record the RELEASE', 5000);
    expect(lab.dhcpd().output()).toMatch(/DHCPRELEASE of 198\.18\.64\.\d+ from .* \(found\)/);
    expect(status(c)).toMatchObject({ staged: { slot: 'B', md5: md5Hex(NEW_FS), rebootRequested: true } });

    const next = await runOnce(c, 'urgent-boot');
    expect(next.code).toBe(0);
    expect(events(next, 'boot')[0]).toMatchObject({ slot: 'B', trial: true });
    expect(events(next, 'health.good')).toHaveLength(1);
    expect(events(next, 'download.start')).toEqual([]);
    expect(status(c)).toMatchObject({ state: 'up-to-date', running: { slot: 'B', version: '1.3.0', md5: md5Hex(NEW_FS) }, staged: null });
    expect(md5Hex(readFileSync(join(c.dir, 'sim', 'slot-B.img')))).toBe(md5Hex(NEW_FS));
  });

  it('urgency 0 → download over FTP, stage, wait ("staged, awaiting reboot"); `cpe-agent reboot` to the daemon releases and reboots', async () => {
    const c = cpe(1, 'ESH-3105', 'non-urgent');
    const daemon = startAgent(c.ns, runArgs(c), 'non-urgent-daemon');
    await waitFor(() => {
      try {
        return status(c).state === 'staged-awaiting-reboot';
      } catch {
        return false;
      }
    }, 'the image to be staged', 60_000, 200);
    const st = status(c);
    expect(st).toMatchObject({ running: { slot: 'A', version: '1.2.0', md5: md5Hex(FACTORY) }, staged: { slot: 'B', version: '1.3.0', md5: md5Hex(NEW_ESH), rebootRequested: false } });
    expect(st.lastOffer).toMatchObject({ protocol: 'ftp', user: FTP.user, password: '***' });
    expect(JSON.stringify(st)).not.toContain(FTP.password);
    expect(daemon.child.exitCode).toBeNull(); // still waiting: no reboot by itself

    const reboot = spawnSyncText([AGENT, 'reboot', '--state-dir', join(c.dir, 'state')]);
    expect(reboot).toContain('releasing the lease');
    const d = await daemon.done;
    expect(d.code).toBe(0);
    expect(d.events.map((e) => e.event).filter((e) => e === 'dhcp.release' || e === 'reboot')).toEqual(['dhcp.release', 'reboot']);
    await waitFor(async () => (await lastBinding('ESH-3105')) === 'free', 'dhcpd to record the RELEASE', 5000);

    const next = await runOnce(c, 'non-urgent-boot');
    expect(next.code).toBe(0);
    expect(status(c)).toMatchObject({ state: 'up-to-date', running: { slot: 'B', version: '1.3.0', md5: md5Hex(NEW_ESH) } });
  });

  it('urgency 0 with no daemon running: `cpe-agent reboot` reboots directly; the next start runs the staged image', async () => {
    const c = cpe(2, 'ESH-3105', 'reboot-direct');
    const r = await runOnce(c, 'reboot-direct');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('staged');
    expect(status(c)).toMatchObject({ state: 'staged-awaiting-reboot', staged: { slot: 'B', md5: md5Hex(NEW_ESH) } });
    expect(spawnSyncText([AGENT, 'reboot', '--state-dir', join(c.dir, 'state')])).toContain('no daemon running');
    expect(status(c)).toMatchObject({ state: 'rebooting', staged: { rebootRequested: true } });
    const next = await runOnce(c, 'reboot-direct-boot');
    expect(next.code).toBe(0);
    expect(events(next, 'boot')[0]).toMatchObject({ slot: 'B', rebootReason: expect.stringContaining('reboot requested (cli)') });
    expect(status(c)).toMatchObject({ running: { slot: 'B', version: '1.3.0', md5: md5Hex(NEW_ESH) } });
  });

  it('3 failed downloads (file missing on the TFTP server) → gives up until the next DHCP ACK, then tries again', async () => {
    const c = cpe(3, 'CPU-MISS', 'gave-up');
    const cfg = join(c.dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ retry: { baseSeconds: 0.2, maxSeconds: 1, jitter: 0.5 } }));
    const r = await runOnce(c, 'gave-up', ['--config', cfg]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('gave-up');
    expect(events(r, 'download.failed')).toHaveLength(3);
    expect(events(r, 'download.failed').every((e) => /^TFTP_(FILE_)?NOT_FOUND$/.test(String(e.code)))).toBe(true);
    expect(status(c)).toMatchObject({ state: 'gave-up', attempts: { failures: 3, gaveUp: true }, lastError: { code: expect.stringMatching(/^TFTP_(FILE_)?NOT_FOUND$/) } });

    // As a daemon: the next ACK (the T1 renewal of the 30 s lease) opens a new round.
    const daemon = startAgent(c.ns, runArgs(c, ['--config', cfg]), 'gave-up-daemon');
    let text = '';
    await waitFor(() => {
      text = readFileSync(daemon.logFile, 'utf8');
      const ev = parseLog(text);
      const acks = ev.filter((e) => e.event === 'dhcp.ack').length;
      return acks >= 2 && ev.filter((e) => e.event === 'download.failed').length >= 4;
    }, 'a renewal ACK and a new round of attempts', 60_000, 250);
    daemon.child.kill('SIGTERM');
    const d = await daemon.done;
    const seq = d.events.map((e) => String(e.event)).filter((e) => ['dhcp.ack', 'download.failed'].includes(e));
    // round 1: ACK, 3 failures (gave up); renewal ACK; round 2 starts
    expect(seq.slice(0, 5)).toEqual(['dhcp.ack', 'download.failed', 'download.failed', 'download.failed', 'dhcp.ack']);
    expect(seq[5]).toBe('download.failed');
    expect(d.events.some((e) => e.event === 'decision' && e.code === 'GAVE_UP')).toBe(true);
  });

  it('downgrade refused by default (no download), installed when policy allows', async () => {
    const c = cpe(4, 'CPU-OLD', 'downgrade');
    const r = await runOnce(c, 'downgrade-refused');
    expect(r.code).toBe(0);
    expect(events(r, 'decision').map((e) => e.code)).toEqual(['DOWNGRADE_REFUSED']);
    expect(events(r, 'download.start')).toEqual([]);
    expect(status(c)).toMatchObject({ state: 'refused', running: { version: '1.2.0' }, staged: null });

    const cfg = join(c.dir, 'allow.json');
    writeFileSync(cfg, JSON.stringify({ policy: { allowDowngrade: true } }));
    const a = await runOnce(c, 'downgrade-allowed', ['--config', cfg]);
    expect(a.code).toBe(0);
    expect(events(a, 'decision')[0]).toMatchObject({ code: 'DOWNGRADE', version: '1.1.0' });
    expect(status(c)).toMatchObject({ state: 'staged-awaiting-reboot', staged: { version: '1.1.0', md5: md5Hex(OLD) } });
  });

  it('MD5 mismatch → rejected, not fetched again on the next ACK; fetched once the offer changes', async () => {
    const c = cpe(5, 'CPU-BAD5', 'md5');
    const r = await runOnce(c, 'md5-mismatch');
    expect(r.code).toBe(3);
    expect(events(r, 'download.rejected')).toHaveLength(1);
    expect(events(r, 'download.rejected')[0]).toMatchObject({ code: 'UPGRADE_MD5_MISMATCH' });
    expect(status(c)).toMatchObject({ state: 'verify-failed', attempts: { verifyFailed: true }, staged: null });

    const again = await runOnce(c, 'md5-again');
    expect(again.code).toBe(3);
    expect(events(again, 'download.start')).toEqual([]);
    expect(events(again, 'decision').map((e) => e.code)).toEqual(['VERIFY_FAILED']);

    await lab.setOffers({ ...CLASSES, 'CPU-BAD5': tftp(F.fixed, md5Hex(FIXED)) });
    const fixed = await runOnce(c, 'md5-new-offer');
    expect(fixed.code).toBe(0);
    expect(events(fixed, 'download.start')).toHaveLength(1);
    expect(status(c)).toMatchObject({ state: 'staged-awaiting-reboot', staged: { version: '1.5.1', md5: md5Hex(FIXED) } });
    await lab.setOffers(CLASSES);
  });

  it('a corrupt state file is kept aside and the state rebuilt from the slots (no crash)', async () => {
    const c: Cpe = { ns: lab.clientNs[0] ?? '', vc: 'FS-0900E', dir: join(work, 'urgent') }; // runs slot B 1.3.0
    writeFileSync(join(c.dir, 'state', 'state.json'), '{"schema":1,"running":{"slot":"B","md5":');
    const r = await runOnce(c, 'corrupt-state');
    expect(r.code).toBe(0);
    expect(r.events.some((e) => e.event === 'state.corrupt')).toBe(true);
    expect(readdirSync(join(c.dir, 'state')).some((f) => f.startsWith('state.json.corrupt-'))).toBe(true);
    const st = status(c);
    expect(st).toMatchObject({ state: 'up-to-date', running: { slot: 'B', md5: md5Hex(NEW_FS) }, lastError: { code: 'STATE_CORRUPT' } });
    expect(events(r, 'download.start')).toEqual([]);
  });

  it('no log line of any lab run contains the FTP password', () => {
    const files = readdirSync(LOG_DIR).filter((f) => f.endsWith('.log'));
    const mine = files.filter((f) => f.startsWith(`${tag}-`));
    expect(mine.length, 'needs the logs of the other tests of this file (run the whole file)').toBeGreaterThanOrEqual(10);
    let ftpRuns = 0;
    for (const f of files) {
      const text = readFileSync(join(LOG_DIR, f), 'utf8');
      if (f.startsWith(`${tag}-`) && text.includes(FTP.user)) ftpRuns++;
      expect(text.includes(FTP.password), `${f} leaks the FTP password`).toBe(false);
    }
    expect(ftpRuns).toBeGreaterThan(0); // the FTP offer (user + password) was really exercised
    expect(readFileSync(lab.dhcpd().confFile, 'utf8')).toContain(FTP.password); // and the secret was on the wire
  });
});
