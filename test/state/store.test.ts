import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, readStateFile, StateStore, withHistory, STATE_FILE } from '../../agent/state/store.ts';
import { HISTORY_MAX, type PersistentState } from '../../agent/state/schema.ts';
import { silentLogger } from '../../agent/log.ts';
import { isAgentError } from '../../agent/errors.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpe-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sample = (): PersistentState => ({
  ...emptyState(),
  running: { slot: 'A', md5: '0'.repeat(32), sha256: null, size: 3, version: '1.0.0', file: 'factory.bin', source: 'factory', installedAt: 1, offerKey: null },
  history: [{ at: 1, event: 'factory-install', slot: 'A', version: '1.0.0', md5: '0'.repeat(32) }],
  bootCount: 1,
});

describe('StateStore', () => {
  it('missing file → missing', async () => {
    expect(await new StateStore(dir, silentLogger()).load()).toEqual({ kind: 'missing' });
  });

  it('save then load in a new store (a restart) keeps everything, history included', async () => {
    const a = new StateStore(dir, silentLogger());
    await a.save(sample());
    const r = await new StateStore(dir, silentLogger()).load();
    expect(r).toEqual({ kind: 'ok', state: sample() });
  });

  it('writes atomically: no temp files left, content is complete JSON', async () => {
    const s = new StateStore(dir, silentLogger());
    const saves = [];
    for (let i = 0; i < 20; i++) saves.push(s.save({ ...sample(), bootCount: i }));
    await Promise.all(saves);
    expect(readdirSync(dir)).toEqual([STATE_FILE]);
    const last = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as PersistentState;
    expect(last.bootCount).toBe(19);
  });

  it('a leftover temp file from a crash mid-write does not affect loading', async () => {
    const s = new StateStore(dir, silentLogger());
    await s.save(sample());
    writeFileSync(join(dir, `.${STATE_FILE}.tmp-999-x`), '{"schema":1,"runn');
    expect(await s.load()).toEqual({ kind: 'ok', state: sample() });
  });

  it.each([
    ['truncated JSON', '{"schema":1,"running":'],
    ['wrong schema', '{"schema":2}'],
    ['bad md5', JSON.stringify({ ...sample(), running: { ...sample().running, md5: 'zz' } })],
    ['empty', ''],
  ])('corrupt file (%s) → kept aside and reported, never thrown', async (_name, content) => {
    writeFileSync(join(dir, STATE_FILE), content);
    const s = new StateStore(dir, silentLogger());
    const r = await s.load(new Date('2026-11-23T18:00:00Z'));
    expect(r.kind).toBe('corrupt');
    if (r.kind !== 'corrupt') return;
    expect(r.movedTo).toBe(join(dir, `${STATE_FILE}.corrupt-2026-11-23T18-00-00-000Z`));
    expect(readFileSync(r.movedTo, 'utf8')).toBe(content);
    expect(await s.load()).toEqual({ kind: 'missing' });
    await s.save(sample());
    expect((await s.load()).kind).toBe('ok');
  });

  it('readStateFile reports invalid without moving it (read-only status)', async () => {
    writeFileSync(join(dir, STATE_FILE), 'nope');
    expect((await readStateFile(dir)).kind).toBe('invalid');
    expect(readdirSync(dir)).toEqual([STATE_FILE]);
  });

  it('refuses to write an invalid state (typed error), old file untouched', async () => {
    const s = new StateStore(dir, silentLogger());
    await s.save(sample());
    const bad = { ...sample(), running: { ...sample().running!, md5: 'not-md5' } };
    let err: unknown;
    try {
      await s.save(bad);
    } catch (e) {
      err = e;
    }
    expect(isAgentError(err, 'STATE_INVALID')).toBe(true);
    expect(await s.load()).toEqual({ kind: 'ok', state: sample() });
  });

  it('history is bounded', () => {
    let st = emptyState();
    for (let i = 0; i < HISTORY_MAX + 10; i++) st = withHistory(st, { at: i, event: 'booted' });
    expect(st.history).toHaveLength(HISTORY_MAX);
    expect(st.history[0]?.at).toBe(10);
  });
});
