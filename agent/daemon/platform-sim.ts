/**
 * The sim backend of AgentPlatform (platform/sim/*): slot files in a directory, a JSON boot
 * environment, a rebooter that ends the process. The factory image (config
 * platform.sim.factoryImage) is copied into slot A on the very first start, like the
 * factory flashing step of a real board.
 */
import { createReadStream } from 'node:fs';
import { copyFile, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log.ts';
import { AgentError, isAgentError } from '../errors.ts';
import { inProcessDigester, type StreamDigester } from '../transfer/digest-child.ts';
import { openSimPlatform, slotPath } from '../../platform/sim/index.ts';
import { readSlotNote, writeSlotNote } from '../../platform/slot-notes.ts';
import { versionFromFileName } from '../upgrade/version.ts';
import { MAX_TRAILER, trailerInfo } from '../image/format.ts';
import type { SlotName } from '../../platform/types.ts';
import type { AgentPlatform, SlotContent } from './platform.ts';

export interface SimPlatformConfig {
  dir: string;
  /** omitted: the capacity stored in the sim directory (or the sim default) */
  slotCapacity?: number;
  factoryImage?: string;
  factoryVersion?: string;
  versionPattern: string;
}

async function fileDigests(path: string, digest: StreamDigester): Promise<SlotContent | null> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (size === 0) return null;
  const d = await digest(() => createReadStream(path));
  const fh = await open(path, 'r');
  let signed: ReturnType<typeof trailerInfo> = null;
  try {
    const n = Math.min(d.bytes, MAX_TRAILER);
    const tail = new Uint8Array(n);
    await fh.read(tail, 0, n, d.bytes - n);
    signed = trailerInfo(tail, d.bytes);
  } finally {
    await fh.close();
  }
  return { size: d.bytes, md5: d.md5, sha256: d.sha256, ...(signed ? { signed } : {}) };
}

/**
 * `exit`: what the sim reboot does to the process (default: process.exit; tests record it).
 * `digest`: how slot bytes are hashed (the daemon: in a child process, digest-child.ts).
 */
export async function openSimAgentPlatform(cfg: SimPlatformConfig, log: Logger, exit?: (code: number) => void, digest: StreamDigester = inProcessDigester): Promise<AgentPlatform> {
  const sim = await openSimPlatform(cfg.dir, { ...(cfg.slotCapacity !== undefined ? { capacity: cfg.slotCapacity } : {}), log, ...(exit ? { exit } : {}) });
  return {
    ref: { backend: 'sim', dir: cfg.dir },
    slots: sim.slots,
    bootEnv: sim.bootEnv,
    rebooter: sim.rebooter,
    async boot(recover) {
      const o = await sim.boot(recover);
      return {
        slot: o.slot,
        trial: o.trial,
        ...(o.fellBackFrom ? { fellBackFrom: o.fellBackFrom } : {}),
        ...(o.rebootReason ? { rebootReason: o.rebootReason } : {}),
        ...(o.envRecovered ? { envRecovered: o.envRecovered } : {}),
      };
    },
    inspectSlot: (slot: SlotName) => fileDigests(slotPath(cfg.dir, slot), digest),
    async digestSlot(slot: SlotName, size: number) {
      if (size <= 0) return null;
      try {
        const d = await digest(() => sim.slots.read(slot, size));
        return { size: d.bytes, md5: d.md5, sha256: d.sha256 };
      } catch (e) {
        if (isAgentError(e, 'SLOT_SHORT_READ')) return null;
        if (isAgentError(e, 'SLOT_IO') && e.details.cause === 'ENOENT') return null;
        throw e;
      }
    },
    noteImage: (slot, note) => writeSlotNote(cfg.dir, slot, note),
    imageNote: (slot) => readSlotNote(cfg.dir, slot),
    async factoryImage() {
      if (!cfg.factoryImage) return null;
      const content = await fileDigests(cfg.factoryImage, digest).catch(() => null);
      if (!content) return null;
      const file = basename(cfg.factoryImage);
      return { ...content, file, version: cfg.factoryVersion ?? versionFromFileName(file, cfg.versionPattern)?.text ?? null };
    },
    async installFactory(slot: SlotName) {
      if (!cfg.factoryImage) return null;
      const src = cfg.factoryImage;
      const srcInfo = await stat(src).catch((e: unknown) => {
        throw new AgentError('CONFIG_INVALID', `platform.sim.factoryImage: cannot read ${src}: ${e instanceof Error ? e.message : String(e)}`, { path: 'platform.sim.factoryImage' });
      });
      if (srcInfo.size === 0) throw new AgentError('CONFIG_INVALID', `platform.sim.factoryImage: ${src} is empty`, { path: 'platform.sim.factoryImage' });
      if (srcInfo.size > sim.capacity) {
        throw new AgentError('SLOT_TOO_SMALL', `factory image ${src} is ${srcInfo.size} bytes, slot ${slot} holds ${sim.capacity}`, { slot, bytes: srcInfo.size, capacity: sim.capacity });
      }
      const dst = slotPath(cfg.dir, slot);
      const tmp = join(dirname(dst), `.${basename(dst)}.factory-${process.pid}`);
      try {
        await copyFile(src, tmp);
        const fh = await open(tmp, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, dst);
        const d = await open(dirname(dst), 'r');
        try {
          await d.sync();
        } finally {
          await d.close();
        }
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        throw new AgentError('SLOT_IO', `cannot install the factory image into slot ${slot}: ${e instanceof Error ? e.message : String(e)}`, { slot });
      }
      const content = await fileDigests(dst, digest);
      if (!content) throw new AgentError('SLOT_IO', `slot ${slot} is empty after the factory install`, { slot });
      const version = cfg.factoryVersion ?? content.signed?.version ?? versionFromFileName(basename(src), cfg.versionPattern)?.text ?? null;
      await writeSlotNote(cfg.dir, slot, { md5: content.md5, version, file: basename(src) });
      log.info({ event: 'factory.install', slot, file: basename(src), md5: content.md5, version }, `factory image ${basename(src)} installed in slot ${slot}`);
      return { ...content, file: basename(src), version };
    },
  };
}
