/**
 * make bench: runs every scripts/bench/*.bench.ts in turn (each prints its own table of
 * ours vs the reference tool with ratios) and exits non-zero if one of them failed to run.
 * Goals are reported, not enforced: performance is measured here, never in tests.
 * qemu.bench.ts (the agent inside the arm64 guest under TCG) runs only with QEMU_BENCH=1.
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.includes(f.replace('.bench.ts', '')))
  // the QEMU guest bench takes 10+ minutes under TCG: opt-in (QEMU_BENCH=1, or named)
  .filter((f) => f !== 'qemu.bench.ts' || process.env.QEMU_BENCH === '1' || only.includes('qemu'))
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
