/**
 * Real power cuts of the QEMU modem (scripts/qemu/powercut-qemu.ts, scenario "mini"): one
 * SIGKILL of QEMU per phase of an A → B upgrade (download, env update, dd + fsync of the slot,
 * commit in the trial slot), at a seeded random moment; the disk then boots again and must
 * come up on a slot holding a good image, with a valid U-Boot environment that records it.
 * About 25 s per trial under TCG; every QEMU is killed, the lab namespace removed.
 */
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { mulberry32 } from '../../agent/util/prng.ts';
import { killAllQemu, UBOOT_BIN } from '../../scripts/qemu/console.ts';
import { startQemuLab, type QemuLab } from '../../scripts/qemu/lab.ts';
import { prepareMini, runQemuTrial, describeTrial, type Prepared, type Phase } from '../../scripts/qemu/powercut-qemu.ts';
import { describeLab } from '../helpers/prereq.ts';

const TOOLS = ['qemu-system-aarch64', UBOOT_BIN, 'mkimage', 'mkfs.vfat', 'mcopy', 'mmd', 'sfdisk', 'mkfs.ext4', 'cpio', 'depmod', 'dhcpd', 'in.tftpd', 'vsftpd'];

describeLab('QEMU modem: power cut (SIGKILL) during an upgrade, then boot again', TOOLS, () => {
  let dir: string;
  let p: Prepared;
  let lab: QemuLab | undefined;
  const rand = mulberry32(10);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpe-qcut-'));
    p = await prepareMini(dir);
    const v2 = p.images[1];
    if (!v2) throw new Error('no v2 image');
    lab = await startQemuLab({
      classes: { 'FS-0900E': { protocol: 'tftp', server: '198.18.96.1', softwareFile: '2.img', softwareMd5: v2.md5, flags: 1, urgent: true, unknown: [] } },
      ftp: { user: 'cpqcut', password: 'lab-pass-cut' },
      files: { '2.img': readFileSync(v2.path) },
    });
  }, 300_000);
  afterEach(async () => {
    await killAllQemu();
  });
  afterAll(async () => {
    await killAllQemu();
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const trial = async (phase: Phase, n: number) => {
    if (!lab) throw new Error('no lab');
    const r = await runQemuTrial(p, lab, phase, rand, n);
    console.log(`power cut ${describeTrial(r)}`);
    expect(r.timeline.some((t) => t.startsWith('KILL@'))).toBe(true);
    expect({ verdict: r.verdict, detail: r.detail }).toMatchObject({ verdict: 'ok' });
    return r;
  };

  it('cut while downloading: boots A (v1), B was never made bootable', async () => {
    const r = await trial('download', 0);
    expect([r.booted, r.version]).toEqual(['A', '1']);
  }, 180_000);

  it('cut while dd writes slot B: boots A (v1)', async () => {
    const r = await trial('write', 1);
    expect([r.booted, r.version]).toEqual(['A', '1']);
  }, 180_000);

  it('cut around an environment update: boots a good slot, the env is valid and records it', async () => {
    const r = await trial('env', 2);
    expect(r.version).toBe(r.booted === 'A' ? '1' : '2');
  }, 180_000);

  it('cut while the trial slot B commits: boots B (v2), on trial or committed', async () => {
    const r = await trial('commit', 3);
    expect([r.booted, r.version]).toEqual(['B', '2']);
    expect(r.detail).toMatch(/boot_slot=B/);
  }, 180_000);
});
