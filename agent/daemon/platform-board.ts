/**
 * The board backend of AgentPlatform: A/B partitions (platform/block/slots.ts), the boot
 * state in the redundant U-Boot environment (platform/uboot/*), the running slot from the
 * kernel command line, reboot through sysrq or a command (platform/reboot/board.ts).
 * A board is flashed at the factory: there is no factory-image step.
 */
import type { Logger } from '../log.ts';
import { inProcessDigester, type StreamDigester } from '../transfer/digest-child.ts';
import { BlockSlots } from '../../platform/block/slots.ts';
import { UBootEnvStore } from '../../platform/uboot/env-store.ts';
import { UBootBootEnv } from '../../platform/uboot/boot-env.ts';
import { BoardRebooter } from '../../platform/reboot/board.ts';
import type { SlotName } from '../../platform/types.ts';
import { isAgentError } from '../errors.ts';
import { readSlotNote, writeSlotNote } from '../../platform/slot-notes.ts';
import { MAX_TRAILER, trailerInfo } from '../image/format.ts';
import type { AgentPlatform, SlotContent } from './platform.ts';

export interface BoardPlatformConfig {
  slots: Record<SlotName, string>;
  env: { copies: { path: string; offset: number }[]; size: number };
  bootlimit: number;
  cmdline: string;
  reboot: { method: 'sysrq' | 'command'; command: string[] };
  /** tests: where sysrq is written */
  sysrqTrigger?: string;
}

/**
 * Digests of a slot's bytes plus what its signature trailer says (version, signing time), read
 * from the last MAX_TRAILER bytes as they stream by: a board's slot holds the whole firmware
 * file, trailer included, so the running version is known even with no state (first boot).
 */
async function describe(open: () => AsyncIterable<Uint8Array>, digest: StreamDigester): Promise<SlotContent> {
  let tail = new Uint8Array(0);
  async function* pass(): AsyncGenerator<Uint8Array> {
    tail = new Uint8Array(0); // each read (a digest retried in-process reads again) starts afresh
    for await (const c of open()) {
      if (c.length >= MAX_TRAILER) tail = c.slice(c.length - MAX_TRAILER);
      else {
        const t = new Uint8Array(Math.min(MAX_TRAILER, tail.length + c.length));
        const keep = t.length - c.length;
        t.set(tail.subarray(tail.length - keep), 0);
        t.set(c, keep);
        tail = t;
      }
      yield c;
    }
  }
  const d = await digest(pass);
  const signed = trailerInfo(tail, d.bytes);
  return { size: d.bytes, md5: d.md5, sha256: d.sha256, ...(signed ? { signed } : {}) };
}

/**
 * `notesDir`: where the slots' version notes live (the state dir; bound to each slot's MD5, so a
 * stale note is never believed). A board's env is not used for them: boot.scr rewrites only the
 * variables it knows.
 */
/** `digest`: how slot bytes are hashed (the daemon: in a child process, digest-child.ts). */
export function openBoardAgentPlatform(cfg: BoardPlatformConfig, log: Logger, notesDir: string, digest: StreamDigester = inProcessDigester): AgentPlatform {
  const store = new UBootEnvStore({ copies: cfg.env.copies, size: cfg.env.size });
  const bootEnv = new UBootBootEnv(store, { cmdline: cfg.cmdline, bootlimit: cfg.bootlimit });
  const slots = new BlockSlots({
    devices: cfg.slots,
    running: () => bootEnv.running(),
    guard: {
      beforeWrite: (slot) => bootEnv.markUnbootable(slot),
      afterCommit: (slot, bytes) => bootEnv.recordImageSize(slot, bytes),
    },
  });
  const rebooter = new BoardRebooter({
    method: cfg.reboot.method,
    command: cfg.reboot.command,
    log,
    ...(cfg.sysrqTrigger ? { sysrqTrigger: cfg.sysrqTrigger } : {}),
  });
  return {
    ref: { backend: 'board' },
    slots,
    bootEnv,
    rebooter,
    async boot() {
      const f = await bootEnv.bootFacts();
      if (f.envLost) log.warn({ event: 'uboot.env-lost' }, 'no valid copy of the U-Boot environment: defaults apply (boot the running slot, no trial)');
      return { slot: f.slot, trial: f.trial, ...(f.fellBackFrom ? { fellBackFrom: f.fellBackFrom } : {}) };
    },
    async inspectSlot(slot: SlotName): Promise<SlotContent | null> {
      // The image length is recorded at commit (a factory disk records it for slot A). A slot
      // marked not bootable holds no image; with no length known (environment lost) the whole
      // partition is digested: the agent then runs on an image of unknown version, it does
      // not refuse to start.
      const info = await bootEnv.slotInfo(slot);
      if (info.unbootable) return null;
      const size = info.size ?? (await slots.capacity(slot));
      if (size === 0) return null;
      return describe(() => slots.read(slot, size), digest);
    },
    async digestSlot(slot: SlotName, size: number): Promise<SlotContent | null> {
      if (size <= 0 || size > (await slots.capacity(slot))) return null;
      try {
        return await describe(() => slots.read(slot, size), digest);
      } catch (e) {
        if (isAgentError(e, 'SLOT_SHORT_READ')) return null;
        throw e;
      }
    },
    noteImage: (slot, note) => writeSlotNote(notesDir, slot, note),
    imageNote: (slot) => readSlotNote(notesDir, slot),
    factoryImage: async () => null,
    installFactory: async () => null,
  };
}
