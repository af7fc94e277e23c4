/**
 * The CLI tests run dist/cpe-agent. Build it only when it is missing or older than the agent
 * sources: `make test` builds first, and rebuilding here would swap dist/ under lab tests
 * running the binary meanwhile.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT } from './prereq.ts';

const root = new URL('../../', import.meta.url).pathname;

/** Newest mtime of the files under `d`. */
function newestSource(d: string): number {
  let t = 0;
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/cpe-agent when it is missing or stale (use in beforeAll, timeout ~120 s). */
export function ensureBuiltAgent(): void {
  const bundle = join(root, 'dist/cpe-agent.cjs');
  const built = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
  if (existsSync(AGENT) && built >= newestSource(join(root, 'agent'))) return;
  const b = spawnSync(process.execPath, [join(root, 'scripts/build.ts')], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
}
