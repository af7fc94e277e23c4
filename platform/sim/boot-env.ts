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
 *
 * A damaged file (not JSON, truncated, empty, zero bytes, wrong values) never stops a boot
 * (platform/types.ts, BootEnv): simulateBoot() keeps it aside as `bootenv.json.damaged-<time>`,
 * boots the slot the `recover` callback names (the agent picks the slot holding a verified
 * image, the committed one first), writes a fresh environment and reports `envRecovered`.
 * At run time SimBootEnv rewrites the last environment it read or wrote the same way.
 */
import { readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '../../agent/util/zod.ts';
import { AgentError } from '../../agent/errors.ts';
import { silentLogger, type Logger } from '../../agent/log.ts';
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
  tries: z.int().check(z.gte(0)),
  maxTries: z.int().check(z.gte(1)),
  lastBoot: z.optional(z.object({ slot: slotName, at: z.string(), fellBackFrom: z.optional(slotName), reason: z.optional(z.string()) })),
});
export type SimBootEnvState = z.infer<typeof fileSchema>;

const rebootSchema = z.object({ reason: z.string(), at: z.string() });
export type RebootRecord = z.infer<typeof rebootSchema>;

export function initialBootEnv(maxTries = DEFAULT_MAX_TRIES): SimBootEnvState {
  return { next: 'A', current: 'A', trial: false, tries: 0, maxTries };
}

/** Values the schema accepts but no bootloader would have written. */
function inconsistency(s: SimBootEnvState): string | undefined {
  if (!s.trial && s.next !== s.current) return `next=${s.next} differs from current=${s.current} without a trial`;
  if (s.tries > s.maxTries) return `tries=${s.tries} exceeds maxTries=${s.maxTries}`;
  return undefined;
}

export type BootEnvFileRead = { kind: 'ok'; state: SimBootEnvState } | { kind: 'missing' } | { kind: 'damaged'; reason: string };

/** Reads bootenv.json without throwing for bad content (I/O errors of the directory still throw). */
export async function inspectBootEnvFile(dir: string): Promise<BootEnvFileRead> {
  const path = join(dir, BOOTENV_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return { kind: 'missing' };
    throw new AgentError('SLOT_BOOTENV_READ', `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { path });
  }
  if (text.trim() === '') return { kind: 'damaged', reason: text.length === 0 ? 'zero bytes' : 'empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'damaged', reason: 'not valid JSON (truncated or garbage)' };
  }
  const r = fileSchema.safeParse(parsed);
  if (!r.success) {
    const i = r.error.issues[0];
    return { kind: 'damaged', reason: `not a boot environment: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid'}` };
  }
  const bad = inconsistency(r.data);
  if (bad) return { kind: 'damaged', reason: `inconsistent values: ${bad}` };
  return { kind: 'ok', state: r.data };
}

/** Moves a damaged bootenv.json aside (kept for inspection); returns its new path or null. */
async function keepAside(dir: string, now: number): Promise<string | null> {
  const to = join(dir, `${BOOTENV_FILE}.damaged-${new Date(now).toISOString().replace(/[:.]/g, '-')}`);
  try {
    await rename(join(dir, BOOTENV_FILE), to);
    return to;
  } catch {
    return null;
  }
}

/** Strict read (tests, tools): a damaged file is a SLOT_BOOTENV_INVALID error. */
export async function readBootEnvFile(dir: string): Promise<SimBootEnvState | undefined> {
  const r = await inspectBootEnvFile(dir);
  if (r.kind === 'missing') return undefined;
  if (r.kind === 'damaged') throw new AgentError('SLOT_BOOTENV_INVALID', `${join(dir, BOOTENV_FILE)} is damaged: ${r.reason}`, { path: join(dir, BOOTENV_FILE) });
  return r.state;
}

export async function writeBootEnvFile(dir: string, s: SimBootEnvState): Promise<void> {
  await writeFileAtomic(join(dir, BOOTENV_FILE), JSON.stringify(s, null, 2) + '\n', { code: 'SLOT_BOOTENV_WRITE', noSpaceCode: 'SLOT_NO_SPACE' });
}

export class SimBootEnv implements BootEnv {
  readonly dir: string;
  private readonly maxTries: number;
  private readonly log: Logger;
  private readonly now: () => number;
  /** the environment last read or written intact: what a damaged file is rebuilt from */
  private lastGood: SimBootEnvState | undefined;

  constructor(dir: string, opts: { maxTries?: number; log?: Logger; now?: () => number } = {}) {
    this.dir = dir;
    this.maxTries = opts.maxTries ?? DEFAULT_MAX_TRIES;
    this.log = opts.log ?? silentLogger();
    this.now = opts.now ?? Date.now;
  }

  /** Creates bootenv.json (slot A) when missing; a damaged file is left for boot to recover. */
  async ensure(): Promise<void> {
    const r = await inspectBootEnvFile(this.dir);
    if (r.kind === 'missing') await this.write(initialBootEnv(this.maxTries));
  }

  /**
   * The whole file (tries, maxTries, lastBoot); created with slot A when missing. A file
   * damaged after this process read it is rebuilt from what it last read (kept aside,
   * logged); damaged with nothing known is SLOT_BOOTENV_INVALID (simulateBoot recovers it).
   */
  async readFull(): Promise<SimBootEnvState> {
    const r = await inspectBootEnvFile(this.dir);
    if (r.kind === 'ok') {
      this.lastGood = r.state;
      return r.state;
    }
    if (r.kind === 'missing' && !this.lastGood) {
      const init = initialBootEnv(this.maxTries);
      await this.write(init);
      return init;
    }
    const known = this.lastGood;
    if (!known) {
      throw new AgentError('SLOT_BOOTENV_INVALID', `${join(this.dir, BOOTENV_FILE)} is damaged: ${r.kind === 'damaged' ? r.reason : 'missing'}`, { path: join(this.dir, BOOTENV_FILE) });
    }
    const reason = r.kind === 'damaged' ? r.reason : 'file missing';
    const keptAs = r.kind === 'damaged' ? await keepAside(this.dir, this.now()) : null;
    this.log.error(
      { event: 'bootenv.recovered', reason, keptAs, next: known.next, current: known.current, trial: known.trial },
      `boot environment damaged (${reason}): rewritten from the last known one (next ${known.next}, current ${known.current})${keptAs ? `; damaged copy kept as ${keptAs}` : ''}`,
    );
    await this.write(known);
    return known;
  }

  private async write(s: SimBootEnvState): Promise<void> {
    await writeBootEnvFile(this.dir, s);
    this.lastGood = s;
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
    await this.write(n);
  }

  async markGood(): Promise<void> {
    const s = await this.readFull();
    if (s.next !== s.current || !s.trial) return; // nothing on trial, or a switch is pending
    await this.write({ ...s, trial: false, tries: 0 });
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
  /** set when the bootloader gave up on this slot (maxTries trial boots, or it is empty) */
  fellBackFrom?: SlotName;
  /** the reason recorded by the sim rebooter; undefined for a power cycle / first start */
  rebootReason?: string;
  /** the environment was damaged and rebuilt before this boot */
  envRecovered?: EnvRecovery;
}

export interface EnvRecovery {
  /** what was wrong with it */
  reason: string;
  /** where the damaged copy was kept (null: could not be moved) */
  keptAs: string | null;
}

/**
 * Names the slot to boot when the environment is damaged (BootEnv contract): the slot
 * holding a verified image, the committed one first. Without it the sim boots the first
 * non-empty slot (A first).
 */
export type RecoverSlot = (reason: string) => Promise<SlotName>;

export interface SimulateBootOptions {
  maxTries?: number;
  now?: () => number;
  recover?: RecoverSlot;
  log?: Logger;
}

async function slotSize(dir: string, slot: SlotName): Promise<number> {
  try {
    return (await stat(join(dir, `slot-${slot}.img`))).size;
  } catch {
    return 0;
  }
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
 * falls back after too many (or when the slot to boot is empty and the other is not), and
 * consumes the reboot record. A damaged environment is kept aside and rebuilt around the
 * slot `recover` names. Call once per agent start.
 */
export async function simulateBoot(dir: string, opts: SimulateBootOptions = {}): Promise<BootOutcome> {
  const now = opts.now ?? Date.now;
  const maxTries = opts.maxTries ?? DEFAULT_MAX_TRIES;
  const read = await inspectBootEnvFile(dir);
  let s: SimBootEnvState;
  let envRecovered: EnvRecovery | undefined;
  if (read.kind === 'ok') s = read.state;
  else if (read.kind === 'missing') s = initialBootEnv(maxTries);
  else {
    // Like a bootloader whose environment fails its CRC: never refuse to boot.
    const keptAs = await keepAside(dir, now());
    const slot = opts.recover ? await opts.recover(read.reason) : (await slotSize(dir, 'A')) > 0 || (await slotSize(dir, 'B')) === 0 ? 'A' : 'B';
    s = { ...initialBootEnv(maxTries), next: slot, current: slot };
    envRecovered = { reason: read.reason, keptAs };
    (opts.log ?? silentLogger()).error(
      { event: 'bootenv.damaged', reason: read.reason, keptAs, slot },
      `boot environment damaged (${read.reason}): rebuilt, booting slot ${slot}${keptAs ? `; damaged copy kept as ${keptAs}` : ''}`,
    );
  }
  const reboot = await takeRebootRecord(dir);
  const at = new Date(now()).toISOString();
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
  if ((await slotSize(dir, n.current)) === 0 && (await slotSize(dir, otherSlot(n.current))) > 0) {
    // Nothing to boot there: the bootloader falls back to the other slot.
    fellBackFrom = n.current;
    const good = otherSlot(n.current);
    n = { ...n, next: good, current: good, trial: false, tries: 0 };
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
    ...(envRecovered ? { envRecovered } : {}),
  };
}
