/**
 * The QEMU modem's bootloader side (scripts/qemu/boot.cmd) on Debian's real U-Boot and
 * arm64 kernel, with the busybox mini rootfs: slot A (v1) powers off when it is up, slot B
 * (v2) reboots at once (an image that never gets healthy). Each QEMU run is bounded by
 * run.sh's timeout; the guest's power-off ends it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeEnv } from '../../platform/uboot/env-format.ts';
import { UBootEnvStore } from '../../platform/uboot/env-store.ts';
import { UBootBootEnv } from '../../platform/uboot/boot-env.ts';
import { describeLab } from '../helpers/prereq.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const Q = join(ROOT, 'scripts/qemu');
const KERNEL = join(ROOT, '.lab/qemu/kernel');
const TOOLS = ['qemu-system-aarch64', '/usr/lib/u-boot/qemu_arm64/u-boot.bin', 'mkimage', 'mkfs.vfat', 'mcopy', 'sfdisk', 'mkfs.ext4', 'cpio', 'depmod', 'fw_printenv'];

describeLab('QEMU modem: U-Boot boot.cmd (slot choice, redundant env, bootcount fallback)', TOOLS, () => {
  let dir: string;
  const slot: Record<'A' | 'B' | 'Bgood', string> = { A: '', B: '', Bgood: '' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpe-qemu-'));
    await run(join(Q, 'kernel.sh'), [KERNEL], { timeout: 300_000 });
    for (const [s, version, role] of [['A', '1', 'good'], ['B', '2', 'bad'], ['Bgood', '2', 'good']] as const) {
      const initrd = join(dir, `mini-${s}.cpio.gz`);
      await run(join(Q, 'mini-rootfs.sh'), [initrd, KERNEL, version, role], { timeout: 120_000 });
      slot[s] = join(dir, `slot-${s}.ext4`);
      await run(join(Q, 'slot-image.sh'), [slot[s], KERNEL, initrd, version], { timeout: 60_000 });
    }
  }, 420_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function disk(name: string, withB: boolean | 'good', vars: string[]): Promise<string> {
    const img = join(dir, `${name}.img`);
    await run(join(Q, 'disk.sh'), [img, slot.A, withB === 'good' ? slot.Bgood : withB ? slot.B : '-', ...vars], { timeout: 60_000 });
    return img;
  }

  /** Boots until the guest powers off; returns the serial console and the seconds it took. */
  async function boot(img: string, timeout: number): Promise<{ console: string; seconds: number }> {
    const log = `${img}.console`;
    const t0 = performance.now();
    await run(join(Q, 'run.sh'), [img, log, String(timeout)], { timeout: (timeout + 15) * 1000 });
    const seconds = (performance.now() - t0) / 1000;
    return { console: readFileSync(log, 'utf8'), seconds };
  }

  /** The environment as the FAT partition holds it after the run, by our codec and by fw_printenv. */
  async function envAfter(img: string): Promise<{ ours: Record<string, string> | undefined; fw: string }> {
    const out = mkdtempSync(join(dir, 'env-'));
    await run('mcopy', ['-n', '-i', `${img}@@1M`, '::uboot.env', '::uboot-redund.env', out]);
    const files = [join(out, 'uboot.env'), join(out, 'uboot-redund.env')];
    const ours = (await new UBootEnvStore({ copies: files.map((path) => ({ path })) }).read())?.vars;
    const cfg = join(out, 'fw_env.config');
    writeFileSync(cfg, files.map((f) => `${f} 0x0 0x4000\n`).join(''));
    writeFileSync(join(out, 'defenv'), '');
    const fw = (await run('fw_printenv', ['-c', cfg, '-f', join(out, 'defenv')])).stdout;
    return { ours, fw };
  }

  it('boots slot A; of the two env copies it takes the valid one, not the newer torn one', async () => {
    const img = await disk('torn', true, ['boot_slot=A', 'upgrade_available=0']);
    // copy 1: newer (flags 2) and asks for a trial of B, but torn (CRC broken)
    const torn = encodeEnv({ boot_slot: 'B', upgrade_available: '1', bootcount: '0', bootlimit: '3' }, { size: 0x4000, redundant: true, flags: 2 });
    torn[100] = (torn[100] ?? 0) ^ 0xff;
    const f = join(dir, 'uboot.env');
    writeFileSync(f, torn);
    await run('mcopy', ['-o', '-i', `${img}@@1M`, f, '::uboot.env']);
    const r = await boot(img, 120);
    console.log(`QEMU boot of slot A to power-off: ${r.seconds.toFixed(1)} s`);
    expect(r.console).toContain('cpe: environment copy 2');
    expect(r.console).toContain('cpe: booting slot A');
    expect(r.console).toMatch(/MINI: slot=A version=1 role=good/);
    expect(r.console).not.toContain('MINI: slot=B');
    expect(r.console).not.toContain('environment written'); // no trial: nothing to write
    expect(r.console).toContain('MINI: /boot: boot.scr uboot-redund.env uboot.env'); // the guest mounts the env partition
  }, 180_000);

  it('a trial slot that holds no kernel falls back at once, before any trial boot is wasted', async () => {
    // the env names B on trial (and bootable) but B is empty: boot.cmd must load A and record it
    const img = await disk('emptyB', false, ['boot_slot=B', 'upgrade_available=1', 'bootable_B=1']);
    const r = await boot(img, 120);
    expect(r.console).toContain('cpe: slot B holds no bootable kernel');
    expect(r.console).toMatch(/MINI: slot=A version=1 role=good/);
    const env = await envAfter(img);
    expect(env.ours).toMatchObject({ boot_slot: 'A', upgrade_available: '0', bootcount: '0', fallback_from: 'B' });
  }, 180_000);

  it('never bricks: both env copies bad and the default slot A unloadable → boots B', async () => {
    const img = await disk('lost', 'good', []);
    for (const name of ['uboot.env', 'uboot-redund.env']) {
      const f = join(dir, name);
      writeFileSync(f, Buffer.alloc(0x4000, 0x5a));
      await run('mcopy', ['-o', '-i', `${img}@@1M`, f, `::${name}`]);
    }
    // wipe slot A's first MiB (partition 2 starts at 33 MiB): no ext4 left
    await run('dd', ['if=/dev/zero', `of=${img}`, 'bs=1M', 'seek=33', 'count=1', 'conv=notrunc', 'status=none']);
    const r = await boot(img, 120);
    expect(r.console).toContain('cpe: no valid U-Boot environment copy');
    expect(r.console).toContain('cpe: slot A holds no bootable kernel');
    expect(r.console).toMatch(/MINI: slot=B version=2 role=good/);
  }, 180_000);

  /** Runs the agent's boot env (platform/uboot) on the disk's env files, as the guest would. */
  async function asAgent(img: string, running: 'A' | 'B', act: (env: UBootBootEnv) => Promise<void>): Promise<void> {
    const out = mkdtempSync(join(dir, 'agent-'));
    await run('mcopy', ['-n', '-i', `${img}@@1M`, '::uboot.env', '::uboot-redund.env', out]);
    const files = ['uboot.env', 'uboot-redund.env'].map((f) => join(out, f));
    writeFileSync(join(out, 'cmdline'), `console=ttyAMA0 quiet boot_slot=${running}\n`);
    await act(new UBootBootEnv(new UBootEnvStore({ copies: files.map((path) => ({ path })) }), { cmdline: join(out, 'cmdline') }));
    await run('mcopy', ['-o', '-i', `${img}@@1M`, ...files, '::']);
  }

  it('the agent switches to B, U-Boot boots it on trial; the agent commits, U-Boot boots it for good', async () => {
    const img = await disk('commit', 'good', ['bootable_B=0']);
    await asAgent(img, 'A', async (env) => {
      await env.markUnbootable('B'); // before the write
      await env.recordImageSize('B', statSync(slot.Bgood).size); // after the commit (the image is already on the disk)
      await env.setNext('B'); // after the verify
    });
    const trial = await boot(img, 120);
    expect(trial.console).toContain('cpe: slot B on trial, boot 1 of 3');
    expect(trial.console).toMatch(/MINI: slot=B version=2 role=good/);
    await asAgent(img, 'B', async (env) => {
      expect(await env.bootFacts()).toEqual({ slot: 'B', trial: true, envLost: false });
      await env.markGood();
    });
    const good = await boot(img, 120);
    expect(good.console).not.toContain('on trial');
    expect(good.console).not.toContain('environment written');
    expect(good.console).toMatch(/MINI: slot=B version=2 role=good/);
    expect((await envAfter(img)).ours).toMatchObject({ boot_slot: 'B', upgrade_available: '0', bootcount: '0', bootable_B: '1' });
  }, 300_000);

  it('B on trial and never healthy: counts its boots, falls back to A after bootlimit, records it', async () => {
    const img = await disk('fallback', true, ['boot_slot=B', 'upgrade_available=1', 'bootcount=0', 'bootlimit=2']);
    const r = await boot(img, 200);
    console.log(`QEMU trial of B (bootlimit 2) to fallback and power-off in A: ${r.seconds.toFixed(1)} s`);
    const c = r.console;
    expect(c.match(/MINI: slot=B version=2 role=bad/g)).toHaveLength(2);
    expect(c).toContain('cpe: slot B on trial, boot 1 of 2');
    expect(c).toContain('cpe: slot B on trial, boot 2 of 2');
    expect(c).toContain('cpe: slot B never became healthy: falling back');
    expect(c.indexOf('falling back')).toBeLessThan(c.indexOf('MINI: slot=A version=1 role=good'));
    const env = await envAfter(img);
    expect(env.ours).toMatchObject({ boot_slot: 'A', upgrade_available: '0', bootcount: '0', fallback_from: 'B' });
    expect(env.fw).toContain('boot_slot=A\n');
    expect(env.fw).toContain('fallback_from=B\n');
  }, 260_000);
});
