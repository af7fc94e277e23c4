/**
 * Real QEMU power cuts, scenario "agent": the real agent (dist/rootfs-arm64.cpio.xz + the lab's
 * board overlay, scripts/qemu/agent-slot.ts) upgrades itself from v0.1.0 in slot A to a signed
 * v0.2.0 slot image offered by option 43 (FTP, urgent), and QEMU is SIGKILLed at a random moment of:
 *   download  from "stage:" on: the stream into slot B (the agent writes while it downloads:
 *             mid-download = mid-write), fsync, read-back + signature check, setNext (env)
 *   switch    from "staged and verified" on: release, sync, reboot
 *   commit    from the trial boot's "booted slot B (trial)" on: DHCP, markGood (env)
 * then the disk boots again (no network) until the agent says which slot it runs, and the disk is
 * checked like the mini scenario (powercut-qemu.ts checkDisk: the booted slot holds a good image
 * recorded in a valid U-Boot environment).
 *   node scripts/qemu/powercut-agent.ts [--trials N] [--seed S] [--phases download,switch,commit]
 * Slow under TCG: a trial is a few minutes (two or three boots of the agent, a ~60 MB download).
 */
import { readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mulberry32 } from '../../agent/util/prng.ts';
import type { SlotName } from '../../platform/types.ts';
import { buildAgentSlot, signImage } from './agent-slot.ts';
import { killAllQemu, startQemu } from './console.ts';
import { startQemuLab, randomMac, type QemuLab } from './lab.ts';
import { checkDisk, slotImage, describeTrial, type Prepared, type QemuTrialResult } from './powercut-qemu.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const FTP = { user: 'cpqcuta', password: 'lab-pass-cut' }; // a lab's stop() deletes its FTP user: one name per script

export type AgentPhase = 'download' | 'switch' | 'commit';
export const AGENT_PHASES: readonly AgentPhase[] = ['download', 'switch', 'commit'];

export async function prepareAgent(dir: string): Promise<Prepared & { firmware: string; md5: string }> {
  mkdirSync(dir, { recursive: true });
  const v1 = join(dir, 'agent-v1.ext4');
  const v2 = join(dir, 'agent-v2.ext4');
  await buildAgentSlot({ out: v1, version: '0.1.0' });
  await buildAgentSlot({ out: v2, version: '0.2.0' });
  const firmware = join(dir, 'fw-v2.img');
  const md5 = await signImage(v2, firmware, '0.2.0');
  const disk = join(dir, 'agent-factory.img');
  await run(join(ROOT, 'scripts/qemu/disk.sh'), [disk, v1], { timeout: 120_000 });
  return { dir, disk, images: [slotImage('0.1.0', v1), slotImage('0.2.0', firmware)], firmware, md5 };
}

/**
 * ms spans the cut is drawn from, after the phase's first console line. Measured (one run, load ~6):
 * "stage:" → "staged and verified" 5.6 s (FTP, 70 MB: download, write, fsync, read-back,
 * signature, setNext), → "rebooting" 4.6 s more (release, sync), trial boot "booted slot B
 * (trial)" → "trial ended, boot environment committed" 9.8 s (DHCP, markGood). With main's gzip
 * kernel (46 MB image) "stage:" → "staged and verified" is 2.6 s: the download span is 2.5 s.
 */
const SPAN_MS: Record<AgentPhase, number> = { download: 2_500, switch: 5_000, commit: 11_000 };

export async function runAgentTrial(p: Prepared, lab: QemuLab, phase: AgentPhase, rand: () => number, n: number): Promise<QemuTrialResult> {
  const t0 = performance.now();
  const img = join(p.dir, 'trial.img');
  await run('cp', ['--sparse=always', p.disk, img]);
  const q = startQemu({ disk: img, log: join(p.dir, `agent-${n}-cut.console`), timeoutMs: 900_000, netns: lab.ns, netArgs: lab.qemuNetArgs(randomMac()) });
  const timeline: string[] = [];
  const mark = (what: string): void => void timeline.push(`${what}@${(q.elapsed() / 1000).toFixed(1)}`);
  let delayMs = 0;
  let cutIn = 'none';
  try {
    await q.waitFor(/stage: fw-v2\.img → slot B/, 400_000);
    mark('stage');
    if (phase === 'switch') {
      await q.waitFor(/staged and verified/, 600_000);
      mark('staged');
    }
    if (phase === 'commit') {
      await q.waitFor(/booted slot B \(trial\)/, 400_000);
      mark('B on trial');
    }
    delayMs = Math.floor(rand() * SPAN_MS[phase]);
    await new Promise((r) => setTimeout(r, delayMs));
    const out = q.output();
    const last = [...out.matchAll(/(stage: fw-v2\.img → slot B|staged and verified|rebooting|cpe: booting slot \w|booted slot \w[^\n]*?event|DHCP ACK|trial ended, boot environment committed)/g)].at(-1);
    cutIn = last?.[1] ?? 'none';
    await q.kill();
    mark('KILL');
  } finally {
    await q.kill();
  }
  const r = startQemu({ disk: img, log: join(p.dir, `agent-${n}-reboot.console`), timeoutMs: 400_000 });
  let booted: SlotName | null = null;
  let version: string | null = null;
  try {
    const up = await r.waitFor(/cpe-agent rootfs (\S+)[ \r\n]/, 300_000); // the whole version word (a chunk may end inside it)
    version = up[1] ?? null;
    const m = await r.waitFor(/running slot ([AB]) /, 300_000);
    booted = m[1] as SlotName;
  } catch (e) {
    await r.kill();
    return { phase, cutIn, delayMs, timeline, verdict: 'unbootable', booted, version, detail: (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '', seconds: (performance.now() - t0) / 1000 };
  }
  await r.kill(); // the check reads the disk: the agent has told what it runs
  const c = await checkDisk(p, img, booted, version ?? '');
  const uboot = (r.output().match(/cpe: [^\r\n]*/g) ?? []).join('; ');
  return { phase, cutIn, delayMs, timeline, booted, version, ...c, detail: `${c.detail}; ${uboot}`, seconds: (performance.now() - t0) / 1000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, def: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : def;
  };
  const trials = Number(arg('--trials', '3'));
  const seed = Number(arg('--seed', '1'));
  const phases = arg('--phases', AGENT_PHASES.join(',')).split(',') as AgentPhase[];
  // ^C / kill: no further trial, the running QEMU powered off, the lab removed by the finally
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { stopping = true; void killAllQemu(); });
  const dir = join(ROOT, '.lab/qemu/powercut-agent');
  const p = await prepareAgent(dir);
  const lab = await startQemuLab({
    classes: { 'FS-0900E': { protocol: 'ftp', server: '198.18.96.1', user: FTP.user, password: FTP.password, softwareFile: 'fw-v2.img', softwareMd5: p.md5, flags: 1, urgent: true, unknown: [] } },
    ftp: FTP,
    files: { 'fw-v2.img': readFileSync(p.firmware) },
  });
  const rand = mulberry32(seed);
  const counts = { ok: 0, unbootable: 0, unreadable: 0 };
  const t0 = performance.now();
  try {
    for (let i = 0; i < trials && !stopping; i++) {
      const r = await runAgentTrial(p, lab, phases[i % phases.length] as AgentPhase, rand, i);
      counts[r.verdict]++;
      process.stdout.write(`agent trial ${i}: ${describeTrial(r)}\n`);
    }
  } finally {
    await killAllQemu();
    await lab.stop();
    rmSync(join(dir, 'trial.img'), { force: true });
  }
  process.stdout.write(`QEMU power cuts (agent): seed ${seed}, ${trials} trials: ${counts.ok} verified boots, ${counts.unbootable} unbootable, ${counts.unreadable} unreadable state (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  process.exit(counts.ok === trials ? 0 : 1);
}
