/**
 * SNMP management of a lab modem with the real Net-SNMP tools: ISC dhcpd + tftpd-hpa offer a
 * non-urgent image, `dist/cpe-agent run` (sim platform, snmp standalone on udp 161 in its
 * namespace) stages it; from the server namespace `snmpwalk -m +CPE-AGENT-MIB` shows it,
 * `snmpget docsDevSwCurrentVers.0` equals `status --json`, and `snmpset docsDevResetNow.0 i 1`
 * (v2c write community; v3 authPriv user) → exactly one reboot into the new slot, DHCPRELEASE
 * seen by dhcpd first. Wrong community / wrong v3 key / read-only access → no reboot.
 *
 * Addresses 198.18.96.0/24, namespaces csn-<tag>-*.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT, describeLab } from '../helpers/prereq.ts';
import { labTag, waitFor } from '../../scripts/lab/netns.ts';
import { md5Hex, pseudoRandomImage, startUpgradeLab, type UpgradeLab } from '../../scripts/lab/upgrade-lab.ts';
import { snmpTools, type SnmpTools } from '../../scripts/lab/snmp-tools.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';

const SUBNET = '198.18.96';
const SERVER = `${SUBNET}.1`;
const tag = labTag();
const FACTORY = pseudoRandomImage(300, 200_000);
const NEW = pseudoRandomImage(301, 400_000);
const MGMT = pseudoRandomImage(302, 8_000_000);
const F = { factory: 'ESH-3105_FW_1_02_00_20250101.bin', next: 'ESH-3105_FW_1_03_00_20261123.bin', mgmt: 'FS-0900E_FW_1_04_00_20261201.bin' };
const OFFER: Option43Offer = { protocol: 'tftp', server: SERVER, softwareFile: F.next, softwareMd5: md5Hex(NEW), flags: 0, urgent: false, unknown: [] };
const SECRETS = { read: `rd-${tag}-x7`, write: `wr-${tag}-q9`, authKey: `auth-${tag}-k1`, privKey: `priv-${tag}-k2` };
const USER = 'nms';

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; events: Array<Record<string, unknown>>; stderr: string }>;
}

let lab: UpgradeLab;
let work: string;
let tools: SnmpTools;
const live = new Set<ChildProcess>();

function parse(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function cpeDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, F.factory), FACTORY);
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      snmp: {
        community: { read: SECRETS.read, write: SECRETS.write },
        users: [{ name: USER, authProtocol: 'sha256', authKey: SECRETS.authKey, privProtocol: 'aes', privKey: SECRETS.privKey, access: 'read-write' }],
        sysName: name,
        sysLocation: 'lab rack 1',
      },
    }),
  );
  return dir;
}

function args(dir: string, once: boolean, vc = 'ESH-3105'): string[] {
  return [
    'run', '--config', join(dir, 'config.json'), '--iface', 'wan0', '--vendor-class', vc, '--platform', 'sim', '--state-dir', join(dir, 'state'),
    '--sim-dir', join(dir, 'sim'), '--factory-image', join(dir, F.factory), '--resolv-conf', join(dir, 'resolv.conf'), '--log-format', 'json',
    ...(once ? ['--once'] : []),
  ];
}

function start(ns: string, dir: string, once = false, vc?: string): Run {
  const child = spawn('ip', ['netns', 'exec', ns, AGENT, ...args(dir, once, vc)], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  const done = new Promise<{ code: number | null; events: Array<Record<string, unknown>>; stderr: string }>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      writeFileSync(join(dir, `agent-${Date.now()}.log`), stderr);
      resolve({ code, events: parse(stderr), stderr });
    }),
  );
  return { child, done };
}

type Status = { state: string; running: { slot: string; version: string | null; md5: string } | null; daemon: { lease: { address: string } | null } };
function status(dir: string): Status {
  return JSON.parse(execFileSync(AGENT, ['status', '--json', '--state-dir', join(dir, 'state')], { encoding: 'utf8' })) as Status;
}

/** Starts the daemon and waits until the image is staged and SNMP answers; returns the modem's address. */
async function stagedDaemon(ns: string, dir: string): Promise<{ run: Run; addr: string }> {
  const run = start(ns, dir);
  let addr = '';
  await waitFor(() => {
    try {
      const s = status(dir);
      addr = s.daemon.lease?.address ?? '';
      return s.state === 'staged-awaiting-reboot' && addr !== '';
    } catch {
      return false;
    }
  }, 'the image to be staged', 60_000, 200);
  return { run, addr };
}

const v2 = (community: string, addr: string): string[] => ['-v2c', '-c', community, '-t', '1', '-r', '0', addr];
const v3 = (authKey: string, addr: string): string[] => ['-v3', '-l', 'authPriv', '-u', USER, '-a', 'SHA-256', '-A', authKey, '-x', 'AES', '-X', SECRETS.privKey, '-t', '1', '-r', '0', addr];
const DOCS = ['-m', '+DOCS-CABLE-DEVICE-MIB'];
const RESET = ['docsDevResetNow.0', 'i', '1'];

async function expectStillRunning(r: Run): Promise<void> {
  await new Promise((res) => setTimeout(res, 500));
  expect(r.child.exitCode).toBeNull();
}

async function rebootedOnce(r: Run, addrBefore: string): Promise<void> {
  const d = await r.done;
  expect(d.code).toBe(0); // the sim reboot ends the process
  const seq = d.events.map((e) => String(e.event)).filter((e) => ['snmp.reset', 'dhcp.release', 'reboot'].includes(e));
  expect(seq).toEqual(['snmp.reset', 'dhcp.release', 'reboot']);
  expect(d.events.find((e) => e.event === 'reboot')).toMatchObject({ reason: 'reboot requested (snmp)', slot: 'B', version: '1.3.0' });
  await waitFor(async () => (await lab.leases()).filter((l) => l.address === addrBefore).at(-1)?.bindingState === 'free', 'dhcpd to record the RELEASE', 5000);
  expect(lab.dhcpd().output()).toContain(`DHCPRELEASE of ${addrBefore}`);
}

describeLab('SNMP with the Net-SNMP tools (dhcpd + tftpd-hpa, dist/cpe-agent on sim)', ['dhcpd', 'in.tftpd', 'snmpget', 'snmpset', 'snmpwalk'], () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'csn-snmp-'));
    tools = await snmpTools();
    lab = await startUpgradeLab({ prefix: 'csn', subnet: SUBNET, tag, clients: 3, classes: { 'ESH-3105': OFFER }, files: { [F.next]: NEW, [F.mgmt]: MGMT }, ftp: { user: `csn${tag}`, password: `pw-${tag}-unused` } });
  });

  afterAll(async () => {
    for (const c of live) c.kill('SIGKILL');
    await lab?.stop();
    await tools?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('v2c: walk shows our MIB by name, docsDevSwCurrentVers = status --json; wrong community and the read community cannot reboot; snmpset docsDevResetNow.0 i 1 → one reboot into slot B', async () => {
    const dir = cpeDir('v2c');
    const { run, addr } = await stagedDaemon(lab.clientNs[0] ?? '', dir);

    const walk = await tools.run('snmpwalk', ['-m', '+CPE-AGENT-MIB', ...v2(SECRETS.read, addr), 'cpeAgentMIB'], lab.serverNs);
    expect(walk).toContain('CPE-AGENT-MIB::cpeRunningVersion.0 = STRING: 1.2.0');
    expect(walk).toContain(`CPE-AGENT-MIB::cpeRunningMd5.0 = STRING: ${md5Hex(FACTORY)}`);
    expect(walk).toContain('CPE-AGENT-MIB::cpeStagedSlot.0 = INTEGER: b(2)');
    expect(walk).toContain('CPE-AGENT-MIB::cpeStagedVersion.0 = STRING: 1.3.0');
    expect(walk).toContain('CPE-AGENT-MIB::cpeRebootPending.0 = INTEGER: true(1)');
    expect(walk).toContain(`CPE-AGENT-MIB::cpeOfferFile.0 = STRING: ${F.next}`);
    expect(walk).toContain('CPE-AGENT-MIB::cpeAgentState.0 = STRING: staged-awaiting-reboot');
    expect(walk).toContain('CPE-AGENT-MIB::cpeDaemonPhase.0 = INTEGER: idle(6)');
    const sys = await tools.run('snmpwalk', [...v2(SECRETS.read, addr), 'system'], lab.serverNs);
    expect(sys).toContain('SNMPv2-MIB::sysDescr.0 = STRING: cpe-agent ESH-3105 running 1.2.0 (slot A)');
    expect(sys).toContain('SNMPv2-MIB::sysObjectID.0 = OID: SNMPv2-SMI::enterprises.32473.1.2.1');
    expect(sys).toContain('SNMPv2-MIB::sysName.0 = STRING: v2c');
    const vers = await tools.run('snmpget', ['-m', '+DOCS-CABLE-DEVICE-MIB', '-Oqv', ...v2(SECRETS.read, addr), 'docsDevSwCurrentVers.0'], lab.serverNs);
    expect(vers.trim().replace(/"/g, '')).toBe(status(dir).running?.version);

    const wrong = await tools.try('snmpset', [...DOCS, ...v2('not-the-community', addr), ...RESET], lab.serverNs);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr + wrong.stdout).toMatch(/Timeout/);
    const ro = await tools.try('snmpset', [...DOCS, ...v2(SECRETS.read, addr), ...RESET], lab.serverNs);
    expect(ro.stderr + ro.stdout).toMatch(/noAccess/);
    await expectStillRunning(run);
    const bad = await tools.run('snmpget', ['-Oqv', ...v2(SECRETS.read, addr), 'SNMPv2-MIB::snmpInBadCommunityNames.0'], lab.serverNs);
    expect(bad.trim()).toBe('1');

    const ok = await tools.run('snmpset', [...DOCS, ...v2(SECRETS.write, addr), ...RESET], lab.serverNs);
    expect(ok).toContain('DOCS-CABLE-DEVICE-MIB::docsDevResetNow.0 = INTEGER: true(1)');
    await rebootedOnce(run, addr);

    const next = await start(lab.clientNs[0] ?? '', dir, true).done;
    expect(next.code).toBe(0);
    expect(next.events.find((e) => e.event === 'boot')).toMatchObject({ slot: 'B', trial: true });
    expect(status(dir)).toMatchObject({ state: 'up-to-date', running: { slot: 'B', version: '1.3.0', md5: md5Hex(NEW) } });
  });

  it('v3 authPriv (SHA-256, AES): a wrong key changes nothing (counted); the right one reboots once into slot B', async () => {
    const dir = cpeDir('v3');
    const { run, addr } = await stagedDaemon(lab.clientNs[1] ?? '', dir);
    const wrong = await tools.try('snmpset', [...DOCS, ...v3(`${SECRETS.authKey}-wrong`, addr), ...RESET], lab.serverNs);
    expect(wrong.code).not.toBe(0);
    await expectStillRunning(run);
    // usmStatsWrongDigests + usmStatsDecryptionErrors
    const counted = await tools.run('snmpget', ['-Oqv', ...v3(SECRETS.authKey, addr), '1.3.6.1.6.3.15.1.1.5.0', '1.3.6.1.6.3.15.1.1.6.0'], lab.serverNs);
    expect(counted.trim().split(/\s+/).map(Number).reduce((a, b) => a + b, 0), `${counted} after ${wrong.stdout}${wrong.stderr}`).toBeGreaterThanOrEqual(1);

    const ok = await tools.run('snmpset', [...DOCS, ...v3(SECRETS.authKey, addr), ...RESET], lab.serverNs);
    expect(ok).toContain('docsDevResetNow.0 = INTEGER: true(1)');
    await rebootedOnce(run, addr);
    const next = await start(lab.clientNs[1] ?? '', dir, true).done;
    expect(next.code).toBe(0);
    expect(status(dir)).toMatchObject({ running: { slot: 'B', version: '1.3.0' } });
  });

  it('docsDevSoftware: upgradeFromMgt(1) of a missing file → failed(4), the error in CPE-AGENT-MIB; of a served file → inProgress, reboot into it, completeFromMgt(3), provisioning then ignored', async () => {
    const dir = cpeDir('mgmt');
    const ns = lab.clientNs[2] ?? '';
    // FS-0900E has no class in this lab's dhcpd: a lease without option 43, no provisioning offer
    const run = start(ns, dir, false, 'FS-0900E');
    let addr = '';
    await waitFor(() => {
      try {
        addr = status(dir).daemon.lease?.address ?? '';
        return addr !== '' && status(dir).state === 'no-offer';
      } catch {
        return false;
      }
    }, 'a lease without an offer', 30_000, 200);
    const SW = ['-m', '+DOCS-CABLE-DEVICE-MIB:CPE-AGENT-MIB'];
    const server = `docsDevSwServerAddress.0 x ${SERVER.split('.').map((n) => Number(n).toString(16).padStart(2, '0')).join('')}`.split(' ');
    const get = async (...names: string[]): Promise<string[]> => (await tools.run('snmpget', [...SW, '-Oqv', ...v2(SECRETS.read, addr), ...names], lab.serverNs)).trim().split('\n');

    const miss = await tools.run('snmpset', [...SW, ...v2(SECRETS.write, addr), 'docsDevSwAdminStatus.0', 'i', '1', 'docsDevSwServerAddressType.0', 'i', '1', ...server, 'docsDevSwFilename.0', 's', 'FS-0900E_FW_9_9_9_missing.bin'], lab.serverNs);
    expect(miss).toContain('docsDevSwAdminStatus.0 = INTEGER: upgradeFromMgt(1)');
    await waitFor(async () => (await get('docsDevSwOperStatus.0'))[0] === 'failed', 'OperStatus failed', 20_000, 200);
    const [code, text] = await get('cpeLastErrorCode.0', 'cpeLastErrorText.0');
    expect(code).toMatch(/^TFTP_(FILE_)?NOT_FOUND$/);
    expect(text).toMatch(/not found/i);
    expect(run.child.exitCode).toBeNull();
    const http = await tools.try('snmpset', [...SW, ...v2(SECRETS.write, addr), 'docsDevSwServerTransportProtocol.0', 'i', '2'], lab.serverNs);
    expect(http.stdout + http.stderr).toMatch(/wrongValue/);

    const ok = await tools.run('snmpset', [...SW, ...v2(SECRETS.write, addr), 'docsDevSwServerAddressType.0', 'i', '1', ...server, 'docsDevSwFilename.0', 's', F.mgmt, 'docsDevSwAdminStatus.0', 'i', '1'], lab.serverNs);
    expect(ok).toContain('docsDevSwAdminStatus.0 = INTEGER: upgradeFromMgt(1)');
    const during = await tools.try('snmpget', [...SW, '-Oqv', ...v2(SECRETS.read, addr), 'docsDevSwOperStatus.0'], lab.serverNs);
    expect(during.stdout.trim()).toBe('inProgress');
    const busy = await tools.try('snmpset', [...SW, ...v2(SECRETS.write, addr), 'docsDevSwFilename.0', 's', 'other.bin'], lab.serverNs);
    expect(busy.stdout + busy.stderr).toMatch(/inconsistentValue|Timeout/); // refused, or the agent is already rebooting
    const d = await run.done;
    expect(d.code).toBe(0);
    const seq = d.events.map((e) => String(e.event)).filter((e) => ['mgmt.upgrade.start', 'mgmt.upgrade.staged', 'dhcp.release', 'reboot'].includes(e));
    expect(seq).toEqual(['mgmt.upgrade.start', 'mgmt.upgrade.start', 'mgmt.upgrade.staged', 'dhcp.release', 'reboot']);

    const next = start(ns, dir, false, 'FS-0900E');
    await waitFor(() => {
      try {
        addr = status(dir).daemon.lease?.address ?? '';
        return addr !== '' && status(dir).running?.slot === 'B';
      } catch {
        return false;
      }
    }, 'the new image to run', 30_000, 200);
    expect(status(dir)).toMatchObject({ running: { slot: 'B', version: '1.4.0', md5: md5Hex(MGMT) } });
    expect(await get('docsDevSwOperStatus.0', 'docsDevSwAdminStatus.0', 'docsDevSwCurrentVers.0')).toEqual(['completeFromMgt', 'ignoreProvisioningUpgrade', '"1.4.0"']);
    next.child.kill('SIGTERM');
    await next.done;
  });

  it('no agent log and no status output contains a community or a v3 key', () => {
    const texts = ['v2c', 'v3', 'mgmt'].flatMap((n) => {
      const dir = join(work, n);
      const logs = execFileSync('sh', ['-c', `cat ${dir}/agent-*.log`], { encoding: 'utf8' });
      return [logs, execFileSync(AGENT, ['status', '--json', '--state-dir', join(dir, 'state')], { encoding: 'utf8' })];
    });
    expect(texts.join('').length).toBeGreaterThan(1000);
    expect(texts.join('')).toContain('snmp.refused');
    for (const s of Object.values(SECRETS)) for (const t of texts) expect(t.includes(s)).toBe(false);
    void readFileSync;
  });
});
