/**
 * Boot environment on a real U-Boot (BootEnv of platform/types.ts), kept in the U-Boot
 * environment (env-store.ts; redundant: two copies). Variables, shared with
 * scripts/qemu/boot.cmd (the bootloader side):
 *
 *   boot_slot=A|B          slot U-Boot boots
 *   upgrade_available=0|1  1: boot_slot is on trial; boot.cmd counts the boots
 *   bootcount=N            trial boots so far (boot.cmd increments it)
 *   bootlimit=N            trial boots before boot.cmd falls back to the other slot
 *   bootable_A|B=0|1       0: the slot is being written or failed: never boot it
 *   image_size_A|B=N       bytes of the image in the slot (for read-back digests)
 *   fallback_from=A|B      set by boot.cmd when it fell back; cleared by bootFacts()
 *
 * The running slot comes from the kernel command line (`boot_slot=`, set by boot.cmd),
 * never from the environment. When no copy of the environment is valid the defaults apply:
 * boot the running slot (it booted, so it is a verified slot), no trial.
 */
import { readFile } from 'node:fs/promises';
import { AgentError } from '../../agent/errors.ts';
import { otherSlot, type BootEnv, type BootState, type SlotName } from '../types.ts';
import type { UBootEnvStore } from './env-store.ts';

export const DEFAULT_BOOTLIMIT = 3;

export interface UBootBootFacts {
  slot: SlotName;
  trial: boolean;
  fellBackFrom?: SlotName;
  /** true when no copy of the environment was valid (the defaults were used) */
  envLost: boolean;
}

function asSlot(v: string | undefined): SlotName | undefined {
  return v === 'A' || v === 'B' ? v : undefined;
}

/** `boot_slot=` of a kernel command line; undefined when absent or not A/B. */
export function slotFromCmdline(cmdline: string): SlotName | undefined {
  let found: SlotName | undefined;
  for (const word of cmdline.trim().split(/\s+/)) {
    if (word.startsWith('boot_slot=')) found = asSlot(word.slice('boot_slot='.length));
  }
  return found;
}

export class UBootBootEnv implements BootEnv {
  readonly store: UBootEnvStore;
  private readonly cmdlinePath: string;
  private readonly bootlimit: number;

  constructor(store: UBootEnvStore, opts: { cmdline?: string; bootlimit?: number } = {}) {
    this.store = store;
    this.cmdlinePath = opts.cmdline ?? '/proc/cmdline';
    this.bootlimit = opts.bootlimit ?? DEFAULT_BOOTLIMIT;
  }

  /** The slot that booted, from the kernel command line. */
  async running(): Promise<SlotName> {
    let text: string;
    try {
      text = await readFile(this.cmdlinePath, 'utf8');
    } catch (e) {
      throw new AgentError('UBOOT_NO_RUNNING_SLOT', `cannot read ${this.cmdlinePath}: ${e instanceof Error ? e.message : String(e)}`, { path: this.cmdlinePath });
    }
    const s = slotFromCmdline(text);
    if (!s) throw new AgentError('UBOOT_NO_RUNNING_SLOT', `${this.cmdlinePath} names no boot_slot=A|B (is the bootloader script installed?)`, { path: this.cmdlinePath });
    return s;
  }

  private defaults(current: SlotName): Record<string, string> {
    return { boot_slot: current, upgrade_available: '0', bootcount: '0', bootlimit: String(this.bootlimit), [`bootable_${current}`]: '1' };
  }

  /** Read-modify-write with the defaults of `current`; `bootlimit` is always present. */
  private async update(current: SlotName, change: (v: Record<string, string>) => boolean): Promise<void> {
    await this.store.update(this.defaults(current), (v) => {
      const before = JSON.stringify(v);
      if (!change(v)) return null;
      v.bootlimit ??= String(this.bootlimit);
      return JSON.stringify(v) === before ? null : v;
    });
  }

  async read(): Promise<BootState> {
    const current = await this.running();
    const env = await this.store.read();
    const v = env?.vars ?? this.defaults(current);
    const next = asSlot(v.boot_slot) ?? current;
    return { next, current, trial: v.upgrade_available === '1' };
  }

  async setNext(slot: SlotName): Promise<void> {
    const current = await this.running();
    await this.update(current, (v) => {
      if (slot === current) {
        v.boot_slot = current;
        v.upgrade_available = '0';
        v.bootcount = '0';
      } else {
        if (v[`bootable_${slot}`] === '0' && v[`image_size_${slot}`] === undefined) {
          throw new AgentError('SLOT_NOT_VERIFIED', `slot ${slot} holds no committed image: it cannot become the boot slot`, { slot });
        }
        v.boot_slot = slot;
        v.upgrade_available = '1';
        v.bootcount = '0';
        v[`bootable_${slot}`] = '1';
      }
      return true;
    });
  }

  async markGood(): Promise<void> {
    const current = await this.running();
    await this.update(current, (v) => {
      if (v.boot_slot !== current || v.upgrade_available !== '1') return false;
      v.upgrade_available = '0';
      v.bootcount = '0';
      return true;
    });
  }

  /**
   * Before a slot is written: never boot it (bootable_X=0, its size forgotten) and cancel a
   * pending switch to it. Refuses the running slot.
   */
  async markUnbootable(slot: SlotName): Promise<void> {
    const current = await this.running();
    if (slot === current) throw new AgentError('SLOT_RUNNING', `refusing to invalidate slot ${slot}: it is the running slot`, { slot });
    await this.update(current, (v) => {
      v[`bootable_${slot}`] = '0';
      delete v[`image_size_${slot}`];
      if (v.boot_slot === slot) {
        v.boot_slot = current;
        v.upgrade_available = '0';
        v.bootcount = '0';
      }
      return true;
    });
  }

  /** After a slot's writer committed: the image length (still not bootable: setNext does that). */
  async recordImageSize(slot: SlotName, bytes: number): Promise<void> {
    const current = await this.running();
    await this.update(current, (v) => {
      v[`image_size_${slot}`] = String(bytes);
      return true;
    });
  }

  /** Image length recorded for a slot; undefined when unknown. */
  async imageSize(slot: SlotName): Promise<number | undefined> {
    return (await this.slotInfo(slot)).size;
  }

  /** What the environment says about a slot: marked not bootable, recorded image length. */
  async slotInfo(slot: SlotName): Promise<{ unbootable: boolean; size?: number }> {
    const env = await this.store.read();
    const raw = env?.vars[`image_size_${slot}`];
    const unbootable = env?.vars[`bootable_${slot}`] === '0';
    return raw !== undefined && /^\d+$/.test(raw) ? { unbootable, size: Number(raw) } : { unbootable };
  }

  /**
   * The bootloader's report, once per agent start: running slot, on trial or not, and the
   * slot boot.cmd fell back from (the marker is consumed).
   */
  async bootFacts(): Promise<UBootBootFacts> {
    const current = await this.running();
    const env = await this.store.read();
    const v = env?.vars ?? {};
    const fell = asSlot(v.fallback_from);
    const fellBackFrom = fell && fell === otherSlot(current) ? fell : undefined;
    if (v.fallback_from !== undefined) {
      await this.update(current, (w) => {
        delete w.fallback_from;
        return true;
      });
    }
    return {
      slot: current,
      trial: v.boot_slot === current && v.upgrade_available === '1',
      ...(fellBackFrom ? { fellBackFrom } : {}),
      envLost: env === null,
    };
  }
}
