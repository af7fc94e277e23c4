/**
 * A recording file layer with power cuts, for the storage-level power-cut soak
 * (scripts/qemu/powercut-storage.ts). The agent's real storage code (platform/block/slots.ts,
 * platform/uboot/env-store.ts, boot-env.ts, agent/upgrade/stage.ts) runs unchanged: while a
 * CutDisk is installed, `node:fs/promises` open/stat/readFile/realpath of paths under its
 * prefix (default /cutfs/) are served from memory (module.syncBuiltinESMExports updates the
 * named ESM imports); every other path goes to the real file system.
 *
 * Model (per file, like a block device or a FAT file written in place):
 * - a write lands in the page cache at once (reads see it) and marks its 512-byte sectors dirty;
 * - fh.sync() makes that file's dirty sectors durable (other files stay dirty);
 * - a power cut happens at an operation boundary: every write and every sync is one boundary,
 *   numbered from 0. Cut at boundary k: operations 0..k-1 happened; operation k, if a write, is
 *   interrupted after a random number of its sectors reached the cache; nothing after it runs
 *   (every later call throws PowerCut). Then each dirty sector independently is lost (the
 *   durable bytes stay), written, or torn (a random prefix of the new bytes over the old).
 *   A sector written twice since the last sync holds the newest bytes when "written" (the
 *   intermediate version is not modelled).
 * - `durable()` is what a reboot finds on the disk.
 * Sizes never change (a partition or an env file is not grown or truncated).
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';

export const SECTOR = 512;

export class PowerCut extends Error {
  readonly code = 'POWER_CUT';
  readonly boundary: number;
  constructor(boundary: number) {
    super(`power cut at operation boundary ${boundary}`);
    this.boundary = boundary;
  }
}

export interface OpRecord {
  n: number;
  kind: 'write' | 'sync';
  path: string;
  offset?: number;
  bytes?: number;
}

interface CutFile {
  durable: Buffer;
  cache: Buffer;
  dirty: Set<number>;
}

export interface CutOutcome {
  boundary: number;
  sectorsLost: number;
  sectorsWritten: number;
  sectorsTorn: number;
}

type FsPromises = typeof import('node:fs/promises');

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
}

/** The subset of fs/promises' FileHandle the storage code uses. */
export class CutHandle {
  private readonly disk: CutDisk;
  readonly path: string;
  private readonly writable: boolean;
  constructor(disk: CutDisk, path: string, writable: boolean) {
    this.disk = disk;
    this.path = path;
    this.writable = writable;
  }

  async read(buf: Uint8Array, off: number, len: number, pos: number): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    this.disk.alive();
    const f = this.disk.file(this.path);
    const n = Math.max(0, Math.min(len, f.cache.length - pos));
    if (n > 0) f.cache.copy(buf, off, pos, pos + n);
    return { bytesRead: n, buffer: buf };
  }

  async write(buf: Uint8Array, off = 0, len = buf.byteLength - off, pos = 0): Promise<{ bytesWritten: number; buffer: Uint8Array }> {
    if (!this.writable) throw Object.assign(new Error(`EBADF: ${this.path} not open for writing`), { code: 'EBADF' });
    const n = this.disk.write(this.path, Buffer.from(buf.buffer, buf.byteOffset + off, len), pos);
    return { bytesWritten: n, buffer: buf };
  }

  async sync(): Promise<void> {
    this.disk.sync(this.path);
  }

  async datasync(): Promise<void> {
    this.disk.sync(this.path);
  }

  async close(): Promise<void> {
    /* nothing to release */
  }
}

export class CutDisk {
  readonly prefix: string;
  readonly ops: OpRecord[] = [];
  private readonly files = new Map<string, CutFile>();
  private readonly dirs = new Set<string>();
  private cutAt: number | null = null;
  private cutDone = false;
  private interrupted: Omit<OpRecord, 'n'> | undefined;
  private readonly rand: () => number;

  /** `rand`: [0,1) (seeded), for the fate of interrupted and dirty sectors */
  constructor(rand: () => number, prefix = '/cutfs/') {
    this.rand = rand;
    this.prefix = prefix;
  }

  /** A file (or device) whose content is already durable. */
  addFile(path: string, content: Uint8Array): void {
    const durable = Buffer.from(content);
    this.files.set(path, { durable, cache: Buffer.from(durable), dirty: new Set() });
    this.dirs.add(path.slice(0, path.lastIndexOf('/')) || '/');
  }

  /** Power is cut at operation boundary `n` (see the file comment); null: never. */
  armCut(n: number | null): void {
    this.cutAt = n;
  }

  get isCut(): boolean {
    return this.cutDone;
  }

  /** the operation the cut interrupted */
  pendingOp(): Omit<OpRecord, 'n'> | undefined {
    return this.interrupted;
  }

  /** boundaries passed so far */
  get boundaries(): number {
    return this.ops.length;
  }

  file(path: string): CutFile {
    const f = this.files.get(path);
    if (!f) throw enoent(path);
    return f;
  }

  /** Throws PowerCut once the power is gone. */
  alive(): void {
    if (this.cutDone) throw new PowerCut(this.cutAt ?? -1);
  }

  private boundary(rec: Omit<OpRecord, 'n'>): boolean {
    this.alive();
    const n = this.ops.length;
    if (this.cutAt !== null && n >= this.cutAt) {
      this.cutDone = true;
      this.interrupted = rec;
      return true;
    }
    this.ops.push({ n, ...rec });
    return false;
  }

  write(path: string, data: Buffer, pos: number): number {
    const f = this.file(path);
    const len = Math.max(0, Math.min(data.length, f.cache.length - pos));
    if (len < data.length) throw Object.assign(new Error(`ENOSPC: write past the end of ${path}`), { code: 'ENOSPC' });
    const first = Math.floor(pos / SECTOR);
    const last = Math.floor((pos + len - 1) / SECTOR);
    if (this.boundary({ kind: 'write', path, offset: pos, bytes: len })) {
      // interrupted: a random number of its sectors reached the cache (in order)
      const sectors = last - first + 1;
      const done = Math.floor(this.rand() * (sectors + 1));
      const end = Math.min(pos + len, (first + done) * SECTOR);
      if (end > pos) {
        data.copy(f.cache, pos, 0, end - pos);
        for (let s = first; s < first + done; s++) f.dirty.add(s);
      }
      throw new PowerCut(this.cutAt ?? -1);
    }
    data.copy(f.cache, pos, 0, len);
    for (let s = first; s <= last && len > 0; s++) f.dirty.add(s);
    return len;
  }

  sync(path: string): void {
    if (this.boundary({ kind: 'sync', path })) throw new PowerCut(this.cutAt ?? -1);
    const f = this.files.get(path);
    if (!f) return; // a directory
    for (const s of f.dirty) f.cache.copy(f.durable, s * SECTOR, s * SECTOR, Math.min((s + 1) * SECTOR, f.cache.length));
    f.dirty.clear();
  }

  /** A clean shutdown (sync(2) before reboot(2)): every dirty sector becomes durable. */
  syncAll(): void {
    for (const [p, f] of this.files) if (f.dirty.size > 0) this.sync(p);
  }

  /** After a cut: the fate of every dirty sector, then the durable state is what remains. */
  settle(): CutOutcome {
    const out: CutOutcome = { boundary: this.cutAt ?? -1, sectorsLost: 0, sectorsWritten: 0, sectorsTorn: 0 };
    for (const f of this.files.values()) {
      for (const s of [...f.dirty].sort((a, b) => a - b)) {
        const start = s * SECTOR;
        const end = Math.min(start + SECTOR, f.cache.length);
        const r = this.rand();
        if (r < 1 / 3) {
          out.sectorsLost++;
        } else if (r < 2 / 3) {
          f.cache.copy(f.durable, start, start, end);
          out.sectorsWritten++;
        } else {
          const cut = start + Math.floor(this.rand() * (end - start));
          f.cache.copy(f.durable, start, start, cut);
          out.sectorsTorn++;
        }
      }
      f.dirty.clear();
      f.durable.copy(f.cache);
    }
    return out;
  }

  /** What a reboot finds: the durable content of every file. */
  durable(): Map<string, Buffer> {
    const m = new Map<string, Buffer>();
    for (const [p, f] of this.files) m.set(p, Buffer.from(f.durable));
    return m;
  }

  /** Replaces `node:fs/promises` functions for paths under the prefix; returns the undo. */
  install(): () => void {
    const require = createRequire(import.meta.url);
    const fsp = require('node:fs/promises') as FsPromises;
    const orig = { open: fsp.open, stat: fsp.stat, readFile: fsp.readFile, realpath: fsp.realpath };
    const mine = (p: unknown): p is string => typeof p === 'string' && p.startsWith(this.prefix);
    const patched = fsp as unknown as Record<string, unknown>;
    patched.open = async (p: unknown, flags?: unknown, mode?: unknown): Promise<unknown> => {
      if (!mine(p)) return (orig.open as (...a: unknown[]) => Promise<unknown>)(p, flags, mode);
      this.alive();
      if (this.dirs.has(p.replace(/\/$/, ''))) return new CutHandle(this, p, false);
      if (!this.files.has(p)) throw enoent(p);
      const f = typeof flags === 'string' ? flags : 'r';
      return new CutHandle(this, p, f.includes('+') || f.includes('w') || f.includes('a'));
    };
    patched.stat = async (p: unknown, o?: unknown): Promise<unknown> => {
      if (!mine(p)) return (orig.stat as (...a: unknown[]) => Promise<unknown>)(p, o);
      this.alive();
      const f = this.file(p);
      return { size: f.cache.length, isFile: () => true, isBlockDevice: () => false, isDirectory: () => false };
    };
    patched.readFile = async (p: unknown, o?: unknown): Promise<unknown> => {
      if (!mine(p)) return (orig.readFile as (...a: unknown[]) => Promise<unknown>)(p, o);
      this.alive();
      const b = Buffer.from(this.file(p).cache);
      const enc = typeof o === 'string' ? (o as BufferEncoding) : (o as { encoding?: BufferEncoding } | undefined)?.encoding;
      return enc ? b.toString(enc) : b;
    };
    patched.realpath = async (p: unknown, o?: unknown): Promise<unknown> => {
      if (!mine(p)) return (orig.realpath as (...a: unknown[]) => Promise<unknown>)(p, o);
      return p;
    };
    syncBuiltinESMExports();
    return () => {
      Object.assign(patched, orig);
      syncBuiltinESMExports();
    };
  }
}
