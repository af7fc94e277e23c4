/**
 * Status I/O: the daemon's runtime file (`<stateDir>/runtime.json`, phase + progress,
 * replaced atomically, not fsynced: it is volatile by nature) and the reader that builds
 * the status snapshot for `status` from state.json + runtime.json.
 */
import { readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readStateFile } from '../state/store.ts';
import { buildStatus, unknownStatus, type RuntimeStatus, type StatusSnapshot } from './model.ts';

export const RUNTIME_FILE = 'runtime.json';

const runtimeSchema = z.object({
  pid: z.number().int().positive(),
  startedAt: z.number(),
  updatedAt: z.number(),
  phase: z.enum(['starting', 'waiting-for-lease', 'deciding', 'downloading', 'staging', 'idle', 'waiting', 'rebooting', 'stopped']),
  progress: z.object({ file: z.string(), bytes: z.number(), total: z.number().nullable(), rate: z.number() }).nullable(),
  lease: z.object({ address: z.string(), serverId: z.string(), acquiredAt: z.number(), leaseSeconds: z.number() }).nullable(),
});

export async function writeRuntime(stateDir: string, rt: RuntimeStatus): Promise<void> {
  const path = join(stateDir, RUNTIME_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(rt) + '\n');
  await rename(tmp, path);
}

export async function removeRuntime(stateDir: string): Promise<void> {
  await unlink(join(stateDir, RUNTIME_FILE)).catch(() => undefined);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The runtime status of a live daemon, or null (none, stale, unreadable). */
export async function readRuntime(stateDir: string): Promise<RuntimeStatus | null> {
  let text: string;
  try {
    text = await readFile(join(stateDir, RUNTIME_FILE), 'utf8');
  } catch {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const r = runtimeSchema.safeParse(json);
  if (!r.success || r.data.phase === 'stopped' || !pidAlive(r.data.pid)) return null;
  return r.data;
}

export type StatusRead = { kind: 'ok'; status: StatusSnapshot } | { kind: 'missing'; status: StatusSnapshot } | { kind: 'invalid'; reason: string; status: StatusSnapshot };

/** Read-only: never moves or rewrites anything (the daemon handles a corrupt file). */
export async function readStatus(stateDir: string): Promise<StatusRead> {
  const [st, rt] = await Promise.all([readStateFile(stateDir), readRuntime(stateDir)]);
  if (st.kind === 'ok') return { kind: 'ok', status: buildStatus(st.state, rt) };
  if (st.kind === 'missing') return { kind: 'missing', status: unknownStatus() };
  return { kind: 'invalid', reason: st.reason, status: unknownStatus() };
}
