/**
 * `status` after `kill -9` of a real daemon mid-download (issue 8 point 6): ISC dhcpd +
 * tftpd-hpa (scripts/lab/upgrade-lab.ts), `dist/cpe-agent run` in a client namespace, killed
 * with SIGKILL once its runtime.json says `downloading`. The dead daemon leaves runtime.json
 * and control.sock; `status` (text and --json) must say it is not running and what it was
 * doing, and never "download failed, retrying" beside "0 failed this round".
 *
 * Addresses 198.18.72.0/24, namespaces cpk-<tag>-*.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT, describeLab } from '../helpers/prereq.ts';
import { labTag, waitFor } from '../../scripts/lab/netns.ts';
import { md5Hex, pseudoRandomImage, startUpgradeLab, type UpgradeLab } from '../../scripts/lab/upgrade-lab.ts';

const SERVER = '198.18.72.1';
const FACTORY = pseudoRandomImage(200, 100_000);
const BIG = pseudoRandomImage(201, 60 * 1024 * 1024); // lockstep TFTP: seconds, not milliseconds
const F = { factory: 'FS-0900E_FW_1_02_00_20250101.bin', big: 'FS-0900E_FW_1_03_00_20261123.bin' };
const tag = labTag();

describeLab('status after kill -9 of the daemon', ['dhcpd', 'in.tftpd', 'vsftpd', 'ip'], () => {
  let lab: UpgradeLab;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'cpk-'));
    lab = await startUpgradeLab({
      prefix: 'cpk',
      subnet: '198.18.72',
      tag,
      classes: { 'FS-0900E': { protocol: 'tftp', server: SERVER, softwareFile: F.big, softwareMd5: md5Hex(BIG), flags: 0, urgent: false, unknown: [] } },
      files: { [F.big]: BIG },
      ftp: { user: `cpk${tag}`, password: `Pw-${createHash('sha256').update(tag).digest('hex').slice(0, 12)}` },
    });
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('says "not running", the last recorded step and the stale files, in text and --json', async () => {
    const sd = join(work, 'state');
    writeFileSync(join(work, F.factory), FACTORY);
    const args = ['run', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--platform', 'sim', '--state-dir', sd, '--sim-dir', join(work, 'sim'),
      '--factory-image', join(work, F.factory), '--resolv-conf', join(work, 'resolv.conf'), '--log-format', 'json'];
    const child = spawn('ip', ['netns', 'exec', lab.clientNs[0] ?? '', AGENT, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
    const runtime = join(sd, 'runtime.json');
    const phase = (): { pid: number; phase: string } | undefined => {
      try {
        return JSON.parse(readFileSync(runtime, 'utf8')) as { pid: number; phase: string };
      } catch {
        return undefined;
      }
    };
    await waitFor(() => phase()?.phase === 'downloading', `runtime.json phase downloading (log: ${log.slice(-500)})`, 30_000, 5);
    const pid = phase()?.pid ?? 0;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await exited;
    expect(log).not.toContain('"slot B staged');
    expect(existsSync(runtime)).toBe(true);
    expect(existsSync(join(sd, 'control.sock'))).toBe(true);

    const json = JSON.parse(execFileSync(AGENT, ['status', '--json', '--state-dir', sd], { encoding: 'utf8' })) as {
      state: string;
      stateText: string;
      attempts: { failures: number };
      daemon: { running: boolean; lastSeen: { pid: number; phase: string; staleFiles: string[] } | null };
    };
    expect(json).toMatchObject({ state: 'interrupted', stateText: 'interrupted while downloading: the daemon is not running', attempts: { failures: 0 } });
    expect(json.daemon).toMatchObject({ running: false, lastSeen: { pid, phase: 'downloading', staleFiles: ['runtime.json', 'control.sock'] } });
    const text = execFileSync(AGENT, ['status', '--state-dir', sd], { encoding: 'utf8' });
    expect(text).not.toContain('retrying');
    expect(text).toMatch(/^state +interrupted while downloading: the daemon is not running$/m);
    expect(text).toMatch(new RegExp(`^daemon +not running \\(pid ${pid} gone without a clean exit; last recorded step: downloading`, 'm'));
    expect(text).toMatch(/^attempts +0 failed this round/m);
  }, 90_000);
});
