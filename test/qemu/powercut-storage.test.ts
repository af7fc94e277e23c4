/**
 * Storage-level power cuts (scripts/qemu/powercut-storage.ts): the agent's real staging and
 * U-Boot env code runs two upgrades on the modelled disk of scripts/qemu/cut-fs.ts, cut at
 * every write/fsync boundary once plus a seeded random series; after each cut boot.cmd's
 * decision (scripts/qemu/boot-script.ts) must boot a slot holding a good image and the agent
 * must be able to read its state. Removing the fsync of BlockSlots' commit makes the
 * every-boundary series fail (slot data lost behind an env that already names the slot).
 */
import { describe, expect, it } from 'vitest';
import { encodeEnv } from '../../platform/uboot/env-format.ts';
import { CutDisk, PowerCut, SECTOR } from '../../scripts/qemu/cut-fs.ts';
import { decideBoot, BOOT_ENV_SIZE } from '../../scripts/qemu/boot-script.ts';
import { runStorageSoak } from '../../scripts/qemu/powercut-storage.ts';

const env = (vars: Record<string, string>, flags: number): Buffer => encodeEnv(vars, { size: BOOT_ENV_SIZE, redundant: true, flags });

describe('cut-fs: the disk model', () => {
  it('keeps synced sectors, decides the fate of unsynced ones, and stops every call after the cut', async () => {
    const always = (x: number) => () => x;
    for (const [r, expectByte] of [[0, 0x00], [0.5, 0x11]] as const) {
      const disk = new CutDisk(always(r));
      disk.addFile('/cutfs/dev', Buffer.alloc(4 * SECTOR));
      disk.write('/cutfs/dev', Buffer.alloc(SECTOR, 0x22), SECTOR); // synced below
      disk.sync('/cutfs/dev');
      disk.write('/cutfs/dev', Buffer.alloc(SECTOR, 0x11), 0); // never synced
      disk.armCut(3);
      expect(() => disk.sync('/cutfs/dev')).toThrow(PowerCut);
      expect(() => disk.write('/cutfs/dev', Buffer.alloc(1), 0)).toThrow(PowerCut);
      const out = disk.settle();
      const d = disk.durable().get('/cutfs/dev') as Buffer;
      expect(d[0]).toBe(expectByte); // rand 0: lost; 0.5: written
      expect(d[SECTOR]).toBe(0x22);
      expect(out.sectorsLost + out.sectorsWritten + out.sectorsTorn).toBe(1);
    }
  });

  it('serves only paths under its prefix through node:fs/promises while installed', async () => {
    const disk = new CutDisk(() => 0);
    disk.addFile('/cutfs/f', Buffer.from('abc'));
    const undo = disk.install();
    try {
      const { readFile } = await import('node:fs/promises');
      expect(await readFile('/cutfs/f', 'utf8')).toBe('abc');
      await expect(readFile('/cutfs/missing')).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      undo();
    }
    const { readFile } = await import('node:fs/promises');
    await expect(readFile('/cutfs/f')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('boot-script: the port of boot.cmd', () => {
  const base = { boot_slot: 'A', upgrade_available: '0', bootcount: '0', bootlimit: '3', bootable_A: '1', bootable_B: '0' };

  it('takes the valid copy when the newer one is torn, and boots the slot it names', () => {
    const torn = env({ ...base, boot_slot: 'B', upgrade_available: '1', bootable_B: '1' }, 2);
    torn[100] = (torn[100] ?? 0) ^ 0xff;
    const d = decideBoot(torn, env(base, 1), () => true);
    expect(d).toMatchObject({ slot: 'A', copy: 2 });
    expect(d.write).toBeUndefined();
  });

  it('counts a trial boot into the other copy and falls back past bootlimit', () => {
    const trial = decideBoot(env({ ...base, boot_slot: 'B', upgrade_available: '1', bootable_B: '1' }, 5), env(base, 4), () => true);
    expect(trial).toMatchObject({ slot: 'B', copy: 1, vars: { bootcount: '1' } });
    expect(trial.write?.file).toBe('uboot-redund.env');
    const over = decideBoot(env({ ...base, boot_slot: 'B', upgrade_available: '1', bootcount: '3', bootable_B: '1' }, 5), null, () => true);
    expect(over).toMatchObject({ slot: 'A', vars: { fallback_from: 'B', upgrade_available: '0' } });
  });

  it('skips a slot marked not bootable; with no valid copy boots A', () => {
    expect(decideBoot(env({ ...base, boot_slot: 'B' }, 1), null, () => true).slot).toBe('A');
    expect(decideBoot(null, Buffer.alloc(BOOT_ENV_SIZE, 0x5a), () => true)).toMatchObject({ slot: 'A', copy: 0 });
    expect(decideBoot(null, null, (s) => s === 'B').slot).toBe('B');
  });
});

describe('power cut at every write/fsync boundary of two upgrades', () => {
  it('always boots a verified slot with readable state (every boundary, seed 1)', async () => {
    const s = await runStorageSoak({ seed: 1, trials: 0, every: true });
    expect(s.failures.map((f) => `${f.boundary} ${f.phase}: ${f.verdict} ${f.detail}`)).toEqual([]);
    expect(s.ok).toBe(s.boundaries);
    expect(s.boundaries).toBeGreaterThan(20);
    // the series covered cuts in slot writes, slot fsyncs, env writes and env fsyncs
    const phases = Object.keys(s.phases).join(' | ');
    for (const p of ['write slot', 'sync slot', 'write env', 'sync env']) expect(phases).toContain(p);
    // and both the old and the new image were booted, in both slots
    expect(Object.keys(s.booted).sort()).toEqual(['A:v1', 'A:v3', 'B:v2']);
  });

  it('a seeded random series of 40 cuts (seed 7): 0 unbootable, 0 unreadable', async () => {
    const s = await runStorageSoak({ seed: 7, trials: 40 });
    expect({ unbootable: s.unbootable, unreadable: s.unreadable, ok: s.ok }).toEqual({ unbootable: 0, unreadable: 0, ok: 40 });
  });
});
