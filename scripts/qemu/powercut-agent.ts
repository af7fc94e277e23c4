/**
 * Real QEMU power cuts, scenario "agent", on the shipped firmware (issue 10 §4.5): the QEMU modem
 * of scripts/qemu/modem.ts — factory disk with the signed `make firmware` image v1.0.0 in slot A,
 * the agent's state and the lab's site config (site.json) on the data partition p4
 * (/var/lib/cpe-agent) — upgrades itself to v2.0.0 offered by option 43 (FTP, urgent), and QEMU
 * is SIGKILLed at a random moment of:
 *   download  from "downloading … into slot B" on: the stream into slot B (the agent writes while
 *             it downloads: mid-download = mid-write), fsync, read-back + signature check, the
 *             env update (setNext) and the state write
 *   switch    from "staged … verified; urgent" on: release, sync, reboot
 *   commit    from the trial boot's "booted slot B (trial)" on: DHCP, markGood (env), state write
 * Then the disk boots again with no network, and the trial is:
 *   unbootable  no slot comes up to the agent's "running slot X version V" line, or the slot
 *               holds no good image (powercut-qemu.ts checkDisk)
 *   unreadable  no valid U-Boot env copy / no image_size for the booted slot (checkDisk); or the
 *               agent's state is not readable: `cpe-agent status --json` on the console does not
 *               parse, does not report the booted slot and version, says the state file was
 *               corrupt/rebuilt, or has fewer boots than before the cut (the state was lost, e.g.
 *               p4 formatted anew); or, read on the host after the re-boot (data-partition.ts:
 *               e2fsck replays the journal, debugfs dumps the files), state.json does not pass
 *               the agent's own validation (readStateFile) or names another running slot, or
 *               site.json is gone; or, after a cut once the image was staged, the state has
 *               forgotten v2 (neither running nor staged nor in the history)
 *   ok          otherwise
 *   node scripts/qemu/powercut-agent.ts [--trials N] [--seed S] [--phases download,switch,commit]
 * Slow under TCG: a trial is a few minutes (two or three boots of the agent, a ~60 MB download).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mulberry32 } from '../../agent/util/prng.ts';
import { readStateFile } from '../../agent/state/store.ts';
import type { SlotName } from '../../platform/types.ts';
import { killAllQemu } from './console.ts';
import { readDataPartition } from './data-partition.ts';
import { startQemuLab, randomMac, type QemuLab } from './lab.ts';
import { buildFirmware, ensureArm64Bundle, makeDisk, siteConfig, startModem, VENDOR_CLASS, type Firmware, type Modem, type ModemStatus } from './modem.ts';
import { checkDisk, slotImage, describeTrial, type Prepared, type QemuTrialResult } from './powercut-qemu.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const FTP = { user: 'cpqcuta', password: 'lab-pass-cut' }; // a lab's stop() deletes its FTP user: one name per script

export type AgentPhase = 'download' | 'switch' | 'commit';
export const AGENT_PHASES: readonly AgentPhase[] = ['download', 'switch', 'commit'];

export interface PreparedAgent extends Prepared {
  v1: Firmware;
  v2: Firmware;
}

/** The firmware images v1.0.0 and v2.0.0 (scripts/qemu/firmware.sh) and the factory disk (v1 in A, site.json on p4). */
export async function prepareAgent(dir: string): Promise<PreparedAgent> {
  mkdirSync(dir, { recursive: true });
  await ensureArm64Bundle();
  const v1 = await buildFirmware('1.0.0', join(dir, 'fw'));
  const v2 = await buildFirmware('2.0.0', join(dir, 'fw'));
  const disk = await makeDisk(dir, v1, siteConfig({}));
  // a slot holds the whole .bin (trailer included): checkDisk compares its first `size` bytes
  return { dir, disk, images: [slotImage(v1.version, v1.path), slotImage(v2.version, v2.path)], v1, v2 };
}

/**
 * ms spans the cut is drawn from, after the phase's first console line. Measured on this
 * firmware (FTP, 59.4 MiB image, one run, load ~1): "downloading" → "staged … verified" 3.2 s
 * (FTP 1.7 s, then fsync, read-back, signature, env, state); → "rebooting" 1.2 s more, then
 * U-Boot and boot.cmd's trial env write (bootcount) a few seconds later; "running slot B"
 * (trial) → "trial ended, boot environment committed" 2.8 s (DHCP, markGood, state).
 */
const SPAN_MS: Record<AgentPhase, number> = { download: 3_500, switch: 8_000, commit: 3_500 };

const MARKERS = /(downloading ftp:\S+ into slot B|staged \S+ \(version [^)]*\) in slot B, verified|rebooting: [^\n]*?(?= event=)|cpe: environment written[^\r\n]*|cpe: booting slot \w|booted slot \w(?: \(trial\))?|DHCP ACK|trial ended, boot environment committed)/g;

type Verdict = Pick<QemuTrialResult, 'verdict' | 'detail'>;

/** The agent's state as `status --json` reports it on the re-booted modem. */
function checkStatus(s: ModemStatus, booted: SlotName, version: string, bootsBefore: number, v2Staged: boolean, v2: string): Verdict {
  const bad = (detail: string): Verdict => ({ verdict: 'unreadable', detail: `status: ${detail}` });
  if (!s.running || s.running.slot !== booted || s.running.version !== version) return bad(`running ${JSON.stringify(s.running)}, booted ${booted} v${version}`);
  const file = s.stateFile as { status?: string; detail?: string | null } | undefined;
  if (file?.status !== 'ok') return bad(`state file ${file?.status ?? '?'}: ${file?.detail ?? ''}`);
  const boots = typeof s.bootCount === 'number' ? s.bootCount : -1;
  if (boots <= bootsBefore) return bad(`bootCount ${boots} after ${bootsBefore} boot(s) before the cut: state lost`);
  if (v2Staged && s.running.version !== v2 && s.staged?.version !== v2 && !s.history.some((h) => h.version === v2)) return bad(`v${v2} was staged before the cut and is forgotten`);
  return { verdict: 'ok', detail: `status ${s.state}, boots ${boots}, staged ${s.staged ? `${s.staged.slot} v${s.staged.version ?? '?'}` : '-'}` };
}

/** The data partition read on the host: state.json valid and naming the booted slot, site.json there. */
async function checkData(p: PreparedAgent, img: string, booted: SlotName): Promise<Verdict> {
  const work = join(p.dir, 'data-check');
  try {
    const d = await readDataPartition(img, work, ['state.json', 'site.json']);
    const bad = (detail: string): Verdict => ({ verdict: 'unreadable', detail: `p4: ${detail}` });
    if (d.fsck >= 4) return bad(`e2fsck exit ${d.fsck}: ${d.fsckOutput}`);
    if (!d.files['site.json']) return bad('site.json gone');
    JSON.parse(readFileSync(d.files['site.json'], 'utf8'));
    if (!d.files['state.json']) return bad('no state.json');
    const st = await readStateFile(work);
    if (st.kind !== 'ok') return bad(`state.json ${st.kind}${st.kind === 'invalid' ? `: ${st.reason}` : ''}`);
    if (st.state.running?.slot !== booted) return bad(`state.json running slot ${st.state.running?.slot ?? 'none'}, booted ${booted}`);
    return { verdict: 'ok', detail: `p4 e2fsck ${d.fsck}, state.json ok (running ${booted} v${st.state.running.version ?? '?'}, ${st.state.history.length} history entries)` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function runAgentTrial(p: PreparedAgent, lab: QemuLab, phase: AgentPhase, rand: () => number, n: number): Promise<QemuTrialResult> {
  const t0 = performance.now();
  const img = join(p.dir, 'trial.img');
  await run('cp', ['--sparse=always', p.disk, img]);
  const q: Modem = startModem({ lab, disk: img, log: join(p.dir, `agent-${n}-cut.console`), timeoutMs: 900_000, mac: randomMac() });
  const timeline: string[] = [];
  const mark = (what: string): void => void timeline.push(`${what}@${(q.elapsed() / 1000).toFixed(1)}`);
  let delayMs = 0;
  let cutIn = 'none';
  // boots whose state write the cut cannot have undone: the first (its "running slot" line
  // comes after the state was saved), and the trial boot in phase commit
  let bootsBefore = 0;
  let v2Staged = false;
  try {
    await q.line(/running slot A version 1\.0\.0 md5 /, 400_000);
    bootsBefore = 1;
    await q.line(new RegExp(`downloading ftp://\\S+/${p.v2.name.replaceAll('.', '\\.')} into slot B`), 400_000);
    mark('download');
    if (phase !== 'download') {
      await q.line(/staged \S+ \(version 2\.0\.0, signature verified\) in slot B, verified; urgent/, 600_000);
      mark('staged');
      v2Staged = true;
    }
    if (phase === 'commit') {
      await q.line(/running slot B version 2\.0\.0 md5 /, 400_000);
      bootsBefore = 2;
      mark('B on trial');
    }
    delayMs = Math.floor(rand() * SPAN_MS[phase]);
    await new Promise((r) => setTimeout(r, delayMs));
    cutIn = [...q.output().matchAll(MARKERS)].at(-1)?.[1] ?? 'none';
    await q.kill();
    mark('KILL');
  } finally {
    await q.kill();
  }
  // power back on, no network: whatever U-Boot finds, then the agent's own view of its state
  const r = startModem({ disk: img, log: join(p.dir, `agent-${n}-reboot.console`), timeoutMs: 600_000 });
  let booted: SlotName | null = null;
  let version: string | null = null;
  let status: Verdict;
  const fail = (verdict: QemuTrialResult['verdict'], detail: string): QemuTrialResult => ({ phase, cutIn, delayMs, timeline, verdict, booted, version, detail, seconds: (performance.now() - t0) / 1000 });
  try {
    const m = await r.line(/running slot ([AB]) version (\S+) md5 [0-9a-f]{32}/, 400_000);
    booted = m[1] as SlotName;
    version = m[2] ?? null;
  } catch (e) {
    await r.kill();
    return fail('unbootable', (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '');
  }
  try {
    const lost = /board: (data partition \S+ was unmountable[^\n]*|no data partition[^\n]*)|state file is corrupt[^\n]*/.exec(r.output());
    status = lost ? { verdict: 'unreadable', detail: lost[0] } : checkStatus(await r.status(120_000), booted, version ?? '', bootsBefore, v2Staged, p.v2.version);
  } catch (e) {
    status = { verdict: 'unreadable', detail: `status --json: ${(e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''}` };
  }
  await r.kill(); // a second cut: the host check below replays p4's journal like the next mount would
  const uboot = (r.output().match(/cpe: [^\r\n]*/g) ?? []).join('; ');
  const c = await checkDisk(p, img, booted, version ?? '');
  const data = await checkData(p, img, booted);
  const worst = [c, status, data].find((x) => x.verdict === 'unbootable') ?? [c, status, data].find((x) => x.verdict !== 'ok') ?? c;
  return fail(worst.verdict, `${c.detail}; ${status.detail}; ${data.detail}; ${uboot}`);
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
    classes: { [VENDOR_CLASS]: { protocol: 'ftp', server: '198.18.96.1', user: FTP.user, password: FTP.password, softwareFile: p.v2.name, softwareMd5: p.v2.md5, flags: 1, urgent: true, unknown: [] } },
    ftp: FTP,
    files: { [p.v2.name]: readFileSync(p.v2.path) },
  });
  const rand = mulberry32(seed);
  const counts = { ok: 0, unbootable: 0, unreadable: 0 };
  const t0 = performance.now();
  let done = 0;
  try {
    for (let i = 0; i < trials && !stopping; i++) {
      const r = await runAgentTrial(p, lab, phases[i % phases.length] as AgentPhase, rand, i);
      counts[r.verdict]++;
      done++;
      process.stdout.write(`agent trial ${i}: ${describeTrial(r)}\n`);
    }
  } finally {
    await killAllQemu();
    await lab.stop();
    rmSync(join(dir, 'trial.img'), { force: true });
  }
  process.stdout.write(`QEMU power cuts (agent, shipped firmware, state on p4): seed ${seed}, ${done} trials: ${counts.ok} verified boots with readable state, ${counts.unbootable} unbootable, ${counts.unreadable} unreadable state (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  process.exit(counts.ok === trials ? 0 : 1);
}
