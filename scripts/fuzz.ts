// `make fuzz CASES=N [JOBS=J] [TARGET=prefix]`: the codec properties of test/fuzz/targets.ts over
// N generated cases in all (split over the targets by weight: cheap random-bytes targets get 4
// shares, generated-value round trips 1), inputs streamed from fast-check in
// batches of distinct seeds, on J worker threads (default: every core).
//   node scripts/fuzz.ts --cases 10000000 [--jobs 2] [--target dhcp.] [--batch 50000]
// A failure prints the target, seed and path, the shrunk counterexample and the command that
// replays it:  node scripts/fuzz.ts --target NAME --seed S --path P
// Closing line: `fuzz: N cases in S s on J threads, F failed` (exit 1 when F > 0).
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { TARGETS, type FuzzResult } from '../test/fuzz/targets.ts';

interface Job {
  target: string;
  numRuns: number;
  seed: number;
  path?: string;
}
interface Done {
  job: Job;
  result: FuzzResult;
  ms: number;
}

if (!isMainThread) {
  const port = parentPort;
  if (port === null) throw new Error('no parent port');
  // The decoders throw an AgentError for most random inputs; capturing its stack is most of the
  // cost of a case. Stacks come back for a replay (--seed).
  if (workerData !== true) Error.stackTraceLimit = 0;
  port.on('message', (job: Job | null) => {
    if (job === null) return port.close();
    const t = TARGETS.find((x) => x.name === job.target);
    if (t === undefined) throw new Error(`unknown target ${job.target}`);
    const t0 = performance.now();
    const result = t.run(job);
    port.postMessage({ job, result, ms: performance.now() - t0 } satisfies Done);
  });
} else {
  main();
}

function main(): void {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: '100000' },
      jobs: { type: 'string', default: String(availableParallelism()) },
      target: { type: 'string', default: '' },
      seed: { type: 'string' },
      path: { type: 'string' },
      batch: { type: 'string', default: '50000' },
      list: { type: 'boolean', default: false },
    },
  });
  if (values.list) {
    for (const t of TARGETS) console.log(t.name);
    return;
  }
  const targets = TARGETS.filter((t) => t.name.startsWith(values.target));
  const cases = Number(values.cases);
  const jobsN = Number(values.jobs);
  const batch = Number(values.batch);
  if (targets.length === 0 || !(cases > 0) || !(jobsN > 0) || !(batch > 0)) {
    console.error(`fuzz: nothing to do (targets: ${TARGETS.map((t) => t.name).join(' ')})`);
    process.exit(2);
  }

  const queue: Job[] = [];
  if (values.seed !== undefined) {
    // replay: one target, one seed (and path: just the failing case)
    const t = targets[0] as (typeof targets)[number];
    queue.push({ target: t.name, numRuns: values.path === undefined ? cases : 1, seed: Number(values.seed), ...(values.path === undefined ? {} : { path: values.path }) });
  } else {
    const base = Date.now() % 0x7fff0000;
    const weights = targets.reduce((s, t) => s + t.weight, 0);
    let k = 0;
    // interleave the targets so every thread works on all of them
    const left = new Map(targets.map((t) => [t.name, Math.floor((cases * t.weight) / weights)]));
    const first = targets[0]?.name ?? '';
    left.set(first, (left.get(first) ?? 0) + cases - [...left.values()].reduce((a, b) => a + b, 0)); // the rounding remainder
    while ([...left.values()].some((n) => n > 0)) {
      for (const t of targets) {
        const n = Math.min(batch, left.get(t.name) ?? 0);
        if (n <= 0) continue;
        left.set(t.name, (left.get(t.name) ?? 0) - n);
        queue.push({ target: t.name, numRuns: n, seed: (base + k++ * 7919) | 0 });
      }
    }
  }

  const total = queue.reduce((s, j) => s + j.numRuns, 0);
  const threads = Math.min(jobsN, queue.length);
  console.log(`fuzz: ${total} cases over ${targets.length} target(s), ${queue.length} batch(es), ${threads} thread(s)`);
  const stats = new Map<string, { cases: number; ms: number; failed: number }>(targets.map((t) => [t.name, { cases: 0, ms: 0, failed: 0 }]));
  const dead = new Set<string>();
  const t0 = performance.now();
  let ran = 0;
  let failed = 0;
  let lastReport = t0;
  let running = threads;

  for (let i = 0; i < threads; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: values.seed !== undefined });
    const next = (): void => {
      let job = queue.shift();
      while (job !== undefined && dead.has(job.target)) job = queue.shift(); // one failure per target is enough
      w.postMessage(job ?? null);
      if (job === undefined) {
        running--;
        if (running === 0) finish();
      }
    };
    w.on('message', (d: Done) => {
      const s = stats.get(d.job.target);
      if (s !== undefined) {
        s.cases += d.result.numRuns;
        s.ms += d.ms;
      }
      ran += d.result.numRuns;
      if (d.result.failed) {
        failed++;
        if (s !== undefined) s.failed++;
        dead.add(d.job.target);
        console.log(
          [
            `FAIL ${d.job.target} seed ${d.result.seed} path ${d.result.path}`,
            `  counterexample: ${d.result.counterexample}`,
            `  ${d.result.error.split('\n').slice(0, 8).join('\n  ')}`,
            `  replay: node scripts/fuzz.ts --target ${d.job.target} --seed ${d.result.seed} --path ${d.result.path}`,
          ].join('\n'),
        );
      }
      const now = performance.now();
      if (now - lastReport > 30_000) {
        lastReport = now;
        console.log(`fuzz: ${ran}/${total} cases, ${((now - t0) / 1000).toFixed(0)} s`);
      }
      next();
    });
    w.on('error', (e) => {
      console.error(`fuzz: worker error: ${e.stack ?? String(e)}`);
      process.exitCode = 1;
    });
    next();
  }

  function finish(): void {
    const secs = (performance.now() - t0) / 1000;
    for (const [name, s] of stats) {
      console.log(`  ${name.padEnd(20)} ${String(s.cases).padStart(10)} cases ${(s.ms / 1000).toFixed(0).padStart(6)} s  ${s.failed ? 'FAILED' : 'ok'}`);
    }
    console.log(`fuzz: ${ran} cases in ${secs.toFixed(0)} s on ${threads} thread(s), ${failed} failed`);
    if (failed > 0) process.exitCode = 1;
  }
}
