/**
 * The QEMU modem upgrades itself end to end (issue 10 §4, tests 1–4): Debian's real U-Boot and
 * arm64 kernel, the rootfs with the agent's single executable and the board backend, signed
 * firmware images from scripts/qemu/firmware.sh, the lab's ISC dhcpd (option 43), tftpd-hpa,
 * vsftpd and snmpset. One modem, one QEMU process (guest reboots reset the machine, QEMU stays),
 * the scenarios in a row, each starting where the previous one left the modem — CI's budget
 * allows few boots under TCG:
 *   3. wrong MD5 (v2, TFTP, urgent): downloaded, refused; slot B never bootable; failure in status
 *   1. v2 over TFTP, urgent: download, verify, write B, release, reboot, B on trial, BOUND, commit
 *   2. v3 over FTP, not urgent: staged in A, waits; `snmpset docsDevResetNow.0 i 1` from the lab
 *      → reboot → A on trial → committed
 *   4. v4 (TFTP, urgent) never gets healthy: dhcpd is frozen while v4 runs on trial (health
 *      timeout 20 s, bootlimit 2) → U-Boot falls back to A (v3) → the agent reports the rollback
 *      and does not fetch v4 again for that offer.
 * The U-Boot environment is also read from the disk file on the host (mcopy + our codec).
 * Prints the measured times (boot → BOUND, download + write + verify, each scenario).
 */
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Option43Offer } from '../../agent/option43/types.ts';
import { startQemuLab, type QemuLab } from '../../scripts/qemu/lab.ts';
import { killAllQemu } from '../../scripts/qemu/console.ts';
import { readEnv } from '../../scripts/qemu/env.ts';
import { buildFirmware, ensureArm64Bundle, makeDisk, MODEM_TOOLS, siteConfig, snmpReset, startModem, VENDOR_CLASS, type Firmware, type Modem } from '../../scripts/qemu/modem.ts';
import { describeLab } from '../helpers/prereq.ts';

const run = promisify(execFile);
const FTP = { user: 'cpqupftp', password: 'lab-ftp-pass-7' };
const WRITE = 'lab-write-9f3';
const SERVER = '198.18.96.1';

describeLab('QEMU modem: upgrades end to end (TFTP urgent, FTP + SNMP reboot, wrong MD5, rollback)', MODEM_TOOLS, () => {
  let dir: string;
  let lab: QemuLab | undefined;
  let modem: Modem;
  let disk: string;
  const fw: Record<string, Firmware> = {};
  const times: string[] = [];
  let ip = '';

  const offer = (f: Firmware, protocol: 'tftp' | 'ftp', urgent: boolean, md5 = f.md5): Option43Offer => ({
    protocol,
    server: SERVER,
    ...(protocol === 'ftp' ? FTP : {}),
    softwareFile: f.name,
    softwareMd5: md5,
    flags: urgent ? 1 : 0,
    urgent,
    unknown: [],
  });

  /** the U-Boot environment as the disk holds it now (what the guest last fsynced) */
  async function env(): Promise<Record<string, string>> {
    const out = mkdtempSync(join(dir, 'env-'));
    await run('mcopy', ['-n', '-i', `${disk}@@1M`, '::uboot.env', '::uboot-redund.env', out]);
    const e = await readEnv(join(out, 'uboot.env'), join(out, 'uboot-redund.env'));
    if (!e) throw new Error('no valid U-Boot environment copy on the disk');
    return e.vars;
  }

  const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpe-qup-'));
    chmodSync(dir, 0o755); // vsftpd's user is chrooted to dir/srv: it must get through dir
    const t0 = performance.now();
    await ensureArm64Bundle();
    for (const v of ['1.0.0', '2.0.0', '3.0.0', '4.0.0']) fw[v] = await buildFirmware(v, join(dir, 'fw'));
    times.push(`firmware 1–4 built in ${secs(performance.now() - t0)}`);
    const root = join(dir, 'srv');
    await run('mkdir', ['-p', root]);
    chmodSync(root, 0o755);
    for (const f of Object.values(fw)) copyFileSync(f.path, join(root, f.name));
    const v1 = fw['1.0.0'];
    if (!v1) throw new Error('no v1');
    disk = await makeDisk(dir, v1, siteConfig({ snmpWrite: WRITE, healthTimeoutSeconds: 20, maxAttempts: 1 }), ['bootlimit=2']);
    const v2 = fw['2.0.0'];
    if (!v2) throw new Error('no v2');
    // scenario 3 first: v2 announced with a wrong MD5
    lab = await startQemuLab({ classes: { [VENDOR_CLASS]: offer(v2, 'tftp', true, 'ab'.repeat(16)) }, ftp: FTP, root, leaseSeconds: 30 });
    modem = startModem({ lab, disk, log: join(dir, 'console.log'), timeoutMs: 40 * 60_000 });
  }, 900_000);

  afterAll(async () => {
    await killAllQemu();
    await lab?.stop();
    console.log(`QEMU modem times (TCG, 2 cores shared):\n  ${times.join('\n  ')}`);
    if (dir && !process.env.KEEP_QEMU) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('3. wrong MD5 in option 43: the image is downloaded and refused, slot B never becomes bootable, the failure is in status', async () => {
    const t0 = performance.now();
    await modem.line(/running slot A version 1\.0\.0 md5 /, 240_000);
    const bound = await modem.line(/DHCP ACK (\d+\.\d+\.\d+\.\d+) from /, 180_000);
    ip = bound[1] ?? '';
    times.push(`QEMU start → BOUND (v1): ${secs(modem.elapsed())}`);
    const dl0 = performance.now();
    await modem.line(/downloading tftp:\/\/198\.18\.96\.1\/FS-0900E_FW_2_0_0\.bin into slot B/, 60_000);
    const fail = await modem.line(/download of FS-0900E_FW_2_0_0\.bin failed \((\w+)\)/, 600_000);
    times.push(`wrong-MD5 download (44 MiB, refused at the end): ${secs(performance.now() - dl0)}`);
    expect(fail[1]).toMatch(/MD5/);
    const s = await modem.status();
    expect(s.running).toMatchObject({ slot: 'A', version: '1.0.0', md5: fw['1.0.0']?.md5 });
    expect(s.staged).toBeNull();
    expect(s.lastError?.code).toMatch(/MD5/);
    const e = await env();
    expect(e).toMatchObject({ boot_slot: 'A', upgrade_available: '0', bootable_B: '0' });
    times.push(`scenario 3 (wrong MD5): ${secs(performance.now() - t0)}`);
  }, 900_000);

  it('1. v2 over TFTP, urgent: written to B, reboot, U-Boot boots B on trial, BOUND, committed, v2 in status', async () => {
    const t0 = performance.now();
    const v2 = fw['2.0.0'];
    if (!lab || !v2) throw new Error('no lab');
    await lab.setOffers({ [VENDOR_CLASS]: offer(v2, 'tftp', true) });
    await modem.line(/downloading tftp:\/\/198\.18\.96\.1\/FS-0900E_FW_2_0_0\.bin into slot B/, 120_000);
    const dl0 = performance.now();
    await modem.line(/staged FS-0900E_FW_2_0_0\.bin \(version 2\.0\.0, signature verified\) in slot B, verified; urgent: releasing the lease and rebooting/, 600_000);
    times.push(`v2 download + write + verify (TFTP blksize 16384, ${(v2.size / 1048576).toFixed(1)} MiB): ${secs(performance.now() - dl0)}`);
    await modem.line(/rebooting: urgent upgrade offer/, 60_000);
    const r0 = performance.now();
    await modem.line(/cpe: slot B on trial, boot 1 of 2/, 120_000);
    await modem.line(/booted slot B \(trial\)/, 240_000);
    await modem.line(/slot B is healthy \(DHCP bound\): trial ended, boot environment committed/, 240_000);
    times.push(`reboot → B BOUND + committed: ${secs(performance.now() - r0)}`);
    const s = await modem.status();
    expect(s.running).toMatchObject({ slot: 'B', version: '2.0.0', md5: v2.md5 });
    expect(s.history.map((h) => h.event)).toEqual(expect.arrayContaining(['staged', 'healthy']));
    expect(await env()).toMatchObject({ boot_slot: 'B', upgrade_available: '0', bootcount: '0', bootable_B: '1', image_size_B: String(v2.size) });
    times.push(`scenario 1 (TFTP urgent): ${secs(performance.now() - t0)}`);
  }, 1_200_000);

  it('2. v3 over FTP, not urgent: staged in A, waits; snmpset docsDevResetNow.0 from the lab reboots it into A', async () => {
    const t0 = performance.now();
    const v3 = fw['3.0.0'];
    if (!lab || !v3) throw new Error('no lab');
    await lab.setOffers({ [VENDOR_CLASS]: offer(v3, 'ftp', false) });
    const bound = await modem.line(/DHCP ACK (\d+\.\d+\.\d+\.\d+) from [\d.]+: offer FS-0900E_FW_3_0_0\.bin/, 120_000);
    ip = bound[1] ?? ip;
    await modem.line(/downloading ftp:\/\/198\.18\.96\.1\/FS-0900E_FW_3_0_0\.bin into slot A/, 60_000);
    const dl0 = performance.now();
    await modem.line(/staged FS-0900E_FW_3_0_0\.bin \(version 3\.0\.0, signature verified\) in slot A, verified; awaiting reboot/, 600_000);
    times.push(`v3 download + write + verify (FTP): ${secs(performance.now() - dl0)}`);
    const staged = await modem.status();
    expect(staged.running).toMatchObject({ slot: 'B', version: '2.0.0' });
    expect(staged.staged).toMatchObject({ slot: 'A', version: '3.0.0', md5: v3.md5 });
    expect(await env()).toMatchObject({ boot_slot: 'A', upgrade_available: '1' });
    const set = await snmpReset(lab, ip, WRITE);
    expect(set.code, set.stderr).toBe(0);
    const r0 = performance.now();
    await modem.line(/rebooting: reboot requested \(snmp\)/, 60_000);
    await modem.line(/cpe: slot A on trial, boot 1 of 2/, 120_000);
    await modem.line(/slot A is healthy \(DHCP bound\)/, 300_000);
    times.push(`SNMP reset → A BOUND + committed: ${secs(performance.now() - r0)}`);
    const s = await modem.status();
    expect(s.running).toMatchObject({ slot: 'A', version: '3.0.0', md5: v3.md5 });
    expect(await env()).toMatchObject({ boot_slot: 'A', upgrade_available: '0' });
    times.push(`scenario 2 (FTP + SNMP reboot): ${secs(performance.now() - t0)}`);
  }, 1_200_000);

  it('4. v4 never gets healthy: two trial boots, U-Boot falls back to A, the agent reports the rollback and does not fetch v4 again', async () => {
    const t0 = performance.now();
    const v4 = fw['4.0.0'];
    if (!lab || !v4) throw new Error('no lab');
    await lab.setOffers({ [VENDOR_CLASS]: offer(v4, 'tftp', true) });
    await modem.line(/staged FS-0900E_FW_4_0_0\.bin \(version 4\.0\.0, signature verified\) in slot B, verified; urgent/, 900_000);
    await modem.line(/rebooting: urgent upgrade offer/, 60_000);
    // v4's network never answers: dhcpd frozen while v4 runs on trial
    lab.up.dhcpd().pause();
    await modem.line(/cpe: slot B on trial, boot 1 of 2/, 120_000);
    await modem.line(/trial boot of slot B got no DHCP lease within 20 s: rebooting/, 300_000);
    await modem.line(/cpe: slot B on trial, boot 2 of 2/, 120_000);
    await modem.line(/trial boot of slot B got no DHCP lease within 20 s: rebooting/, 300_000);
    await modem.line(/cpe: slot B never became healthy: falling back/, 120_000);
    lab.up.dhcpd().resume();
    await modem.line(/cpe: booting slot A/, 60_000);
    await modem.line(/slot B never became healthy; the bootloader fell back to slot A/, 300_000);
    await modem.line(/running slot A version 3\.0\.0/, 60_000);
    await modem.line(/DHCP ACK [\d.]+ from [\d.]+: offer FS-0900E_FW_4_0_0\.bin/, 180_000);
    // the same offer again: not fetched (the image that never got healthy counts as failed verification)
    await modem.line(/decision: wait \(VERIFY_FAILED\)/, 60_000);
    const s = await modem.status();
    expect(s.running).toMatchObject({ slot: 'A', version: '3.0.0', md5: fw['3.0.0']?.md5 });
    expect(s.history.map((h) => h.event)).toContain('fallback');
    expect(s.history.find((h) => h.event === 'fallback')).toMatchObject({ version: '4.0.0' });
    expect(await env()).toMatchObject({ boot_slot: 'A', upgrade_available: '0', bootcount: '0' });
    const since = modem.output().slice(modem.output().lastIndexOf('cpe: booting slot A'));
    expect(since).not.toMatch(/downloading tftp:\/\/[\d.]+\/FS-0900E_FW_4_0_0/);
    times.push(`scenario 4 (rollback): ${secs(performance.now() - t0)}`);
  }, 1_500_000);
});
