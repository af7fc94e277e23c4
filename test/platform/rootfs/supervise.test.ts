/**
 * platform/rootfs/usr/sbin/cpe-agent-supervise under busybox sh (the modem's shell), with a
 * stand-in agent (prints a line, exits 3) and its paths moved into a temp dir through the
 * CPE_SUPERVISE_* variables: the output reaches the log and the console, the exit is logged,
 * and a full or broken /run (an empty start stamp, no FIFO) neither stops the agent nor skips
 * the back-off.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEVICE_GLIBC_TUNABLES } from '../../../agent/runtime-flags.ts';

const SCRIPT = fileURLToPath(new URL('../../../platform/rootfs/usr/sbin/cpe-agent-supervise', import.meta.url));
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpf-supervise-'));
  writeFileSync(join(dir, 'agent'), '#!/bin/sh\necho "stand-in agent: $*"\necho "malloc: $GLIBC_TUNABLES"\nexit 3\n');
  chmodSync(join(dir, 'agent'), 0o755);
  mkdirSync(join(dir, 'run'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function supervise(run: string): { code: number | null; console: string; log: string; exits: string } {
  const console = join(dir, 'console');
  const r = spawnSync('busybox', ['sh', SCRIPT], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { CPE_SUPERVISE_RUN: run, CPE_SUPERVISE_LOG: join(dir, 'log'), CPE_SUPERVISE_AGENT: join(dir, 'agent'), CPE_SUPERVISE_CONSOLE: console },
  });
  const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  return { code: r.status, console: read(console) + r.stderr, log: read(join(dir, 'log/cpe-agent.log')), exits: read(join(dir, 'log/cpe-agent.exits')) };
}

describe('cpe-agent-supervise', () => {
  it('runs the agent, tees its output to the log and the console, logs the exit code and exits with it', () => {
    const r = supervise(join(dir, 'run'));
    expect(r.code).toBe(3);
    expect(r.log).toContain('stand-in agent: run --config /etc/cpe-agent.json');
    expect(r.log).toContain(`malloc: ${DEVICE_GLIBC_TUNABLES}\n`); // the daemon's malloc setting (runtime-flags.ts)
    expect(r.console).toContain('stand-in agent: run');
    expect(r.exits).toMatch(/^cpe-agent exited with 3 at \d{4}-\d\d-\d\dT/);
    expect(r.console).not.toContain('waiting 5 s'); // first start: no back-off
    expect(readFileSync(join(dir, 'run/cpe-agent.last-start'), 'utf8')).toMatch(/^\d+\n$/);
  });

  it('a start stamp under 10 s old backs off 5 s; so does an empty one (a full /run), without a shell error', () => {
    writeFileSync(join(dir, 'run/cpe-agent.last-start'), '');
    const r = supervise(join(dir, 'run'));
    expect(r.console).toContain('waiting 5 s');
    expect(r.console).not.toMatch(/syntax error/i);
    expect(r.code).toBe(3);
    expect(r.log).toContain('stand-in agent: run');
  });

  it('without a usable /run (no stamp, no FIFO) the agent still runs, its output on the console', () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    const r = supervise(join(dir, 'not-a-dir/run'));
    expect(r.code).toBe(3);
    expect(r.console).toContain('the agent\'s output goes to the console only');
    expect(r.console).toContain('stand-in agent: run');
    expect(r.exits).toContain('cpe-agent exited with 3');
  });
});
