/**
 * Real power cuts of the QEMU modem (issue 10 §4.5): an upgrade A (v1) → B (v2) runs in the
 * guest, QEMU is SIGKILLed (its process group: no flush, no shutdown) at a random moment of a
 * phase, the same disk boots again, and then:
 *   unbootable  U-Boot + boot.cmd bring up no slot (no "ready" line within the bound), or the
 *               slot that came up holds no good image (the partition's first image_size bytes
 *               are not v1's or v2's slot image)
 *   unreadable  no valid copy of the U-Boot environment on the FAT partition (read with the
 *               agent's own UBootEnvStore), or the booted slot has no recorded image_size
 *   ok          otherwise (the booted slot and its version are reported)
 *
 * Scenario "mini" (scripts/qemu/powercut-rootfs.sh, busybox only): the guest does the agent's
 * storage steps with busybox: tftp download of the slot image to RAM, env block "B not
 * bootable", dd to /dev/vda3 + fsync, read-back md5sum, env "image_size_B" and "boot B on
 * trial", reboot; in B: boot.cmd counts the trial, the guest commits (env "B good"). The env
 * blocks are precomputed with the agent's codec and dd'ed (conv=fsync) over the env files.
 * Phases: download, env (either env step of boot 1), write, commit (in B, after the trial boot).
 *
 *   node scripts/qemu/powercut-qemu.ts [--trials N] [--seed S] [--phases download,write,env,commit]
 * Needs root (a lab namespace with tftpd-hpa). Every QEMU is killed before it returns.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mulberry32 } from '../../agent/util/prng.ts';
import { encodeEnv } from '../../platform/uboot/env-format.ts';
import { UBootEnvStore } from '../../platform/uboot/env-store.ts';
import type { SlotName } from '../../platform/types.ts';
import { killAllQemu, startQemu, type QemuConsole } from './console.ts';
import { startQemuLab, randomMac, type QemuLab } from './lab.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const Q = join(ROOT, 'scripts/qemu');
const KERNEL = join(ROOT, '.lab/qemu/kernel');
const MiB = 1024 * 1024;
/** disk.sh's layout: FAT at 1 MiB (32 MiB), then slots of SLOT_MB (128) */
const SLOT_OFFSET: Record<SlotName, number> = { A: 33 * MiB, B: (33 + 128) * MiB };
const ENV_SIZE = 0x4000;
const GUEST_IP = '198.18.96.50';

export type Phase = 'download' | 'env' | 'write' | 'commit';
export const PHASES: readonly Phase[] = ['download', 'env', 'write', 'commit'];

export interface SlotImage {
  version: string;
  path: string;
  size: number;
  md5: string;
}

export interface Prepared {
  dir: string;
  /** the factory disk: v1 in A, B empty, the cut scripts and env blocks on the FAT */
  disk: string;
  images: SlotImage[];
}

export interface QemuTrialResult {
  phase: string;
  /** the last phase marker the guest printed before the kill */
  cutIn: string;
  delayMs: number;
  verdict: 'ok' | 'unbootable' | 'unreadable';
  /** the guest's markers and the kill, seconds since QEMU started */
  timeline: string[];
  booted: SlotName | null;
  version: string | null;
  detail: string;
  seconds: number;
}

const md5file = (p: string): string => createHash('md5').update(readFileSync(p)).digest('hex');

export function slotImage(version: string, path: string): SlotImage {
  return { version, path, size: statSync(path).size, md5: md5file(path) };
}

/** Slot images v1/v2 of the mini scenario and the factory disk (cached under dir). */
export async function prepareMini(dir: string): Promise<Prepared> {
  mkdirSync(dir, { recursive: true });
  await run(join(Q, 'kernel.sh'), [KERNEL], { timeout: 300_000 });
  const images: SlotImage[] = [];
  for (const v of ['1', '2']) {
    const initrd = join(dir, `cut-v${v}.cpio.gz`);
    await run(join(Q, 'powercut-rootfs.sh'), [initrd, v], { timeout: 120_000 });
    const slot = join(dir, `cut-slot-v${v}.ext4`);
    await run(join(Q, 'slot-image.sh'), [slot, KERNEL, initrd, v], { timeout: 120_000 });
    images.push(slotImage(v, slot));
  }
  const [v1, v2] = images as [SlotImage, SlotImage];
  const disk = join(dir, 'cut-factory.img');
  await run(join(Q, 'disk.sh'), [disk, v1.path], { timeout: 120_000 });
  // the env blocks the guest writes, in the order the agent writes them (flags count on from
  // the factory's copy 1 = flags 1; boot.cmd writes flags 5 into copy 1 on the trial boot)
  const base = { boot_slot: 'A', upgrade_available: '0', bootcount: '0', bootlimit: '3', bootable_A: '1', bootable_B: '0', image_size_A: String(v1.size) };
  const sized = { ...base, image_size_B: String(v2.size) };
  const trial = { ...sized, boot_slot: 'B', upgrade_available: '1', bootable_B: '1' };
  const good = { ...trial, upgrade_available: '0' };
  const cut = join(dir, 'cut');
  mkdirSync(cut, { recursive: true });
  const block = (name: string, vars: Record<string, string>, flags: number): void => {
    writeFileSync(join(cut, name), encodeEnv(vars, { size: ENV_SIZE, redundant: true, flags }));
  };
  block('e1.bin', base, 2); // → uboot-redund.env: B not bootable (before the write)
  block('e2.bin', sized, 3); // → uboot.env: image_size_B (after the commit)
  block('e3.bin', trial, 4); // → uboot-redund.env: boot B on trial (after the read-back)
  block('e5.bin', good, 6); // → uboot-redund.env: B marked good (after boot.cmd's flags 5)
  const dd = (blk: string, target: string): string => `dd if=/boot/cut/${blk} of=/boot/${target} bs=16384 count=1 conv=notrunc,fsync 2>/dev/null`;
  writeFileSync(
    join(cut, 'upgrade.sh'),
    [
      '#!/bin/sh',
      'set -e',
      `ip link set eth0 up; ip addr add ${GUEST_IP}/24 dev eth0`,
      'echo "CUT: phase download"',
      `tftp -g -b 8192 -r ${v2.version}.img -l /tmp/img 198.18.96.1`,
      'echo "CUT: phase env"',
      dd('e1.bin', 'uboot-redund.env'),
      'echo "CUT: phase write"',
      'dd if=/tmp/img of=/dev/vda3 bs=1M conv=fsync 2>/dev/null',
      'echo "CUT: phase verify"',
      `got=$(head -c ${v2.size} /dev/vda3 | md5sum | cut -d' ' -f1)`,
      `[ "$got" = ${v2.md5} ] || { echo "CUT: read-back mismatch $got"; exit 1; }`,
      'echo "CUT: phase env"',
      dd('e2.bin', 'uboot.env'),
      dd('e3.bin', 'uboot-redund.env'),
      'echo "CUT: phase reboot"',
      'sync; umount /boot 2>/dev/null || true; reboot -f',
      '',
    ].join('\n'),
  );
  writeFileSync(join(cut, 'commit.sh'), ['#!/bin/sh', 'echo "CUT: phase commit"', dd('e5.bin', 'uboot-redund.env'), 'echo "CUT: committed"', ''].join('\n'));
  await run('mmd', ['-i', `${disk}@@1M`, '::cut']);
  await run('mcopy', ['-o', '-i', `${disk}@@1M`, ...['e1.bin', 'e2.bin', 'e3.bin', 'e5.bin', 'upgrade.sh', 'commit.sh'].map((f) => join(cut, f)), '::cut/']);
  return { dir, disk, images };
}

export function readRange(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, b, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The disk after the cut and the re-boot: the environment and the booted slot's content. */
export async function checkDisk(p: Prepared, img: string, booted: SlotName, version: string): Promise<Pick<QemuTrialResult, 'verdict' | 'detail'>> {
  const out = mkdtempSync(join(p.dir, 'env-'));
  try {
    await run('mcopy', ['-n', '-i', `${img}@@1M`, '::uboot.env', '::uboot-redund.env', out]);
    const env = await new UBootEnvStore({ copies: [{ path: join(out, 'uboot.env') }, { path: join(out, 'uboot-redund.env') }], size: ENV_SIZE }).read();
    const content = (size: number): string => createHash('md5').update(readRange(img, SLOT_OFFSET[booted], size)).digest('hex');
    const im = p.images.find((i) => i.version === version);
    if (!im || content(im.size) !== im.md5) return { verdict: 'unbootable', detail: `slot ${booted} runs version ${version} but holds no good image` };
    if (!env) return { verdict: 'unreadable', detail: 'no valid U-Boot environment copy' };
    const raw = env.vars[`image_size_${booted}`];
    if (raw === undefined || Number(raw) !== im.size || env.vars[`bootable_${booted}`] === '0') {
      return { verdict: 'unreadable', detail: `slot ${booted}: env image_size=${raw ?? 'none'} bootable=${env.vars[`bootable_${booted}`] ?? '-'}` };
    }
    const v = env.vars;
    return { verdict: 'ok', detail: `env copy ${env.copy + 1} flags ${env.flags}: boot_slot=${v.boot_slot} upgrade_available=${v.upgrade_available} bootcount=${v.bootcount}` };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * About how long a phase lasts under TCG: the cut falls in [0, this) ms after its marker. Measured
 * with the gzip-compressed kernel of main's slot-image.sh (v2 slot image ~17 MB): download 1.4 s,
 * env block 0.1 s, dd + fsync 0.2 s, commit 0.1 s (the 40-MB images before it: 3.8 / 0.2 / 0.5 / 0.1 s).
 */
const SPAN_MS: Record<Phase, number> = { download: 1400, env: 150, write: 250, commit: 150 };

async function killAt(q: QemuConsole, ms: number): Promise<string> {
  await new Promise((r) => setTimeout(r, ms));
  const markers = [...q.output().matchAll(/CUT: (phase \w+|committed|power off|read-back mismatch)/g)];
  await q.kill();
  return markers.at(-1)?.[1] ?? 'none';
}

export async function runQemuTrial(p: Prepared, lab: QemuLab, phase: Phase, rand: () => number, n: number): Promise<QemuTrialResult> {
  const t0 = performance.now();
  const img = join(p.dir, 'trial.img');
  await run('cp', ['--sparse=always', p.disk, img]);
  const netArgs = lab.qemuNetArgs(randomMac());
  const log = (k: string): string => join(p.dir, `trial-${n}-${k}.console`);
  const q = startQemu({ disk: img, log: log('cut'), timeoutMs: 240_000, netns: lab.ns, netArgs });
  // when each marker arrived (ms since QEMU started): where in the phase the cut fell
  const timeline: string[] = [];
  let pendingText = '';
  q.stream.on('data', (d: Buffer) => {
    pendingText += d.toString('utf8');
    let nl: number;
    while ((nl = pendingText.indexOf('\n')) >= 0) {
      const line = pendingText.slice(0, nl);
      pendingText = pendingText.slice(nl + 1);
      const m = /CUT: (phase \w+|ready slot=\w|committed)/.exec(line);
      if (m) timeline.push(`${m[1]}@${(q.elapsed() / 1000).toFixed(1)}`);
    }
  });
  let cutIn = 'none';
  let delayMs = 0;
  try {
    await q.waitFor(/CUT: ready slot=A version=1/, 90_000);
    q.send('upgrade');
    if (phase === 'commit') {
      await q.waitFor(/CUT: phase reboot/, 150_000);
      await q.waitFor(/CUT: ready slot=B version=2/, 90_000);
      q.send('commit');
      await q.waitFor(/CUT: phase commit/, 30_000);
    } else {
      await q.waitFor(/CUT: phase download/, 30_000);
      if (phase !== 'download') await q.waitFor(new RegExp(`CUT: phase ${phase}`), 150_000);
      // env: the first env step (B not bootable) or the second (size + switch)
      if (phase === 'env' && rand() < 0.5) await q.waitFor(/CUT: phase env/, 150_000);
    }
    delayMs = Math.floor(rand() * SPAN_MS[phase]);
    cutIn = await killAt(q, delayMs);
    timeline.push(`KILL@${(q.elapsed() / 1000).toFixed(1)}`);
  } finally {
    await q.kill();
  }
  // power back on: whatever U-Boot finds
  const r = startQemu({ disk: img, log: log('reboot'), timeoutMs: 120_000 });
  let booted: SlotName | null = null;
  let version: string | null = null;
  try {
    const m = await r.waitFor(/CUT: ready slot=([AB]) version=(\d+)/, 100_000);
    booted = m[1] as SlotName;
    version = m[2] ?? null;
    r.send('off');
    await r.exited;
  } catch (e) {
    await r.kill();
    return { phase, cutIn, delayMs, timeline, verdict: 'unbootable', booted, version, detail: (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '', seconds: (performance.now() - t0) / 1000 };
  }
  const c = await checkDisk(p, img, booted, version ?? '');
  const uboot = (r.output().match(/cpe: [^\r\n]*/g) ?? []).join('; ');
  return { phase, cutIn, delayMs, timeline, booted, version, ...c, detail: `${c.detail}; ${uboot}`, seconds: (performance.now() - t0) / 1000 };
}

export interface QemuSoakSummary {
  trials: number;
  ok: number;
  unbootable: number;
  unreadable: number;
  results: QemuTrialResult[];
  elapsedMs: number;
}

export async function runQemuSoak(o: { trials: number; seed: number; phases?: readonly Phase[]; dir?: string; onTrial?: (r: QemuTrialResult, i: number) => void }): Promise<QemuSoakSummary> {
  const t0 = performance.now();
  const dir = o.dir ?? join(ROOT, '.lab/qemu/powercut');
  const p = await prepareMini(dir);
  const v2 = p.images[1] as SlotImage;
  const lab = await startQemuLab({ classes: { 'FS-0900E': { protocol: 'tftp', server: '198.18.96.1', softwareFile: '2.img', softwareMd5: v2.md5, flags: 1, urgent: true, unknown: [] } }, ftp: { user: 'cpqcutm', password: 'lab-pass-cut' }, files: { '2.img': readFileSync(v2.path) } });
  const rand = mulberry32(o.seed);
  const phases = o.phases ?? PHASES;
  const s: QemuSoakSummary = { trials: 0, ok: 0, unbootable: 0, unreadable: 0, results: [], elapsedMs: 0 };
  try {
    for (let i = 0; i < o.trials; i++) {
      const phase = phases[i % phases.length] as Phase;
      const r = await runQemuTrial(p, lab, phase, rand, i);
      s.trials++;
      s[r.verdict]++;
      s.results.push(r);
      o.onTrial?.(r, i);
    }
  } finally {
    await killAllQemu();
    await lab.stop();
    rmSync(join(dir, 'trial.img'), { force: true });
  }
  s.elapsedMs = performance.now() - t0;
  return s;
}

export function describeTrial(r: QemuTrialResult): string {
  return `${r.phase} (+${r.delayMs} ms, cut in ${r.cutIn}): ${r.verdict}, booted ${r.booted ?? '-'} v${r.version ?? '-'} (${r.seconds.toFixed(0)} s): ${r.detail}\n    timeline: ${r.timeline.join(' ')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, def: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : def;
  };
  const trials = Number(arg('--trials', '4'));
  const seed = Number(arg('--seed', '1'));
  const phases = arg('--phases', PHASES.join(',')).split(',') as Phase[];
  const s = await runQemuSoak({ trials, seed, phases, onTrial: (r, i) => process.stdout.write(`qemu trial ${i}: ${describeTrial(r)}\n`) });
  process.stdout.write(`QEMU power cuts (mini): seed ${seed}, ${s.trials} trials: ${s.ok} verified boots, ${s.unbootable} unbootable, ${s.unreadable} unreadable state (${(s.elapsedMs / 1000).toFixed(0)} s)\n`);
  process.exit(s.ok === s.trials ? 0 : 1);
}
