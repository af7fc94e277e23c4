/**
 * A U-Boot environment on files or block devices (I/O around env-format.ts): one copy, or
 * two copies (redundant environment) like libubootenv's fw_env.config with two lines.
 *
 * - read(): the current valid copy's variables, or null when no copy is valid.
 * - update(): writes the whole new environment into the copy that is NOT current, with the
 *   flags counter + 1, then fsyncs it. A power cut during the write leaves the current copy
 *   as it was (the half-written one fails its CRC), so the environment is never lost.
 *   With a single copy the write goes in place (no such guarantee: use two).
 * A missing file is created at the block size (the env on a FAT partition is a file).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentError } from '../../agent/errors.ts';
import { fsyncDir } from '../../agent/util/atomic-file.ts';
import { currentCopy, decodeEnv, encodeEnv, DEFAULT_ENV_SIZE, type DecodedCopy, type EnvVars } from './env-format.ts';

export interface EnvCopyLocation {
  /** file or block device */
  path: string;
  /** byte offset inside `path` (0 for a file) */
  offset?: number;
}

export interface EnvStoreOptions {
  /** one or two copies (two = redundant environment) */
  copies: readonly EnvCopyLocation[];
  /** size of one copy in bytes (fw_env.config's third column) */
  size?: number;
}

export interface EnvSnapshot {
  vars: Record<string, string>;
  /** index of the copy read (0 or 1) */
  copy: 0 | 1;
  flags: number;
}

function ioError(e: unknown, path: string, what: string): AgentError {
  const sys = (e as { code?: unknown } | null)?.code;
  return new AgentError('UBOOT_ENV_IO', `cannot ${what} the U-Boot environment at ${path}: ${e instanceof Error ? e.message : String(e)}`, {
    path,
    cause: typeof sys === 'string' ? sys : undefined,
  }, { cause: e });
}

export class UBootEnvStore {
  readonly copies: readonly EnvCopyLocation[];
  readonly size: number;
  readonly redundant: boolean;

  constructor(opts: EnvStoreOptions) {
    if (opts.copies.length < 1 || opts.copies.length > 2) {
      throw new AgentError('CONFIG_INVALID', `a U-Boot environment has one or two copies, not ${opts.copies.length}`);
    }
    this.copies = opts.copies;
    this.size = opts.size ?? DEFAULT_ENV_SIZE;
    this.redundant = opts.copies.length === 2;
    if (!Number.isSafeInteger(this.size) || this.size < 16) throw new AgentError('CONFIG_INVALID', `invalid U-Boot environment size ${this.size}`);
  }

  private async readCopy(loc: EnvCopyLocation): Promise<DecodedCopy | null> {
    let fh: FileHandle;
    try {
      fh = await open(loc.path, 'r');
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') return null;
      throw ioError(e, loc.path, 'open');
    }
    try {
      const buf = Buffer.alloc(this.size);
      let got = 0;
      while (got < this.size) {
        const { bytesRead } = await fh.read(buf, got, this.size - got, (loc.offset ?? 0) + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === this.size ? decodeEnv(buf, { redundant: this.redundant }) : null;
    } catch (e) {
      throw ioError(e, loc.path, 'read');
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** The current environment; null when no copy is valid (missing, short or bad CRC). */
  async read(): Promise<EnvSnapshot | null> {
    const a = await this.readCopy(this.copies[0] as EnvCopyLocation);
    const b = this.redundant ? await this.readCopy(this.copies[1] as EnvCopyLocation) : null;
    const i = currentCopy(a, b);
    if (i === null) return null;
    const c = (i === 0 ? a : b) as DecodedCopy;
    return { vars: c.vars, copy: i, flags: c.flags };
  }

  /**
   * Replaces the environment with `vars` (the complete set), written to the non-current
   * copy. Returns the copy written.
   */
  async write(vars: EnvVars, current: EnvSnapshot | null): Promise<0 | 1> {
    const target: 0 | 1 = this.redundant && current?.copy === 0 ? 1 : 0;
    const flags = current ? (current.flags + 1) & 0xff : 1;
    const block = encodeEnv(vars, { size: this.size, redundant: this.redundant, flags });
    const loc = this.copies[target] as EnvCopyLocation;
    let fh: FileHandle;
    let created = false;
    try {
      try {
        fh = await open(loc.path, 'r+');
      } catch (e) {
        if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
        fh = await open(loc.path, 'wx');
        created = true;
      }
    } catch (e) {
      throw ioError(e, loc.path, 'open for writing');
    }
    try {
      let off = 0;
      while (off < block.length) {
        const { bytesWritten } = await fh.write(block, off, block.length - off, (loc.offset ?? 0) + off);
        off += bytesWritten;
      }
      await fh.sync();
    } catch (e) {
      const sys = (e as { code?: unknown }).code;
      if (sys === 'ENOSPC') throw new AgentError('SLOT_NO_SPACE', `no space left writing the U-Boot environment at ${loc.path}`, { path: loc.path }, { cause: e });
      throw ioError(e, loc.path, 'write');
    } finally {
      await fh.close().catch(() => undefined);
    }
    if (created) await fsyncDir(dirname(loc.path)).catch(() => undefined);
    return target;
  }

  /**
   * Read-modify-write: `change` gets the current variables (or `defaults` when no copy is
   * valid) and returns the new set, or null for "no change" (nothing is written).
   */
  async update(defaults: EnvVars, change: (vars: Record<string, string>) => Record<string, string> | null): Promise<boolean> {
    const cur = await this.read();
    const next = change({ ...(cur ? cur.vars : defaults) });
    if (next === null) return false;
    await this.write(next, cur);
    return true;
  }
}
