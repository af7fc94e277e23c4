/**
 * The board platform as the daemon gets it from the config (platform.backend = board) on
 * temp files standing in for /dev/vda2, /dev/vda3, the two env copies and /proc/cmdline,
 * driven by the real stage(): the order of the env changes around a slot write.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../agent/config/schema.ts';
import { loadConfig } from '../../agent/config/load.ts';
import { silentLogger } from '../../agent/log.ts';
import { openAgentPlatform } from '../../agent/daemon/platform.ts';
import { stage } from '../../agent/upgrade/stage.ts';
import type { Fetcher, TransferRequest } from '../../agent/transfer/types.ts';
import { UBootEnvStore } from '../../platform/uboot/env-store.ts';
import { buildTrailer } from '../../agent/image/sign.ts';
import { generateKeyPair, parsePrivateKey } from '../../agent/image/keys.ts';

const root = mkdtempSync(join(tmpdir(), 'cpe-board-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const request: TransferRequest = { protocol: 'tftp', server: '198.18.48.1', file: 'fw-2.img' };
const CAP = 2 * 1024 * 1024;
let n = 0;

function fetcherOf(image: Uint8Array): Fetcher {
  return async (_req, sink, o = {}) => {
    o.onSize?.(image.length);
    for (let off = 0; off < image.length; off += 1468) await sink.write(image.subarray(off, off + 1468));
    return { bytes: image.length, total: image.length, elapsedMs: 1 };
  };
}

async function board() {
  const d = join(root, `b${n++}`);
  mkdirSync(d);
  const dev = { A: join(d, 'vda2'), B: join(d, 'vda3') };
  const factory = randomBytes(100_000);
  writeFileSync(dev.A, factory);
  truncateSync(dev.A, CAP);
  writeFileSync(dev.B, '');
  truncateSync(dev.B, CAP);
  const cmdline = join(d, 'cmdline');
  writeFileSync(cmdline, 'console=ttyAMA0 quiet boot_slot=A\n');
  const copies = [{ path: join(d, 'uboot.env'), offset: 0 }, { path: join(d, 'uboot-redund.env'), offset: 0 }];
  const store = new UBootEnvStore({ copies });
  // the factory environment (scripts/qemu/disk.sh writes the same)
  await store.write({ boot_slot: 'A', upgrade_available: '0', bootcount: '0', bootlimit: '3', bootable_A: '1', bootable_B: '0', image_size_A: String(factory.length) }, null);
  const config = configSchema.parse({ platform: { backend: 'board', board: { slots: dev, env: { copies }, cmdline, reboot: { method: 'command', command: ['true'] } } } });
  const platform = await openAgentPlatform(config, silentLogger());
  return { d, dev, cmdline, store, platform, factory };
}

describe('board platform (config platform.backend = board)', () => {
  it('the default config still opens the sim platform', async () => {
    const p = await openAgentPlatform(configSchema.parse({ stateDir: join(root, 'sim-state') }), silentLogger());
    expect(p.ref.backend).toBe('sim');
  });

  it('boot facts and the factory slot come from the command line and the env', async () => {
    const b = await board();
    expect(b.platform.ref).toEqual({ backend: 'board' });
    expect(await b.platform.boot()).toEqual({ slot: 'A', trial: false });
    expect(await b.platform.inspectSlot('A')).toMatchObject({ size: b.factory.length, md5: md5(b.factory) });
    expect(await b.platform.inspectSlot('B')).toBeNull();
    expect(await b.platform.installFactory('A')).toBeNull();
  });

  it('stage(): B not bootable from before the first byte until after the read-back, then on trial; commit after the reboot', async () => {
    const b = await board();
    const image = randomBytes(1_500_000);
    let duringReadBack: Record<string, string> | undefined;
    const r = await stage(
      { fetcher: fetcherOf(image), request, md5: md5(image), slots: b.platform.slots, bootEnv: b.platform.bootEnv },
      { beforeReadBack: async () => void (duringReadBack = (await b.store.read())?.vars) },
    );
    expect(r).toMatchObject({ slot: 'B', bytes: image.length, md5: md5(image) });
    expect(duringReadBack).toMatchObject({ boot_slot: 'A', upgrade_available: '0', bootable_B: '0', image_size_B: String(image.length) });
    expect((await b.store.read())?.vars).toMatchObject({ boot_slot: 'B', upgrade_available: '1', bootcount: '0', bootable_B: '1' });
    expect(await b.platform.inspectSlot('B')).toMatchObject({ size: image.length, md5: md5(image) });
    // reboot: U-Boot's boot.cmd counts the trial boot and boots B
    const cur = await b.store.read();
    await b.store.write({ ...(cur?.vars ?? {}), bootcount: '1' }, cur);
    writeFileSync(b.cmdline, 'console=ttyAMA0 boot_slot=B\n');
    expect(await b.platform.boot()).toEqual({ slot: 'B', trial: true });
    await b.platform.bootEnv.markGood();
    expect((await b.store.read())?.vars).toMatchObject({ boot_slot: 'B', upgrade_available: '0', bootcount: '0' });
    // the old running slot A is now the inactive one: writable, the running B is not
    await expect(b.platform.slots.openWriter('B')).rejects.toMatchObject({ code: 'SLOT_RUNNING' });
  });

  it('a wrong MD5 over an older good image in B: B is made not bootable before the write and stays so', async () => {
    const b = await board();
    // B holds an older verified image (the fallback of an earlier upgrade): bootable
    const cur = await b.store.read();
    await b.store.write({ ...(cur?.vars ?? {}), bootable_B: '1', image_size_B: '1000' }, cur);
    const image = randomBytes(300_000);
    await expect(stage({ fetcher: fetcherOf(image), request, md5: 'f'.repeat(32), slots: b.platform.slots, bootEnv: b.platform.bootEnv })).rejects.toMatchObject({
      code: 'UPGRADE_MD5_MISMATCH',
    });
    expect((await b.store.read())?.vars).toMatchObject({ boot_slot: 'A', upgrade_available: '0', bootable_B: '0' });
    expect((await b.store.read())?.vars.image_size_B).toBeUndefined();
    await expect(b.platform.bootEnv.setNext('B')).rejects.toMatchObject({ code: 'SLOT_NOT_VERIFIED' });
  });

  it('reports the fallback boot.cmd recorded, and the env lost (both copies bad) boots on without a trial', async () => {
    const b = await board();
    const cur = await b.store.read();
    await b.store.write({ ...(cur?.vars ?? {}), fallback_from: 'B' }, cur);
    expect(await b.platform.boot()).toEqual({ slot: 'A', trial: false, fellBackFrom: 'B' });
    writeFileSync(join(b.d, 'uboot.env'), Buffer.alloc(0x4000, 0xff));
    writeFileSync(join(b.d, 'uboot-redund.env'), Buffer.alloc(10));
    expect(await b.platform.boot()).toEqual({ slot: 'A', trial: false });
    expect(await b.platform.bootEnv.read()).toEqual({ next: 'A', current: 'A', trial: false });
    // no recorded length: the whole partition is described (the agent starts, version unknown)
    expect(await b.platform.inspectSlot('A')).toMatchObject({ size: CAP });
  });

  it('a slot holding a signed firmware file (factory disk, first boot): inspectSlot reads its version from the trailer', async () => {
    const b = await board();
    const payload = randomBytes(3 * 1024 * 1024 + 123); // several read chunks: the tail spans a chunk boundary
    const key = parsePrivateKey(generateKeyPair().privatePem);
    const { trailer } = buildTrailer({ payloadLength: payload.length, payloadSha256: createHash('sha256').update(payload).digest('hex'), version: '1.4.2', models: ['FS-0900E'], signedAt: 1_700_000_000, signers: [{ role: 'manufacturer', key }] });
    const image = Buffer.concat([payload, trailer]);
    writeFileSync(b.dev.A, image);
    truncateSync(b.dev.A, 8 * 1024 * 1024);
    const cur = await b.store.read();
    await b.store.write({ ...(cur?.vars ?? {}), image_size_A: String(image.length) }, cur);
    expect(await b.platform.inspectSlot('A')).toEqual({ size: image.length, md5: md5(image), sha256: createHash('sha256').update(image).digest('hex'), signed: { version: '1.4.2', signedAt: 1_700_000_000 } });
    // an unsigned image: no version from it
    const cur2 = await b.store.read();
    await b.store.write({ ...(cur2?.vars ?? {}), image_size_A: String(payload.length) }, cur2);
    expect((await b.platform.inspectSlot('A'))?.signed).toBeUndefined();
  });
});

describe('the QEMU modem board config (platform/boards/qemu-arm64/cpe-agent.json)', () => {
  it('is valid and names the disk of scripts/qemu/disk.sh', () => {
    const c = loadConfig({ file: new URL('../../platform/boards/qemu-arm64/cpe-agent.json', import.meta.url).pathname });
    expect(c.platform.backend).toBe('board');
    expect(c.platform.board.slots).toEqual({ A: '/dev/vda2', B: '/dev/vda3' });
    expect(c.platform.board.env.copies.map((x) => x.path)).toEqual(['/boot/uboot.env', '/boot/uboot-redund.env']);
    expect(c.stateDir).toBe('/var/lib/cpe-agent'); // the data partition p4 (rootfs/etc/init.d/board)
    expect(c.snmp).toBeUndefined(); // no lab communities in the shipped config
  });
});
