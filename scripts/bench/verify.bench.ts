/**
 * Start-up cost of "what runs is what was verified" (issue 8.2): at every start the agent
 * reads the running slot (and a staged one) back and takes MD5 + SHA-256 of the recorded
 * image length (agent/daemon/integrity.ts → AgentPlatform.digestSlot).
 *   ours: what digestSlot() does (agent/daemon/platform-sim.ts): digestStream() over the sim
 *         slot backend's read-back of a 64 MiB slot (one read pass, both digests)
 *   reference: `sha256sum` of the same file (one pass, one digest)
 * The file is in the page cache for both (a real board reads flash cold: slower, same
 * ratio bound by the medium). No goal: reported for the README.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSimPlatform } from '../../platform/sim/index.ts';
import { digestStream } from '../../agent/transfer/hashing-sink.ts';
import { pseudoRandomImage } from '../lab/upgrade-lab.ts';

const MiB = 1024 * 1024;
const RUNS = 7;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const dir = mkdtempSync(join(tmpdir(), 'cpe-verify-bench-'));
try {
  const sim = join(dir, 'sim');
  const p = await openSimPlatform(sim, { capacity: 256 * MiB });
  writeFileSync(join(sim, 'slot-A.img'), pseudoRandomImage(7, 64 * MiB));
  const digestSlot = (): Promise<unknown> => digestStream(p.slots.read('A', 64 * MiB));
  await digestSlot(); // warm the page cache for both
  const ours: number[] = [];
  const ref: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await digestSlot();
    ours.push(performance.now() - t0);
    const t1 = performance.now();
    const r = spawnSync('sha256sum', [join(sim, 'slot-A.img')]);
    if (r.status !== 0) throw new Error('sha256sum failed');
    ref.push(performance.now() - t1);
  }
  const o = median(ours);
  const s = median(ref);
  process.stdout.write(`${'start-up slot check, 64 MiB'.padEnd(34)} ${'ours ms'.padStart(8)} ${'sha256sum ms'.padStart(13)} ${'ratio'.padStart(6)}\n`);
  process.stdout.write(`${'MD5 + SHA-256 read-back (median)'.padEnd(34)} ${o.toFixed(0).padStart(8)} ${s.toFixed(0).padStart(13)} ${(o / s).toFixed(2).padStart(6)}\n`);
  process.stdout.write(`(${RUNS} interleaved runs, page cache warm; load average ${loadavg()[0]?.toFixed(1)})\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
