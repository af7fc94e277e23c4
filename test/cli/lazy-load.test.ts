/**
 * agent/main.ts loads only the module of the command it runs: `run` never loads the LEG
 * (node:sqlite), `leg` never loads the upgrade path (basic-ftp → node:tls), `--version` neither.
 * Within `run`, the FTP client (node:tls) is loaded on the first FTP transfer (daemon/wire.ts),
 * node:crypto on the first hash in the process (agent/util/crypto.ts).
 * The logger is the agent's own (agent/log.ts): nothing in `run` loads worker_threads or assert.
 * Seen from outside: the built bundle runs with a preload that prints the built-in modules
 * Node loaded (process.moduleLoadList) at exit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadedModules, writeModuleProbe } from '../helpers/module-probe.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bundle = join(root, 'dist/cpe-agent.cjs');
const dir = mkdtempSync(join(tmpdir(), 'lazy-load-'));
const probe = join(dir, 'probe.cjs');
writeModuleProbe(probe);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  if (existsSync(bundle)) return;
  const b = spawnSync(process.execPath, [join(root, 'scripts/build.ts')], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
}, 120_000);

function loaded(...args: string[]): string[] {
  const r = spawnSync(process.execPath, ['-r', probe, bundle, ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return loadedModules(r.stderr) ?? [];
}

describe('lazy command loading', () => {
  it('run loads neither the LEG (sqlite) nor, before a transfer, the FTP client (tls)', () => {
    const m = loaded('run', '--help');
    expect(m).toContain('dgram'); // the DHCP client: the run command's modules were loaded
    expect(m).not.toContain('tls');
    expect(m).not.toContain('sqlite');
  });
  it('run loads neither node:crypto (hashing is on first use, slots in a digest child) nor perf_hooks', () => {
    // the idle daemon itself: test/upgrade/upgrade.lab.test.ts ("the idle daemon verified its slots …")
    const m = loaded('run', '--help');
    expect(m).toContain('dgram');
    expect(m).not.toContain('crypto');
    expect(m).not.toContain('perf_hooks');
  });
  it('run loads neither worker_threads nor assert (the logger is agent/log.ts, no pino)', () => {
    // run's modules include agent/log.ts; pino, the logger before it, loaded worker_threads,
    // internal/worker and assert at require time (a dependency that does so again shows here)
    const m = loaded('run', '--help');
    expect(m).toContain('dgram');
    expect(m).not.toContain('worker_threads');
    expect(m).not.toContain('assert');
  });
  it('leg loads sqlite but not the upgrade path', () => {
    const m = loaded('leg', '--help');
    expect(m).toContain('sqlite');
    expect(m).not.toContain('tls');
  });
  it('--version loads neither; --help lists every command', () => {
    const m = loaded('--version');
    expect(m).not.toContain('sqlite');
    expect(m).not.toContain('tls');
    const h = spawnSync(process.execPath, [bundle, '--help'], { encoding: 'utf8' });
    for (const c of ['decode', 'dhcp', 'run', 'status', 'reboot', 'leg']) expect(h.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });
});
