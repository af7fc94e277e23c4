/**
 * make qemu-demo — the emulated arm64 modem (Debian's U-Boot + kernel under QEMU TCG, the
 * rootfs with the agent's single executable, board backend) upgrades itself in the lab:
 *
 *   factory disk: slot A = firmware 1.0.0, slot B empty, data partition with the lab's site config
 *   1. 1.0.0 → 2.0.0: option 43 over TFTP, urgent → download, verify, write B, release,
 *      reboot → U-Boot boots B on trial → BOUND → committed
 *   2. 2.0.0 → 3.0.0: FTP, not urgent → staged in A, waits → `snmpset docsDevResetNow.0 i 1`
 *      from the lab → reboot → A on trial → committed
 *   3. rollback: 4.0.0 (TFTP, urgent) never gets healthy (the lab's dhcpd is frozen while it
 *      runs on trial; health timeout 20 s, bootlimit 2) → U-Boot falls back to A (3.0.0) →
 *      the agent reports it and does not fetch 4.0.0 again
 *
 * Prints the modem's console events as they happen and a summary; ends with "qemu-demo OK"
 * (exit 0) only when every step was seen and `cpe-agent status` in the guest agrees.
 * Everything is torn down on success, failure and Ctrl-C. Addresses 198.18.96.0/24 (lab).
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Option43Offer } from '../../agent/option43/types.ts';
import { startQemuLab, type QemuLab } from './lab.ts';
import { killAllQemu } from './console.ts';
import { buildFirmware, ensureArm64Bundle, makeDisk, siteConfig, snmpReset, startModem, VENDOR_CLASS, type Firmware, type Modem } from './modem.ts';

const FTP = { user: 'cpqdemo', password: 'demo-ftp-pass-3' };
const WRITE = 'demo-write-5e1';
const SERVER = '198.18.96.1';
const t0 = performance.now();
const stamp = (): string => `[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s]`;
const say = (s: string): void => void process.stdout.write(`${stamp()} ${s}\n`);
/** console lines worth showing (U-Boot's A/B decisions, the agent's events) */
const SHOW = /^(cpe: |cpe-agent rootfs |board: )|\b(INFO|WARN|ERROR) +(booted|running slot|DHCP ACK|downloading|tftp |ftp .*of|TFTP transfer complete|staged|rebooting|slot . is healthy|decision|software download|trial boot|the bootloader|slot . never)/;

const offer = (f: Firmware, protocol: 'tftp' | 'ftp', urgent: boolean): Option43Offer => ({
  protocol,
  server: SERVER,
  ...(protocol === 'ftp' ? FTP : {}),
  softwareFile: f.name,
  softwareMd5: f.md5,
  flags: urgent ? 1 : 0,
  urgent,
  unknown: [],
});

function echoConsole(m: Modem): void {
  let buf = '';
  m.stream.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '').replace(/\x1b\[[0-9;]*[a-zA-Z]/g, '');
      buf = buf.slice(i + 1);
      const clean = line.replace(/^\/ # /, '');
      if (SHOW.test(clean)) process.stdout.write(`${stamp()}   | ${clean.replace(/ event=.*$/, '').slice(0, 160)}\n`);
    }
  });
}

let lab: QemuLab | undefined;
let dir = '';
const cleanup = async (): Promise<void> => {
  await killAllQemu();
  await lab?.stop().catch(() => undefined);
  lab = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function main(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'cpe-qdemo-'));
  chmodSync(dir, 0o755);
  say('building the arm64 agent (when stale) and firmware 1.0.0 … 4.0.0 (scripts/qemu/firmware.sh)');
  await ensureArm64Bundle();
  const fw: Firmware[] = [];
  for (const v of ['1.0.0', '2.0.0', '3.0.0', '4.0.0']) {
    const f = await buildFirmware(v, join(dir, 'fw'));
    fw.push(f);
    say(`  ${f.name}  ${(f.size / 1048576).toFixed(1)} MiB  md5 ${f.md5}`);
  }
  const [v1, v2, v3, v4] = fw as [Firmware, Firmware, Firmware, Firmware];
  const srv = join(dir, 'srv');
  mkdirSync(srv, { mode: 0o755 });
  for (const f of fw) copyFileSync(f.path, join(srv, f.name));
  const disk = await makeDisk(dir, v1, siteConfig({ snmpWrite: WRITE, healthTimeoutSeconds: 20 }), ['bootlimit=2']);
  say('factory disk: A = 1.0.0, B empty, data partition (site config: SNMP write community, health timeout 20 s), bootlimit 2');
  lab = await startQemuLab({ classes: { [VENDOR_CLASS]: offer(v2, 'tftp', true) }, ftp: FTP, root: srv, leaseSeconds: 30 });
  say(`lab up: dhcpd offers ${v2.name} over TFTP, urgent`);
  const m = startModem({ lab, disk, log: join(dir, 'console.log'), timeoutMs: 30 * 60_000 });
  echoConsole(m);
  const summary: string[] = [];

  say('== upgrade 1: 1.0.0 → 2.0.0 (TFTP, urgent)');
  await m.line(/running slot A version 1\.0\.0/, 300_000);
  await m.line(/DHCP ACK /, 180_000);
  summary.push(`boot → BOUND (1.0.0): ${stamp()}`);
  const d1 = performance.now();
  await m.line(/staged FS-0900E_FW_2_0_0\.bin \(version 2\.0\.0, signature verified\) in slot B, verified; urgent/, 600_000);
  const dl1 = (performance.now() - d1) / 1000;
  await m.line(/cpe: slot B on trial, boot 1 of 2/, 180_000);
  await m.line(/slot B is healthy \(DHCP bound\)/, 300_000);
  let s = await m.status();
  if (s.running?.slot !== 'B' || s.running.version !== '2.0.0') throw new Error(`status after upgrade 1: ${JSON.stringify(s.running)}`);
  say(`status: ${s.stateText}; running slot ${s.running.slot} version ${s.running.version}`);
  summary.push(`upgrade 1 (TFTP urgent): 1.0.0 → 2.0.0 in slot B, download+write+verify ${dl1.toFixed(1)} s`);

  say('== upgrade 2: 2.0.0 → 3.0.0 (FTP, not urgent, reboot by SNMP)');
  await lab.setOffers({ [VENDOR_CLASS]: offer(v3, 'ftp', false) });
  const ack = await m.line(/DHCP ACK (\d+\.\d+\.\d+\.\d+) from [\d.]+: offer FS-0900E_FW_3_0_0\.bin/, 120_000);
  const d2 = performance.now();
  await m.line(/staged FS-0900E_FW_3_0_0\.bin \(version 3\.0\.0, signature verified\) in slot A, verified; awaiting reboot/, 600_000);
  const dl2 = (performance.now() - d2) / 1000;
  s = await m.status();
  say(`status: ${s.stateText}; staged slot ${s.staged?.slot ?? '?'} version ${s.staged?.version ?? '?'}`);
  say(`lab: snmpset -v2c -c *** ${ack[1] ?? '?'} docsDevResetNow.0 i 1`);
  const set = await snmpReset(lab, ack[1] ?? '', WRITE);
  if (set.code !== 0) throw new Error(`snmpset failed: ${set.stderr}`);
  say(`  ${set.stdout.trim()}`);
  await m.line(/cpe: slot A on trial, boot 1 of 2/, 180_000);
  await m.line(/slot A is healthy \(DHCP bound\)/, 300_000);
  s = await m.status();
  if (s.running?.slot !== 'A' || s.running.version !== '3.0.0') throw new Error(`status after upgrade 2: ${JSON.stringify(s.running)}`);
  say(`status: ${s.stateText}; running slot ${s.running.slot} version ${s.running.version}`);
  summary.push(`upgrade 2 (FTP + SNMP reboot): 2.0.0 → 3.0.0 in slot A, download+write+verify ${dl2.toFixed(1)} s`);

  say('== rollback: 4.0.0 never gets healthy (the lab freezes dhcpd while it is on trial)');
  await lab.setOffers({ [VENDOR_CLASS]: offer(v4, 'tftp', true) });
  await m.line(/rebooting: urgent upgrade offer/, 600_000);
  lab.up.dhcpd().pause();
  say('lab: dhcpd frozen (SIGSTOP)');
  await m.line(/cpe: slot B never became healthy: falling back/, 600_000);
  lab.up.dhcpd().resume();
  say('lab: dhcpd resumed (SIGCONT)');
  await m.line(/decision: wait \(VERIFY_FAILED\)/, 300_000);
  s = await m.status();
  const fb = s.history.find((h) => h.event === 'fallback');
  if (s.running?.slot !== 'A' || s.running.version !== '3.0.0' || !fb) throw new Error(`status after the rollback: ${JSON.stringify(s.running)}, history ${JSON.stringify(s.history.slice(-3))}`);
  say(`status: ${s.stateText}; running slot ${s.running.slot} version ${s.running.version}; history: fallback (${fb.detail ?? ''})`);
  summary.push(`rollback: 4.0.0 in B never healthy (2 trial boots) → U-Boot back to A, 3.0.0 runs, 4.0.0 not fetched again`);

  process.stdout.write(`\nsummary (QEMU TCG, ${stamp()} in all):\n  ${summary.join('\n  ')}\nqemu-demo OK\n`);
}

main()
  .then(cleanup)
  .catch(async (e: unknown) => {
    process.stderr.write(`qemu-demo FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
    await cleanup();
    process.exitCode = 1;
  });
