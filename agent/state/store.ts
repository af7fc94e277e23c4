/**
 * The persistent state store: one JSON file, replaced atomically (agent/state/atomic.ts).
 * Loading never throws for bad content: a file that does not parse or validate is moved
 * aside as `state.json.corrupt-<time>` and reported, and the caller rebuilds the state
 * (from the slots). I/O errors of the directory itself are typed STATE_IO errors.
 */
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { AgentError, asAgentError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { persistentStateSchema, type PersistentState } from './schema.ts';
import { emptyState } from './history.ts';

/** Pure helpers, re-exported for the callers of the store. */
export { emptyState, withHistory } from './history.ts';

export const STATE_FILE = 'state.json';

export type LoadResult =
  | { kind: 'ok'; state: PersistentState }
  | { kind: 'missing' }
  | { kind: 'corrupt'; reason: string; movedTo: string };

/** Reads and validates a state file without side effects (used by `status`). */
export async function readStateFile(dir: string): Promise<{ kind: 'ok'; state: PersistentState } | { kind: 'missing' } | { kind: 'invalid'; reason: string }> {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw asAgentError(e, 'STATE_IO', `cannot read ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { kind: 'invalid', reason: `not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  const parsed = persistentStateSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { kind: 'invalid', reason: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'schema mismatch' };
  }
  return { kind: 'ok', state: parsed.data };
}

export class StateStore {
  readonly dir: string;
  readonly path: string;
  private readonly log: Logger;
  private chain: Promise<void> = Promise.resolve();

  constructor(dir: string, log: Logger) {
    this.dir = dir;
    this.path = join(dir, STATE_FILE);
    this.log = log;
  }

  async ensureDir(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw asAgentError(e, 'STATE_IO', `cannot create state directory ${this.dir}`);
    }
  }

  /** Loads the state; a corrupt file is moved aside and reported, never thrown. */
  async load(now: Date = new Date()): Promise<LoadResult> {
    await this.ensureDir();
    const r = await readStateFile(this.dir);
    if (r.kind !== 'invalid') return r;
    const movedTo = `${this.path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
    try {
      await rename(this.path, movedTo);
    } catch (e) {
      throw asAgentError(e, 'STATE_IO', `cannot move corrupt state file aside`);
    }
    this.log.error({ event: 'state.corrupt', reason: r.reason, movedTo }, 'state file is corrupt: kept aside, rebuilding state from the slots');
    return { kind: 'corrupt', reason: r.reason, movedTo };
  }

  /** Validates and writes atomically; saves are serialized in call order. */
  save(state: PersistentState): Promise<void> {
    const checked = persistentStateSchema.safeParse(state);
    if (!checked.success) {
      const first = checked.error.issues[0];
      return Promise.reject(
        new AgentError('STATE_INVALID', `refusing to write an invalid state: ${first ? `${first.path.join('.')}: ${first.message}` : 'schema mismatch'}`),
      );
    }
    const text = `${JSON.stringify(checked.data, null, 2)}\n`;
    const next = this.chain.then(() => writeFileAtomic(this.path, text, { code: 'STATE_IO', noSpaceCode: 'STATE_NO_SPACE', mode: 0o600 }));
    this.chain = next.catch(() => undefined);
    return next;
  }
}
