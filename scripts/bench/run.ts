/**
 * make bench: runs every scripts/bench/*.bench.ts in turn (each prints its own table of
 * ours vs the reference tool with ratios) and exits non-zero if one of them failed to run.
 * Goals are reported, not enforced: performance is measured here, never in tests.
 * The QEMU guest benches (qemu.bench.ts: upgrade speed; qemu-footprint.bench.ts: the footprint
 * figures; the agent inside the arm64 guest under TCG) run only with QEMU_BENCH=1, or when named
 * (`run.ts qemu` runs both, `run.ts qemu-footprint` that one).
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const name = (f: string): string => f.replace('.bench.ts', '');
/** the QEMU guest benches (qemu.bench.ts, qemu-footprint.bench.ts): `qemu` names them all */
const isQemu = (f: string): boolean => name(f) === 'qemu' || name(f).startsWith('qemu-');
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.includes(name(f)) || (isQemu(f) && only.includes('qemu')))
  // the QEMU guest benches take minutes each under TCG: opt-in (QEMU_BENCH=1, or named)
  .filter((f) => !isQemu(f) || process.env.QEMU_BENCH === '1' || only.includes('qemu') || only.includes(name(f)))
  .sort();
let failed = 0;
for (const b of benches) {
  process.stdout.write(`\n=== ${b.replace('.bench.ts', '')}\n`);
  const r = spawnSync(process.execPath, [join(here, b)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`bench ${b} failed (exit ${r.status})\n`);
  }
}
process.exit(failed ? 1 : 0);
