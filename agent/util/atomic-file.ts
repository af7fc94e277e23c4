/**
 * Crash-safe file replacement: write a temporary file beside the target, fsync it, rename
 * it over the target, fsync the directory. After a power loss the target holds either the
 * old or the new content, never a mix, never nothing.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AgentError } from '../errors.ts';

/** fsync a directory so a rename/creation inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The temporary name used for `path` (same directory, so rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}

/**
 * Atomically replaces `path` with `data`. On any failure (ENOSPC, EIO …) the previous
 * content of `path` is untouched and the temporary file is removed; the error is rethrown
 * as an AgentError with `code` (ENOSPC gets `noSpaceCode` when given).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  opts: { code?: string; noSpaceCode?: string; mode?: number } = {},
): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const fh = await open(tmp, 'w', opts.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await fsyncDir(dirname(path));
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    const sys = (e as { code?: unknown } | null)?.code;
    const code = sys === 'ENOSPC' && opts.noSpaceCode ? opts.noSpaceCode : (opts.code ?? 'STATE_WRITE_FAILED');
    throw new AgentError(code, `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`, {
      path,
      cause: typeof sys === 'string' ? sys : undefined,
    }, { cause: e });
  }
}
