/**
 * The platform as the daemon uses it: the board interfaces (platform/types.ts) plus the
 * few board-specific steps the daemon needs at start (boot, inspect a slot, first-start
 * factory image). One backend per file: platform-sim.ts (later block device / MTD).
 */
import type { BootEnv, Rebooter, SlotName, Slots } from '../../platform/types.ts';
import type { PlatformRef } from '../state/schema.ts';
import type { BootFacts } from './boot.ts';

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
  /** The bootloader step, once per start. */
  boot(): Promise<BootFacts>;
  /** Size and digests of the image in a slot; null when the slot is empty. */
  inspectSlot(slot: SlotName): Promise<SlotContent | null>;
  /**
   * First start only (running slot empty): writes the factory image into the running slot.
   * Returns null when the platform has no factory image configured.
   */
  installFactory(slot: SlotName): Promise<(SlotContent & { file: string; version: string | null }) | null>;
}
