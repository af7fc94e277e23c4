/**
 * Configuration file of option 43 (sub-options 7 = file name, 8 = MD5): fetched with any
 * Fetcher into a temporary file under the state directory while MD5/SHA-256 are computed,
 * verified, fsynced, renamed over the stored config (atomic), then applied through a hook
 * (a configured command run with the file path as its last argument; none by default).
 *
 *   STATE/config/current        the applied configuration (fixed local name; the remote
 *   STATE/config/current.json   name is only recorded, never used as a path)
 *   STATE/config/previous       the one before, restored when the apply hook fails
 *
 * An MD5 mismatch, an oversized file, a transfer error or a full disk leaves the stored
 * configuration untouched. A file whose MD5 equals the stored one is not fetched again.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { fsyncDir, tempPathFor, writeFileAtomic } from '../util/atomic-file.ts';
import { HashingSink, isMd5Hex } from '../transfer/hashing-sink.ts';
import type { Fetcher, TransferRequest } from '../transfer/types.ts';
import { inProcessDigester, type StreamDigester } from '../transfer/digest-child.ts';

export const DEFAULT_CONFIG_MAX_BYTES = 16 * 1024 * 1024;

export interface ConfigFileRequest {
  fetcher: Fetcher;
  request: TransferRequest;
  /** expected MD5 (sub-option 8) */
  md5: string;
  stateDir: string;
  /** argv of the apply hook; the stored file's path is appended. Undefined: store only. */
  applyCommand?: string[];
  applyTimeoutMs?: number;
  maxBytes?: number;
  log?: Logger;
  now?: () => number;
  signal?: AbortSignal;
  /** how the stored file is hashed (the daemon: in a child process); default in-process */
  digest?: StreamDigester;
}

export interface StoredConfig {
  /** remote file name it came from */
  file: string;
  md5: string;
  sha256: string;
  bytes: number;
  /** ISO time it was stored */
  storedAt: string;
}

export interface ConfigFileResult extends StoredConfig {
  path: string;
  /** false when the stored file already had this MD5 (nothing fetched) */
  changed: boolean;
  /** the hook ran and succeeded */
  applied: boolean;
}

export function configPaths(stateDir: string): { dir: string; current: string; meta: string; previous: string } {
  const dir = join(stateDir, 'config');
  return { dir, current: join(dir, 'current'), meta: join(dir, 'current.json'), previous: join(dir, 'previous') };
}

/** The stored configuration's record, or undefined when there is none (or it is unreadable). */
export async function readStoredConfig(stateDir: string): Promise<StoredConfig | undefined> {
  try {
    const m = JSON.parse(await readFile(configPaths(stateDir).meta, 'utf8')) as Partial<StoredConfig>;
    if (typeof m.md5 === 'string' && typeof m.file === 'string' && typeof m.bytes === 'number' && typeof m.sha256 === 'string' && typeof m.storedAt === 'string') {
      return { file: m.file, md5: m.md5, sha256: m.sha256, bytes: m.bytes, storedAt: m.storedAt };
    }
  } catch {
    /* none */
  }
  return undefined;
}

function runHook(argv: string[], path: string, timeoutMs: number): Promise<void> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.resolve();
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args, path], { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) {
        const e = new AgentError('UPGRADE_CONFIG_APPLY_FAILED', `config apply hook ${cmd} failed: ${(stderr || err.message).trim().slice(0, 400)}`, {
          command: cmd,
          exitCode: typeof err.code === 'number' ? err.code : null,
        });
        reject(e);
      } else resolve();
    });
  });
}

function fsError(e: unknown, what: string): AgentError {
  if (e instanceof AgentError) return e;
  const sys = (e as { code?: unknown } | null)?.code;
  return new AgentError(sys === 'ENOSPC' ? 'UPGRADE_CONFIG_NO_SPACE' : 'UPGRADE_CONFIG_WRITE', `${what}: ${e instanceof Error ? e.message : String(e)}`, {
    cause: typeof sys === 'string' ? sys : undefined,
  }, { cause: e });
}

export async function fetchConfigFile(req: ConfigFileRequest): Promise<ConfigFileResult> {
  const log = req.log ?? silentLogger();
  const now = req.now ?? Date.now;
  const expected = req.md5.trim().toLowerCase();
  const maxBytes = req.maxBytes ?? DEFAULT_CONFIG_MAX_BYTES;
  const file = req.request.file;
  if (!isMd5Hex(expected)) throw new AgentError('UPGRADE_MD5_INVALID', `config MD5 is not 32 hex digits: ${JSON.stringify(req.md5.slice(0, 40))}`);
  const paths = configPaths(req.stateDir);

  const stored = await readStoredConfig(req.stateDir);
  if (stored && stored.md5 === expected && (await fileMd5(paths.current, req.digest ?? inProcessDigester)) === expected) {
    log.info({ file, md5: expected }, 'config: stored configuration already has this MD5; not fetched');
    return { ...stored, path: paths.current, changed: false, applied: false };
  }

  try {
    await mkdir(paths.dir, { recursive: true });
  } catch (e) {
    throw fsError(e, `cannot create ${paths.dir}`);
  }
  const tmp = tempPathFor(paths.current);
  let fh: FileHandle | undefined;
  let kept = false;
  try {
    fh = await open(tmp, 'w', 0o600).catch((e: unknown) => {
      throw fsError(e, `cannot create ${tmp}`);
    });
    const out = fh;
    let pos = 0;
    const sink = new HashingSink({
      write: async (chunk) => {
        if (pos + chunk.byteLength > maxBytes) {
          throw new AgentError('UPGRADE_CONFIG_TOO_LARGE', `config file ${file} exceeds ${maxBytes} bytes`, { file, maxBytes });
        }
        try {
          let off = 0;
          while (off < chunk.byteLength) off += (await out.write(chunk, off, chunk.byteLength - off, pos + off)).bytesWritten;
        } catch (e) {
          throw fsError(e, `cannot write ${tmp}`);
        }
        pos += chunk.byteLength;
      },
    });
    await req.fetcher(req.request, sink, {
      signal: req.signal,
      onSize: (total) => {
        if (total > maxBytes) throw new AgentError('UPGRADE_CONFIG_TOO_LARGE', `config file ${file} is ${total} bytes, limit ${maxBytes}`, { file, bytes: total, maxBytes });
      },
    });
    // Stopping or rebooting: nothing is stored or applied, even if the fetcher finished.
    if (req.signal?.aborted) {
      throw req.signal.reason instanceof AgentError ? req.signal.reason : new AgentError('UPGRADE_ABORTED', `config file ${file}: aborted`, { file });
    }
    const d = sink.digest();
    if (d.md5 !== expected) {
      throw new AgentError('UPGRADE_CONFIG_MD5_MISMATCH', `config file ${file}: MD5 ${d.md5}, expected ${expected}`, { file, expected, actual: d.md5, bytes: d.bytes });
    }
    try {
      await out.sync();
      await out.close();
      fh = undefined;
      // Keep the previous configuration for a failed apply (hard link: no copy, atomic).
      await unlink(paths.previous).catch(() => undefined);
      if (stored) await link(paths.current, paths.previous).catch(() => undefined);
      await rename(tmp, paths.current);
      kept = true;
      await fsyncDir(paths.dir);
    } catch (e) {
      throw fsError(e, `cannot store ${paths.current}`);
    }
    const record: StoredConfig = { file, md5: d.md5, sha256: d.sha256, bytes: d.bytes, storedAt: new Date(now()).toISOString() };
    await writeFileAtomic(paths.meta, JSON.stringify(record, null, 2) + '\n', { code: 'UPGRADE_CONFIG_WRITE', noSpaceCode: 'UPGRADE_CONFIG_NO_SPACE' });
    log.info({ file, md5: d.md5, bytes: d.bytes }, `config: ${file} verified and stored`);

    if (!req.applyCommand?.length) return { ...record, path: paths.current, changed: true, applied: false };
    try {
      await runHook(req.applyCommand, paths.current, req.applyTimeoutMs ?? 60_000);
    } catch (e) {
      await restorePrevious(paths, stored, log);
      throw e;
    }
    log.info({ file, command: req.applyCommand[0] }, 'config: applied');
    return { ...record, path: paths.current, changed: true, applied: true };
  } finally {
    await fh?.close().catch(() => undefined);
    if (!kept) await unlink(tmp).catch(() => undefined);
  }
}

async function fileMd5(path: string, digest: StreamDigester): Promise<string | undefined> {
  try {
    return (await digest(() => createReadStream(path))).md5;
  } catch {
    return undefined;
  }
}

async function restorePrevious(paths: ReturnType<typeof configPaths>, stored: StoredConfig | undefined, log: Logger): Promise<void> {
  try {
    if (stored) {
      await rename(paths.previous, paths.current);
      await writeFileAtomic(paths.meta, JSON.stringify(stored, null, 2) + '\n', { code: 'UPGRADE_CONFIG_WRITE' });
    } else {
      await unlink(paths.meta).catch(() => undefined);
      await unlink(paths.current);
    }
    await fsyncDir(paths.dir);
    log.warn({ restored: stored?.md5 ?? null }, 'config: apply failed; previous configuration restored');
  } catch (e) {
    log.error({ error: e instanceof Error ? e.message : String(e) }, 'config: apply failed and the previous configuration could not be restored');
  }
}
