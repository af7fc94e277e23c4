/**
 * Sim boot environment: `bootenv.json` in the sim directory plays the part of the U-Boot
 * environment (bootcount/bootlimit) or RAUC's bootchooser state, and `simulateBoot()` plays
 * the bootloader: every start of the agent on the sim platform is a boot.
 *
 *   { next, current, trial, tries, maxTries, lastBoot? }
 *
 * - setNext(other slot) → next=other, trial=true, tries=0 (the next boot is a trial boot).
 * - setNext(current) while a switch is pending → the switch is cancelled (next=current, trial=false).
 * - simulateBoot(): trial → tries++, current=next; once `tries` reached `maxTries` without
 *   markGood the bootloader falls back: next=current=the other slot, trial=false.
 * - markGood() (the running slot proved healthy) → trial=false, tries=0.
 * Every change is written atomically (temp, fsync, rename, fsync dir).
 */
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentError } from '../../agent/errors.ts';
import { writeFileAtomic, fsyncDir } from '../../agent/util/atomic-file.ts';
import { otherSlot, type BootEnv, type BootState, type SlotName } from '../types.ts';

export const BOOTENV_FILE = 'bootenv.json';
export const REBOOT_FILE = 'reboot.json';
export const DEFAULT_MAX_TRIES = 3;

const slotName = z.enum(['A', 'B']);
const fileSchema = z.object({
  next: slotName,
  current: slotName,
  trial: z.boolean(),
  tries: z.number().int().min(0),
  maxTries: z.number().int().min(1),
  lastBoot: z
    .object({ slot: slotName, at: z.string(), fellBackFrom: slotName.optional(), reason: z.string().optional() })
    .optional(),
});
export type SimBootEnvState = z.infer<typeof fileSchema>;

const rebootSchema = z.object({ reason: z.string(), at: z.string() });
export type RebootRecord = z.infer<typeof rebootSchema>;

export function initialBootEnv(maxTries = DEFAULT_MAX_TRIES): SimBootEnvState {
  return { next: 'A', current: 'A', trial: false, tries: 0, maxTries };
}

export async function readBootEnvFile(dir: string): Promise<SimBootEnvState | undefined> {
  const path = join(dir, BOOTENV_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new AgentError('SLOT_BOOTENV_READ', `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { path });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AgentError('SLOT_BOOTENV_INVALID', `${path} is not valid JSON`, { path });
  }
  const r = fileSchema.safeParse(parsed);
  if (!r.success) throw new AgentError('SLOT_BOOTENV_INVALID', `${path} is not a boot environment: ${r.error.issues[0]?.message ?? 'invalid'}`, { path });
  return r.data;
}

export async function writeBootEnvFile(dir: string, s: SimBootEnvState): Promise<void> {
  await writeFileAtomic(join(dir, BOOTENV_FILE), JSON.stringify(s, null, 2) + '\n', { code: 'SLOT_BOOTENV_WRITE', noSpaceCode: 'SLOT_NO_SPACE' });
}

export class SimBootEnv implements BootEnv {
  readonly dir: string;
  private readonly maxTries: number;

  constructor(dir: string, opts: { maxTries?: number } = {}) {
    this.dir = dir;
    this.maxTries = opts.maxTries ?? DEFAULT_MAX_TRIES;
  }

  /** The whole file (tries, maxTries, lastBoot); created with slot A when missing. */
  async readFull(): Promise<SimBootEnvState> {
    const s = await readBootEnvFile(this.dir);
    if (s) return s;
    const init = initialBootEnv(this.maxTries);
    await writeBootEnvFile(this.dir, init);
    return init;
  }

  async read(): Promise<BootState> {
    const s = await this.readFull();
    return { next: s.next, current: s.current, trial: s.trial };
  }

  async setNext(slot: SlotName): Promise<void> {
    const s = await this.readFull();
    let n: SimBootEnvState;
    if (slot === s.current) {
      if (s.next === s.current) return;
      n = { ...s, next: slot, trial: false, tries: 0 };
    } else {
      if (s.next === slot && s.trial && s.tries === 0) return;
      n = { ...s, next: slot, trial: true, tries: 0 };
    }
    await writeBootEnvFile(this.dir, n);
  }

  async markGood(): Promise<void> {
    const s = await this.readFull();
    if (s.next !== s.current || !s.trial) return; // nothing on trial, or a switch is pending
    await writeBootEnvFile(this.dir, { ...s, trial: false, tries: 0 });
  }
}

export interface BootOutcome {
  /** slot that boots now (the running image) */
  slot: SlotName;
  previous: SlotName;
  /** booted on trial (not yet marked good) */
  trial: boolean;
  /** trial boots so far, this one included */
  tries: number;
  /** set when the bootloader gave up on this slot after maxTries trial boots */
  fellBackFrom?: SlotName;
  /** the reason recorded by the sim rebooter; undefined for a power cycle / first start */
  rebootReason?: string;
}

async function takeRebootRecord(dir: string): Promise<RebootRecord | undefined> {
  const path = join(dir, REBOOT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  await unlink(path).catch(() => undefined);
  await fsyncDir(dir).catch(() => undefined);
  try {
    const r = rebootSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The sim bootloader: picks the slot to boot from the boot environment, counts trial boots,
 * falls back after too many, and consumes the reboot record. Call once per agent start.
 */
export async function simulateBoot(dir: string, opts: { maxTries?: number; now?: () => number } = {}): Promise<BootOutcome> {
  const env = new SimBootEnv(dir, opts);
  const s = await env.readFull();
  const reboot = await takeRebootRecord(dir);
  const at = new Date((opts.now ?? Date.now)()).toISOString();
  let n: SimBootEnvState;
  let fellBackFrom: SlotName | undefined;
  if (s.trial && s.tries >= s.maxTries) {
    fellBackFrom = s.next;
    const good = otherSlot(s.next);
    n = { ...s, next: good, current: good, trial: false, tries: 0 };
  } else if (s.trial) {
    n = { ...s, current: s.next, tries: s.tries + 1 };
  } else {
    n = { ...s, current: s.next };
  }
  n.lastBoot = { slot: n.current, at, ...(fellBackFrom ? { fellBackFrom } : {}), ...(reboot ? { reason: reboot.reason } : {}) };
  await writeBootEnvFile(dir, n);
  return {
    slot: n.current,
    previous: s.current,
    trial: n.trial,
    tries: n.tries,
    ...(fellBackFrom ? { fellBackFrom } : {}),
    ...(reboot ? { rebootReason: reboot.reason } : {}),
  };
}
