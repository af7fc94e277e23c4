/**
 * The platform as the daemon uses it: the board interfaces (platform/types.ts) plus the
 * few board-specific steps the daemon needs at start (boot, inspect a slot, first-start
 * factory image). One backend per file: platform-sim.ts, platform-board.ts (U-Boot board).
 */
import type { AgentConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { BootEnv, Rebooter, SlotName, Slots } from '../../platform/types.ts';
import type { PlatformRef } from '../state/schema.ts';
import type { BootFacts } from './boot.ts';
import type { StreamDigester } from '../transfer/digest-child.ts';

export interface SlotContent {
  size: number;
  md5: string;
  sha256: string;
  /** version and signing time from the image's signature trailer (agent/image), when it has one */
  signed?: { version: string; signedAt: number };
}

export interface AgentPlatform {
  /** persisted so `reboot` can act without a daemon */
  ref: PlatformRef;
  slots: Slots;
  bootEnv: BootEnv;
  rebooter: Rebooter;
  /**
   * The bootloader step, once per start. `recover` names the slot to boot when the boot
   * environment is damaged (the slot holding a verified image, committed first).
   */
  boot(recover?: (reason: string) => Promise<SlotName>): Promise<BootFacts>;
  /** Size and digests of the image in a slot; null when the slot is empty. */
  inspectSlot(slot: SlotName): Promise<SlotContent | null>;
  /**
   * Digests of the first `size` bytes of a slot (the image as recorded), read back through
   * the slot backend; null when the slot holds fewer bytes.
   */
  digestSlot(slot: SlotName, size: number): Promise<SlotContent | null>;
  /**
   * Records which image a slot holds (version file of the slot, bound to its MD5): written
   * after a factory install or a staging, read only to rebuild a lost state.
   */
  noteImage(slot: SlotName, note: { md5: string; version: string | null; file: string | null }): Promise<void>;
  /** The slot's version file, or null (missing, unreadable). The caller checks the MD5. */
  imageNote(slot: SlotName): Promise<{ md5: string; version: string | null; file: string | null } | null>;
  /** The configured factory image (digests, name, version), or null when none is configured or readable. */
  factoryImage(): Promise<(SlotContent & { file: string; version: string | null }) | null>;
  /**
   * First start only (running slot empty): writes the factory image into the running slot.
   * Returns null when the platform has no factory image configured.
   */
  installFactory(slot: SlotName): Promise<(SlotContent & { file: string; version: string | null }) | null>;
}

/**
 * The backend the config names (platform.backend); only that backend's modules are loaded.
 * `exit`: the sim reboot's process exit (tests). `digest`: how slot bytes are hashed (default
 * in-process; the daemon's `run` hashes in a child process, agent/transfer/digest-child.ts).
 */
export async function openAgentPlatform(config: AgentConfig, log: Logger, exit?: (code: number) => void, digest?: StreamDigester): Promise<AgentPlatform> {
  const p = config.platform;
  if (p.backend === 'board') return (await import('./platform-board.ts')).openBoardAgentPlatform(p.board, log, config.stateDir, digest);
  return (await import('./platform-sim.ts')).openSimAgentPlatform(
    {
      dir: p.sim.dir ?? `${config.stateDir}/sim`,
      slotCapacity: p.sim.slotCapacity,
      ...(p.sim.factoryImage ? { factoryImage: p.sim.factoryImage } : {}),
      ...(p.sim.factoryVersion ? { factoryVersion: p.sim.factoryVersion } : {}),
      versionPattern: config.policy.versionPattern,
    },
    log,
    exit,
    digest,
  );
}
