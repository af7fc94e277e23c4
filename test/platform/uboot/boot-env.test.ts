import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { slotFromCmdline, UBootBootEnv } from '../../../platform/uboot/boot-env.ts';
import { UBootEnvStore } from '../../../platform/uboot/env-store.ts';
import { describeWithFwTools, fwConfig, fwPrintenv, fwSetenv } from './fw-tools.ts';

const root = mkdtempSync(join(tmpdir(), 'cpe-ubootbe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const SIZE = 0x4000;

function setup(running: 'A' | 'B' | null) {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  const files = [join(d, 'uboot.env'), join(d, 'uboot-redund.env')];
  const cmdline = join(d, 'cmdline');
  writeFileSync(cmdline, `console=ttyAMA0 rdinit=/init${running ? ` boot_slot=${running}` : ''} quiet\n`);
  const store = new UBootEnvStore({ copies: files.map((path) => ({ path })), size: SIZE });
  const env = new UBootBootEnv(store, { cmdline, bootlimit: 3 });
  return { d, files, cmdline, store, env };
}

describe('U-Boot boot env', () => {
  it('reads the running slot from the kernel command line (last boot_slot= wins, A/B only)', () => {
    expect(slotFromCmdline('root=/dev/vda2 boot_slot=B')).toBe('B');
    expect(slotFromCmdline('boot_slot=A x boot_slot=B\n')).toBe('B');
    expect(slotFromCmdline('boot_slot=C')).toBeUndefined();
    expect(slotFromCmdline('quiet')).toBeUndefined();
  });

  it('a command line without boot_slot= is a clear error, not a guess', async () => {
    const { env } = setup(null);
    await expect(env.read()).rejects.toMatchObject({ code: 'UBOOT_NO_RUNNING_SLOT' });
  });

  it('no valid environment: defaults boot the running slot, no trial', async () => {
    const { env, store } = setup('B');
    expect(await env.read()).toEqual({ next: 'B', current: 'B', trial: false });
    expect(await env.bootFacts()).toEqual({ slot: 'B', trial: false, envLost: true });
    await env.markGood(); // nothing on trial: no write
    expect(await store.read()).toBeNull();
  });

  it('upgrade: not bootable before the write, size after the commit, trial after setNext, commit by markGood', async () => {
    const a = setup('A');
    await a.env.markUnbootable('B');
    expect((await a.store.read())?.vars).toMatchObject({ boot_slot: 'A', upgrade_available: '0', bootable_B: '0', bootlimit: '3' });
    await expect(a.env.setNext('B')).rejects.toMatchObject({ code: 'SLOT_NOT_VERIFIED' });
    await a.env.recordImageSize('B', 1234);
    expect(await a.env.imageSize('B')).toBe(1234);
    expect((await a.store.read())?.vars.bootable_B).toBe('0'); // still not bootable until setNext
    await a.env.setNext('B');
    expect(await a.env.read()).toEqual({ next: 'B', current: 'A', trial: true });
    expect((await a.store.read())?.vars).toMatchObject({ boot_slot: 'B', upgrade_available: '1', bootcount: '0', bootable_B: '1' });
    await a.env.markGood(); // B is not running yet: nothing to commit
    expect((await a.store.read())?.vars.upgrade_available).toBe('1');
    // the board reboots into B (boot.cmd counted one boot)
    writeFileSync(a.cmdline, 'boot_slot=B\n');
    const cur = await a.store.read();
    await a.store.write({ ...(cur?.vars ?? {}), bootcount: '1' }, cur);
    expect(await a.env.bootFacts()).toEqual({ slot: 'B', trial: true, envLost: false });
    await a.env.markGood();
    expect((await a.store.read())?.vars).toMatchObject({ boot_slot: 'B', upgrade_available: '0', bootcount: '0' });
    expect(await a.env.read()).toEqual({ next: 'B', current: 'B', trial: false });
  });

  it('writing the slot a switch is pending to cancels the switch; the running slot is refused', async () => {
    const a = setup('A');
    await a.env.recordImageSize('B', 10);
    await a.env.setNext('B');
    await a.env.markUnbootable('B');
    expect(await a.env.read()).toEqual({ next: 'A', current: 'A', trial: false });
    expect(await a.env.imageSize('B')).toBeUndefined();
    await expect(a.env.markUnbootable('A')).rejects.toMatchObject({ code: 'SLOT_RUNNING' });
  });

  it('setNext(running) cancels a pending switch', async () => {
    const a = setup('A');
    await a.env.setNext('B');
    await a.env.setNext('A');
    expect(await a.env.read()).toEqual({ next: 'A', current: 'A', trial: false });
  });

  it('reports the fallback boot.cmd recorded, once', async () => {
    const a = setup('A');
    await a.store.write({ boot_slot: 'A', upgrade_available: '0', bootcount: '0', bootlimit: '3', fallback_from: 'B' }, null);
    expect(await a.env.bootFacts()).toEqual({ slot: 'A', trial: false, fellBackFrom: 'B', envLost: false });
    expect(await a.env.bootFacts()).toEqual({ slot: 'A', trial: false, envLost: false });
  });
});

describeWithFwTools('U-Boot boot env through libubootenv', () => {
  it('fw_printenv sees the trial the agent set; the agent sees what fw_setenv changed', async () => {
    const a = setup('A');
    const fw = fwConfig(a.d, a.files, SIZE);
    await a.env.recordImageSize('B', 99);
    await a.env.setNext('B');
    expect(fwPrintenv(fw)).toMatchObject({ boot_slot: 'B', upgrade_available: '1', bootcount: '0', bootlimit: '3', bootable_B: '1', image_size_B: '99' });
    fwSetenv(fw, 'upgrade_available', '0');
    fwSetenv(fw, 'boot_slot', 'A');
    expect(await a.env.read()).toEqual({ next: 'A', current: 'A', trial: false });
  });
});
