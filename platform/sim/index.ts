/**
 * The `sim` platform from one directory:
 *
 *   DIR/platform.json   { capacity, maxTries }  (written at creation)
 *   DIR/slot-A.img      slot A (the factory image slot; empty at creation)
 *   DIR/slot-B.img      slot B
 *   DIR/bootenv.json    boot environment (see boot-env.ts)
 *   DIR/reboot.json     present between a sim reboot and the next start
 *
 * openSimPlatform() creates what is missing and never preallocates slot space.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '../../agent/util/zod.ts';
import { AgentError } from '../../agent/errors.ts';
import { silentLogger, type Logger } from '../../agent/log.ts';
import { writeFileAtomic } from '../../agent/util/atomic-file.ts';
import type { SlotName } from '../types.ts';
import { SimBootEnv, simulateBoot, DEFAULT_MAX_TRIES, type BootOutcome, type RecoverSlot } from './boot-env.ts';
import { SimRebooter } from './reboot.ts';
import { SimSlots, slotPath } from './slots.ts';

export { SimBootEnv, simulateBoot, SimRebooter, SimSlots, slotPath };
export type { BootOutcome, RecoverSlot };

export const DEFAULT_SLOT_CAPACITY = 256 * 1024 * 1024;
const PLATFORM_FILE = 'platform.json';
const platformSchema = z.object({ capacity: z.int().check(z.positive()), maxTries: z.int().check(z.gte(1)) });

export interface SimPlatform {
  dir: string;
  capacity: number;
  slots: SimSlots;
  bootEnv: SimBootEnv;
  rebooter: SimRebooter;
  /** The bootloader step: call once at agent start (`recover`: see BootEnv in platform/types.ts). */
  boot(recover?: RecoverSlot): Promise<BootOutcome>;
}

export interface SimPlatformOptions {
  /** slot capacity in bytes; stored at creation, overrides the stored value when given */
  capacity?: number;
  /** trial boots before the bootloader falls back; default 3 */
  maxTries?: number;
  log?: Logger;
  /** process exit used by the rebooter (tests) */
  exit?: (code: number) => void;
  now?: () => number;
}

async function readPlatformFile(dir: string): Promise<z.infer<typeof platformSchema> | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, PLATFORM_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const r = platformSchema.safeParse(parsed);
  if (!r.success) throw new AgentError('SLOT_PLATFORM_INVALID', `${join(dir, PLATFORM_FILE)} is not a sim platform description`, { dir });
  return r.data;
}

export async function openSimPlatform(dir: string, opts: SimPlatformOptions = {}): Promise<SimPlatform> {
  if (opts.capacity !== undefined && !(Number.isSafeInteger(opts.capacity) && opts.capacity > 0)) {
    throw new AgentError('SLOT_PLATFORM_INVALID', `invalid slot capacity ${opts.capacity}`);
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new AgentError('SLOT_PLATFORM_INVALID', `cannot create sim directory ${dir}: ${e instanceof Error ? e.message : String(e)}`, { dir });
  }
  const stored = await readPlatformFile(dir);
  const capacity = opts.capacity ?? stored?.capacity ?? DEFAULT_SLOT_CAPACITY;
  const maxTries = opts.maxTries ?? stored?.maxTries ?? DEFAULT_MAX_TRIES;
  if (!stored || stored.capacity !== capacity || stored.maxTries !== maxTries) {
    await writeFileAtomic(join(dir, PLATFORM_FILE), JSON.stringify({ capacity, maxTries }) + '\n', { code: 'SLOT_PLATFORM_WRITE' });
  }
  for (const s of ['A', 'B'] as const satisfies readonly SlotName[]) {
    // 'a': create when missing, never truncate an existing image.
    const fh = await open(slotPath(dir, s), 'a');
    await fh.close();
  }
  const log = opts.log ?? silentLogger();
  const bootEnv = new SimBootEnv(dir, { maxTries, log, ...(opts.now ? { now: opts.now } : {}) });
  await bootEnv.ensure(); // creates bootenv.json (A running) when missing; a damaged one is recovered by boot()
  const slots = new SimSlots(dir, { capacity, running: async () => (await bootEnv.read()).current });
  const rebooter = new SimRebooter(dir, { log, exit: opts.exit, now: opts.now });
  return {
    dir,
    capacity,
    slots,
    bootEnv,
    rebooter,
    async boot(recover) {
      const o = await simulateBoot(dir, { maxTries, log, ...(opts.now ? { now: opts.now } : {}), ...(recover ? { recover } : {}) });
      await bootEnv.readFull(); // what the run-time recovery rebuilds from
      return o;
    },
  };
}
