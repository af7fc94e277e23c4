/**
 * Status I/O: the daemon's runtime file (`<stateDir>/runtime.json`, phase + progress,
 * replaced atomically, not fsynced: it is volatile by nature) and the reader that builds
 * the status snapshot for `status` from state.json + runtime.json.
 */
import { lstat, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '../util/zod.ts';
import { readStateFile } from '../state/store.ts';
import { buildStatus, unknownStatus, type RuntimeStatus, type StaleDaemon, type StatusSnapshot } from './model.ts';

export const RUNTIME_FILE = 'runtime.json';
/** agent/daemon/control.ts's socket name (the status shell does not import the daemon) */
const CONTROL_SOCKET = 'control.sock';

const runtimeSchema = z.object({
  pid: z.int().check(z.positive()),
  startedAt: z.number(),
  updatedAt: z.number(),
  phase: z.enum(['starting', 'waiting-for-lease', 'deciding', 'downloading', 'staging', 'idle', 'waiting', 'rebooting', 'stopped']),
  progress: z.nullable(z.object({ file: z.string(), bytes: z.number(), total: z.nullable(z.number()), rate: z.number() })),
  lease: z.nullable(z.object({ address: z.string(), serverId: z.string(), acquiredAt: z.number(), leaseSeconds: z.number() })),
  trial: z.optional(z.boolean()),
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

/** runtime.json as written, whoever wrote it (undefined: none or unreadable). */
async function readRuntimeFile(stateDir: string): Promise<RuntimeStatus | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, RUNTIME_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = runtimeSchema.safeParse(json);
  return r.success ? r.data : undefined;
}

/** The runtime status of a live daemon, or null (none, stale, unreadable). */
export async function readRuntime(stateDir: string): Promise<RuntimeStatus | null> {
  const rt = await readRuntimeFile(stateDir);
  return rt && rt.phase !== 'stopped' && pidAlive(rt.pid) ? rt : null;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The daemon as the state dir shows it: live (runtime.json of a pid that is alive), or gone
 * without a clean exit (`kill -9`, power cut): its runtime.json and/or control.sock remain.
 */
export async function readDaemon(stateDir: string): Promise<{ live: RuntimeStatus | null; stale: StaleDaemon | null }> {
  const rt = await readRuntimeFile(stateDir);
  if (rt && rt.phase !== 'stopped' && pidAlive(rt.pid)) return { live: rt, stale: null };
  const files: string[] = [];
  if (rt && rt.phase !== 'stopped') files.push(RUNTIME_FILE);
  if (await exists(join(stateDir, CONTROL_SOCKET))) files.push(CONTROL_SOCKET);
  if (files.length === 0) return { live: null, stale: null };
  const seen = rt && rt.phase !== 'stopped' ? rt : undefined;
  return {
    live: null,
    stale: { pid: seen?.pid ?? null, phase: seen?.phase ?? null, updatedAt: seen?.updatedAt ?? null, progress: seen?.progress ?? null, files },
  };
}

export type StatusRead = { kind: 'ok'; status: StatusSnapshot } | { kind: 'missing'; status: StatusSnapshot } | { kind: 'invalid'; reason: string; status: StatusSnapshot };

/** Read-only: never moves or rewrites anything (the daemon handles a corrupt file). */
export async function readStatus(stateDir: string): Promise<StatusRead> {
  const [st, d] = await Promise.all([readStateFile(stateDir), readDaemon(stateDir)]);
  if (st.kind === 'ok') return { kind: 'ok', status: buildStatus(st.state, d.live, { stale: d.stale }) };
  if (st.kind === 'missing') return { kind: 'missing', status: unknownStatus({ kind: 'missing' }, d.stale) };
  return { kind: 'invalid', reason: st.reason, status: unknownStatus({ kind: 'corrupt', reason: st.reason }, d.stale) };
}
