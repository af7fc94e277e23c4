/**
 * Storage-level power-cut soak (issue 10 §4.5): the agent's real staging and boot-state code
 * (agent/upgrade/stage.ts, platform/block/slots.ts, platform/uboot/*) runs two upgrades on a
 * modelled disk (scripts/qemu/cut-fs.ts) and the power is cut at a random write/fsync boundary:
 *
 *   factory: A = v1 (bootable, image_size_A), B = junk (bootable_B=0), env in two copies
 *   boot (boot.cmd) → running A: stage v2 into B (mark B not bootable, write, commit+fsync,
 *   read back, setNext B) → clean reboot (sync) → boot.cmd (trial, bootcount) → running B:
 *   bootFacts, markGood → stage v3 into A … → reboot → boot.cmd → running A: markGood
 *
 * After the cut every dirty sector is lost, written or torn (cut-fs.ts), then the disk is
 * checked the way the modem would meet it:
 *   unreadable  no valid copy of the U-Boot environment, or the agent cannot tell what it runs
 *               (bootFacts throws, or the running slot is marked not bootable / has no
 *               recorded image_size / its first image_size bytes are no good image)
 *   unbootable  boot.cmd (scripts/qemu/boot-script.ts, a port) boots no slot, or boots a slot
 *               whose content is no good image (v1, v2, v3: size + MD5). Worst case: U-Boot is
 *               assumed to load any slot not marked bootable_X=0 (a torn ext4 may still load).
 *
 *   node scripts/qemu/powercut-storage.ts [--trials N] [--seed S] [--every]
 *     --every: one trial per boundary (0 … last), instead of N random ones
 * Prints one line per failure and the counts; exit 1 when any trial failed.
 */
import { createHash } from 'node:crypto';
import { mulberry32 } from '../../agent/util/prng.ts';
import { stage } from '../../agent/upgrade/stage.ts';
import type { Fetcher } from '../../agent/transfer/types.ts';
import { BlockSlots } from '../../platform/block/slots.ts';
import { UBootEnvStore } from '../../platform/uboot/env-store.ts';
import { UBootBootEnv } from '../../platform/uboot/boot-env.ts';
import { encodeEnv } from '../../platform/uboot/env-format.ts';
import type { SlotName } from '../../platform/types.ts';
import { CutDisk, type CutOutcome } from './cut-fs.ts';
import { decideBoot, BOOT_ENV_FILES, BOOT_ENV_SIZE } from './boot-script.ts';

const ROOT = '/cutfs/';
const DEV: Record<SlotName, string> = { A: `${ROOT}vda2`, B: `${ROOT}vda3` };
const ENV = [`${ROOT}boot/${BOOT_ENV_FILES[0]}`, `${ROOT}boot/${BOOT_ENV_FILES[1]}`] as const;
const CMDLINE = `${ROOT}proc/cmdline`;

export interface Image {
  name: string;
  data: Buffer;
  md5: string;
}

export interface SoakOptions {
  seed: number;
  /** slot size (default 3 MiB) */
  slotBytes?: number;
  /** image sizes are drawn in [slotBytes/2, slotBytes) */
  images?: Image[];
}

export type Verdict = 'ok' | 'unbootable' | 'unreadable';

export interface TrialResult {
  boundary: number;
  /** where the cut fell: step and what the operation touched */
  phase: string;
  verdict: Verdict;
  booted: SlotName | null;
  image: string | null;
  detail: string;
  cut: CutOutcome | null;
}

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

export function makeImages(seed: number, slotBytes: number): Image[] {
  const rand = mulberry32(seed ^ 0x5eed);
  return ['v1', 'v2', 'v3'].map((name) => {
    const size = Math.floor(slotBytes / 2 + rand() * (slotBytes / 2 - 4096));
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = Math.floor(rand() * 256);
    return { name, data, md5: md5(data) };
  });
}

/** The good image the slot begins with (size + MD5), or null. */
function whichImage(slot: Uint8Array, images: Image[], size?: number): Image | null {
  for (const im of images) {
    if (size !== undefined && size !== im.data.length) continue;
    if (im.data.length <= slot.length && md5(slot.subarray(0, im.data.length)) === im.md5) return im;
  }
  return null;
}

/** A fetcher serving `data` in network-sized chunks (like TFTP/FTP: the sink may push back). */
function bufferFetcher(data: Buffer, chunk = 64 * 1024): Fetcher {
  return async (_req, sink, opts) => {
    opts?.onSize?.(data.length);
    for (let off = 0; off < data.length; off += chunk) {
      const p = sink.write(data.subarray(off, Math.min(off + chunk, data.length)));
      if (p) await p;
    }
    return { bytes: data.length, total: data.length, elapsedMs: 0 };
  };
}

function factoryDisk(rand: () => number, images: Image[], slotBytes: number): CutDisk {
  const disk = new CutDisk(rand, ROOT);
  const [v1] = images as [Image, ...Image[]];
  const a = Buffer.alloc(slotBytes);
  v1.data.copy(a);
  const b = Buffer.alloc(slotBytes, 0xa5); // whatever the factory left there
  disk.addFile(DEV.A, a);
  disk.addFile(DEV.B, b);
  const vars = { boot_slot: 'A', upgrade_available: '0', bootcount: '0', bootlimit: '3', bootable_A: '1', bootable_B: '0', image_size_A: String(v1.data.length) };
  disk.addFile(ENV[0], encodeEnv(vars, { size: BOOT_ENV_SIZE, redundant: true, flags: 1 }));
  disk.addFile(ENV[1], encodeEnv(vars, { size: BOOT_ENV_SIZE, redundant: true, flags: 0 }));
  disk.addFile(CMDLINE, Buffer.from('console=ttyAMA0 quiet\n'));
  return disk;
}

/** boot.cmd on the disk as it is now (its env write goes through the disk: a boundary too). */
function bootScript(disk: CutDisk): ReturnType<typeof decideBoot> {
  const d = decideBoot(disk.file(ENV[0]).cache, disk.file(ENV[1]).cache, () => true);
  if (d.write) {
    const path = d.write.file === BOOT_ENV_FILES[0] ? ENV[0] : ENV[1];
    disk.write(path, d.write.block, 0);
    disk.sync(path); // fatwrite is synchronous
  }
  disk.addFile(CMDLINE, Buffer.from(`console=ttyAMA0 quiet${d.slot ? ` boot_slot=${d.slot}` : ''}\n`));
  return d;
}

function agent(): { bootEnv: UBootBootEnv; slots: BlockSlots } {
  const store = new UBootEnvStore({ copies: [{ path: ENV[0] }, { path: ENV[1] }], size: BOOT_ENV_SIZE });
  const bootEnv = new UBootBootEnv(store, { cmdline: CMDLINE, bootlimit: 3 });
  const slots = new BlockSlots({
    devices: DEV,
    running: () => bootEnv.running(),
    guard: { beforeWrite: (s) => bootEnv.markUnbootable(s), afterCommit: (s, n) => bootEnv.recordImageSize(s, n) },
  });
  return { bootEnv, slots };
}

/** The life of the modem: two upgrades, each committed. `step` names where it is. */
async function lifecycle(disk: CutDisk, images: Image[], step: { name: string }): Promise<void> {
  step.name = 'boot';
  bootScript(disk);
  for (const im of images.slice(1)) {
    const { bootEnv, slots } = agent();
    step.name = `stage ${im.name}`;
    await bootEnv.bootFacts();
    await stage({ fetcher: bufferFetcher(im.data), request: { protocol: 'tftp', server: '198.18.96.1', file: `${im.name}.img` }, md5: im.md5, slots, bootEnv });
    step.name = `reboot to ${im.name}`;
    disk.syncAll();
    const d = bootScript(disk);
    if (!d.slot) throw new Error(`no slot boots after staging ${im.name}`);
    step.name = `commit ${im.name}`;
    const next = agent();
    const f = await next.bootEnv.bootFacts();
    if (f.trial) await next.bootEnv.markGood();
  }
  step.name = 'done';
}

function opTarget(path: string | undefined): string {
  if (!path) return 'none';
  if (path === DEV.A || path === DEV.B) return 'slot';
  if (path.includes('uboot')) return 'env';
  return 'other';
}

/** What a modem finds after the cut: boot.cmd's choice, then the agent's view of it. */
async function inspect(durable: Map<string, Buffer>, rand: () => number, images: Image[]): Promise<Pick<TrialResult, 'verdict' | 'booted' | 'image' | 'detail'>> {
  const disk = new CutDisk(rand, ROOT);
  for (const [p, b] of durable) disk.addFile(p, b);
  const undo = disk.install();
  try {
    const envBefore = await new UBootEnvStore({ copies: [{ path: ENV[0] }, { path: ENV[1] }], size: BOOT_ENV_SIZE }).read();
    const d = bootScript(disk);
    if (!d.slot) return { verdict: 'unbootable', booted: null, image: null, detail: d.log.join('; ') };
    const im = whichImage(disk.file(DEV[d.slot]).cache, images);
    if (!im) return { verdict: 'unbootable', booted: d.slot, image: null, detail: `slot ${d.slot} holds no good image; ${d.log.join('; ')}` };
    if (!envBefore) return { verdict: 'unreadable', booted: d.slot, image: im.name, detail: 'no valid U-Boot environment copy' };
    const { bootEnv } = agent();
    let facts: string;
    try {
      const f = await bootEnv.bootFacts();
      facts = `running ${f.slot}${f.trial ? ' on trial' : ''}${f.fellBackFrom ? ` fell back from ${f.fellBackFrom}` : ''}`;
    } catch (e) {
      return { verdict: 'unreadable', booted: d.slot, image: im.name, detail: `bootFacts: ${e instanceof Error ? e.message : String(e)}` };
    }
    const info = await bootEnv.slotInfo(d.slot);
    const recorded = info.size === undefined || info.unbootable ? null : whichImage(disk.file(DEV[d.slot]).cache, images, info.size);
    if (!recorded) {
      return { verdict: 'unreadable', booted: d.slot, image: im.name, detail: `slot ${d.slot}: env says unbootable=${info.unbootable} image_size=${info.size ?? 'none'}: not a good image` };
    }
    return { verdict: 'ok', booted: d.slot, image: im.name, detail: facts };
  } finally {
    undo();
  }
}

/** Operation boundaries of an uncut run (the cut is drawn in 0 … n-1). */
export async function countBoundaries(o: SoakOptions): Promise<number> {
  const slotBytes = o.slotBytes ?? 3 * 1024 * 1024;
  const images = o.images ?? makeImages(o.seed, slotBytes);
  const disk = factoryDisk(mulberry32(o.seed), images, slotBytes);
  const undo = disk.install();
  try {
    await lifecycle(disk, images, { name: '' });
  } finally {
    undo();
  }
  return disk.boundaries;
}

/** One trial: power cut at `boundary` (null: no cut, the whole lifecycle runs). */
export async function runTrial(o: SoakOptions, boundary: number | null, trialSeed: number): Promise<TrialResult> {
  const slotBytes = o.slotBytes ?? 3 * 1024 * 1024;
  const images = o.images ?? makeImages(o.seed, slotBytes);
  const rand = mulberry32(trialSeed);
  const disk = factoryDisk(rand, images, slotBytes);
  disk.armCut(boundary);
  const step = { name: '' };
  const undo = disk.install();
  try {
    await lifecycle(disk, images, step);
  } catch (e) {
    if (!disk.isCut) throw e; // a real failure of the code under test, not the cut
  } finally {
    undo();
  }
  const pending = disk.isCut ? disk.pendingOp() : undefined;
  const cut = disk.isCut ? disk.settle() : null;
  const phase = disk.isCut ? `${step.name}: ${pending?.kind ?? '?'} ${opTarget(pending?.path)}` : 'no cut';
  const r = await inspect(disk.durable(), rand, images);
  return { boundary: boundary ?? -1, phase, cut, ...r };
}

export interface SoakSummary {
  trials: number;
  boundaries: number;
  ok: number;
  unbootable: number;
  unreadable: number;
  booted: Record<string, number>;
  phases: Record<string, number>;
  failures: TrialResult[];
  elapsedMs: number;
}

export async function runStorageSoak(o: SoakOptions & { trials: number; every?: boolean; onTrial?: (r: TrialResult, i: number) => void }): Promise<SoakSummary> {
  const t0 = performance.now();
  const slotBytes = o.slotBytes ?? 3 * 1024 * 1024;
  const opts: SoakOptions = { ...o, slotBytes, images: o.images ?? makeImages(o.seed, slotBytes) };
  const n = await countBoundaries(opts);
  const rand = mulberry32(o.seed);
  const s: SoakSummary = { trials: 0, boundaries: n, ok: 0, unbootable: 0, unreadable: 0, booted: {}, phases: {}, failures: [], elapsedMs: 0 };
  const total = o.every ? n : o.trials;
  for (let i = 0; i < total; i++) {
    const k = o.every ? i : Math.floor(rand() * n);
    const r = await runTrial(opts, k, Math.floor(rand() * 0x100000000));
    s.trials++;
    s[r.verdict]++;
    const key = `${r.booted ?? '-'}:${r.image ?? '-'}`;
    s.booted[key] = (s.booted[key] ?? 0) + 1;
    const ph = r.phase.replace(/ v\d/g, '');
    s.phases[ph] = (s.phases[ph] ?? 0) + 1;
    if (r.verdict !== 'ok') s.failures.push(r);
    o.onTrial?.(r, i);
  }
  s.elapsedMs = performance.now() - t0;
  return s;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, def: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : def;
  };
  const trials = Number(arg('--trials', '1000'));
  const seed = Number(arg('--seed', '1'));
  const every = process.argv.includes('--every');
  const s = await runStorageSoak({
    trials,
    seed,
    every,
    onTrial: (r, i) => {
      if (r.verdict !== 'ok') process.stdout.write(`trial ${i}: boundary ${r.boundary} (${r.phase}): ${r.verdict}: ${r.detail}\n`);
      else if ((i + 1) % 100 === 0) process.stdout.write(`… ${i + 1} trials\n`);
    },
  });
  process.stdout.write(
    `storage power cuts: seed ${seed}, ${s.trials} trials over ${s.boundaries} write/fsync boundaries: ` +
      `${s.ok} verified boots, ${s.unbootable} unbootable, ${s.unreadable} unreadable state (${(s.elapsedMs / 1000).toFixed(1)} s)\n` +
      `  booted slot:image  ${Object.entries(s.booted).sort().map(([k, v]) => `${k}=${v}`).join(' ')}\n` +
      `  cut during         ${Object.entries(s.phases).sort().map(([k, v]) => `${k}=${v}`).join(', ')}\n`,
  );
  process.exit(s.ok === s.trials ? 0 : 1);
}
