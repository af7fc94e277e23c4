/**
 * `status` read from a state dir as the daemon leaves it: after `kill -9` (runtime.json of a
 * dead pid, control.sock), with a corrupt state.json, after a rebuild. Text and --json are
 * views of one snapshot, so both are checked from it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readStatus, RUNTIME_FILE } from '../../agent/status/files.ts';
import { renderStatusText } from '../../agent/status/render.ts';
import { emptyState, STATE_FILE } from '../../agent/state/store.ts';
import type { PersistentState } from '../../agent/state/schema.ts';

const dirs: string[] = [];
async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cpd-status-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A pid that existed and is gone (a child that has exited and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid ?? 999_999;
}

const running = { slot: 'A' as const, md5: 'a'.repeat(32), sha256: null, size: 9, version: '1.2.0', file: 'X_FW_1_02_00.bin', source: 'factory' as const, installedAt: 0, offerKey: null };
const downloading: PersistentState = {
  ...emptyState(),
  running,
  lastDecision: { action: 'fetch-software', code: 'UPGRADE', reason: 'upgrade 1.2.0 → 1.3.0', at: Date.now() },
};

async function writeState(d: string, s: PersistentState): Promise<void> {
  await writeFile(join(d, STATE_FILE), JSON.stringify(s));
}

describe('status after the daemon was killed (kill -9 mid-download)', () => {
  it('says the daemon is not running and its last step; never "retrying" beside 0 failures', async () => {
    const d = await dir();
    await writeState(d, downloading);
    const pid = deadPid();
    await writeFile(join(d, RUNTIME_FILE), JSON.stringify({ pid, startedAt: 1, updatedAt: Date.parse('2026-12-02T10:00:00Z'), phase: 'downloading', progress: { file: 'FS_FW_1_03_00.bin', bytes: 400, total: 1000, rate: 1 }, lease: null }));
    await writeFile(join(d, 'control.sock'), '');
    const { status } = await readStatus(d);
    expect(status).toMatchObject({
      state: 'interrupted',
      stateText: 'interrupted while downloading: the daemon is not running',
      daemon: { running: false, pid: null, lastSeen: { pid, phase: 'downloading', at: '2026-12-02T10:00:00.000Z', staleFiles: ['runtime.json', 'control.sock'] } },
      attempts: { failures: 0 },
    });
    const text = renderStatusText(status);
    expect(text).not.toContain('retrying');
    expect(text).toMatch(/^daemon +not running \(pid \d+ gone without a clean exit; last recorded step: downloading FS_FW_1_03_00\.bin 400 bytes 40% at 2026-12-02T10:00:00\.000Z; stale runtime\.json, control\.sock\)$/m);
    expect(text).toMatch(/^state +interrupted while downloading: the daemon is not running$/m);
  });

  it('a fetch decision with no runtime file at all is not a failed download either', async () => {
    const d = await dir();
    await writeState(d, downloading);
    const { status } = await readStatus(d);
    expect(status.state).toBe('interrupted');
    expect(status.daemon.lastSeen).toBeNull();
    expect(renderStatusText(status)).toMatch(/^daemon +not running$/m);
  });

  it('failures counted and no daemon: not "retrying" as if someone were', async () => {
    const d = await dir();
    await writeState(d, { ...downloading, attempts: { ...downloading.attempts, failures: 2, totalFailures: 2 }, lastDecision: { action: 'wait', code: 'BACKOFF', reason: 'r', at: 0 } });
    const { status } = await readStatus(d);
    expect(status).toMatchObject({ state: 'retrying', stateText: 'download failed 2×; retried when the daemon runs (it is not running)' });
    await writeFile(join(d, RUNTIME_FILE), JSON.stringify({ pid: process.pid, startedAt: 1, updatedAt: 2, phase: 'waiting', progress: null, lease: null }));
    expect((await readStatus(d)).status.stateText).toBe('download failed, retrying');
  });

  it('a stale control.sock alone: not running, no step recorded', async () => {
    const d = await dir();
    await writeState(d, { ...downloading, lastDecision: { action: 'nothing', code: 'UP_TO_DATE', reason: 'same', at: 0 } });
    await writeFile(join(d, 'control.sock'), '');
    const { status } = await readStatus(d);
    expect(status).toMatchObject({ state: 'up-to-date', daemon: { running: false, lastSeen: { pid: null, phase: null, staleFiles: ['control.sock'] } } });
    expect(renderStatusText(status)).toContain('no step recorded; stale control.sock');
  });

  it('a live daemon (this process) is running, not stale', async () => {
    const d = await dir();
    await writeState(d, downloading);
    await writeFile(join(d, RUNTIME_FILE), JSON.stringify({ pid: process.pid, startedAt: 1, updatedAt: 2, phase: 'downloading', progress: null, lease: null }));
    const { status } = await readStatus(d);
    expect(status).toMatchObject({ state: 'downloading', daemon: { running: true, pid: process.pid, lastSeen: null } });
  });

  it('a clean exit (phase stopped) leaves nothing stale', async () => {
    const d = await dir();
    await writeState(d, { ...downloading, lastDecision: { action: 'nothing', code: 'UP_TO_DATE', reason: 'same', at: 0 } });
    await writeFile(join(d, RUNTIME_FILE), JSON.stringify({ pid: deadPid(), startedAt: 1, updatedAt: 2, phase: 'stopped', progress: null, lease: null }));
    const { status } = await readStatus(d);
    expect(status.daemon).toMatchObject({ running: false, lastSeen: null });
  });
});

describe('status on a corrupt or rebuilt state file', () => {
  it('corrupt now: says so (not "has not run yet"), in text and JSON, exit-worthy kind', async () => {
    const d = await dir();
    await writeFile(join(d, STATE_FILE), '{"version":');
    const r = await readStatus(d);
    expect(r.kind).toBe('invalid');
    expect(r.status).toMatchObject({ state: 'state-corrupt', stateFile: { status: 'corrupt' } });
    const text = renderStatusText(r.status);
    expect(text).not.toContain('has not run yet');
    expect(text).toMatch(/^state +state file corrupt: .*rebuilds the state from the slots/m);
    expect(text).toMatch(/^state file +corrupt \(/m);
  });

  it('rebuilt after it was corrupt: says it was corrupt and rebuilt', async () => {
    const d = await dir();
    const at = Date.parse('2026-12-02T11:00:00Z');
    await writeState(d, { ...emptyState(), running, lastError: { code: 'STATE_CORRUPT', message: 'state file was corrupt (not JSON); kept as state.json.corrupt-x', at } });
    const { status } = await readStatus(d);
    expect(status.stateFile).toEqual({ status: 'rebuilt', detail: 'state file was corrupt (not JSON); kept as state.json.corrupt-x', at: '2026-12-02T11:00:00.000Z' });
    expect(renderStatusText(status)).toMatch(/^state file +was corrupt, rebuilt from the slots at 2026-12-02T11:00:00\.000Z/m);
  });

  it('missing: the agent has not run yet', async () => {
    const d = await dir();
    const r = await readStatus(d);
    expect(r.status).toMatchObject({ state: 'unknown', stateFile: { status: 'missing' } });
    expect(renderStatusText(r.status)).toContain('has not run yet');
  });
});
