/**
 * A/B slots on block devices (Slots of platform/types.ts): a slot is a partition
 * (/dev/vda2, /dev/vda3) or, in tests, a regular file of fixed size. The image is written
 * raw from offset 0 of the inactive slot, fsynced, and read back by the caller; the running
 * slot is never opened for writing.
 *
 * - capacity: block device → /sys/class/block/<dev>/size × 512 (Node cannot issue
 *   BLKGETSIZE64); regular file → its length (never grown: a slot does not grow).
 * - the guard is called before the first byte is written (the boot env marks the slot not
 *   bootable) and after a commit (the boot env records the image length).
 * - abort zeroes the slot's first MiB (no filesystem, no kernel left to find) and fsyncs;
 *   the slot stays not bootable.
 */
import { open, readFile, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { AgentError } from '../../agent/errors.ts';
import type { SlotName, SlotWriter, Slots } from '../types.ts';

/** Coalesces small network chunks into writes of this size (one buffer, awaited). */
const WRITE_BUFFER = 1024 * 1024;
const READ_CHUNK = 1024 * 1024;
const WIPE_BYTES = 1024 * 1024;

export interface SlotGuard {
  beforeWrite(slot: SlotName): Promise<void>;
  afterCommit(slot: SlotName, bytes: number): Promise<void>;
}

export interface BlockSlotsOptions {
  devices: Readonly<Record<SlotName, string>>;
  /** names the booted slot; it is never opened for writing */
  running: () => Promise<SlotName>;
  guard?: SlotGuard;
  /** sysfs block class directory (tests) */
  sysBlock?: string;
}

function ioError(e: unknown, slot: SlotName, what: string): AgentError {
  if (e instanceof AgentError) return e;
  const sys = (e as { code?: unknown } | null)?.code;
  if (sys === 'ENOSPC') return new AgentError('SLOT_NO_SPACE', `no space left while ${what} slot ${slot}`, { slot, cause: 'ENOSPC' }, { cause: e });
  return new AgentError('SLOT_IO', `I/O error while ${what} slot ${slot}: ${e instanceof Error ? e.message : String(e)}`, {
    slot,
    cause: typeof sys === 'string' ? sys : undefined,
  }, { cause: e });
}

/** Bytes of a block device or regular file. */
export async function deviceSize(path: string, sysBlock = '/sys/class/block'): Promise<number> {
  const st = await stat(path);
  if (st.isFile()) return st.size;
  if (!st.isBlockDevice()) throw new AgentError('SLOT_NOT_A_DEVICE', `${path} is neither a block device nor a regular file`, { path });
  const name = basename(await realpath(path));
  const sectors = (await readFile(`${sysBlock}/${name}/size`, 'utf8')).trim();
  if (!/^\d+$/.test(sectors)) throw new AgentError('SLOT_IO', `${sysBlock}/${name}/size is not a sector count`, { path });
  return Number(sectors) * 512;
}

async function writeAll(fh: FileHandle, b: Buffer, len: number, at: number): Promise<void> {
  let off = 0;
  while (off < len) {
    const { bytesWritten } = await fh.write(b, off, len - off, at + off);
    off += bytesWritten;
  }
}

class BlockSlotWriter implements SlotWriter {
  private buf: Buffer = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  private written = 0;
  private state: 'open' | 'committed' | 'aborted' | 'failed' = 'open';
  private readonly fh: FileHandle;
  private readonly path: string;
  private readonly slot: SlotName;
  private readonly cap: number;
  private readonly guard: SlotGuard | undefined;

  constructor(fh: FileHandle, path: string, slot: SlotName, cap: number, guard: SlotGuard | undefined) {
    this.fh = fh;
    this.path = path;
    this.slot = slot;
    this.cap = cap;
    this.guard = guard;
  }

  get bytes(): number {
    return this.written + this.used;
  }

  private closed(): AgentError {
    return new AgentError('SLOT_WRITER_CLOSED', `slot ${this.slot} writer is ${this.state}`, { slot: this.slot });
  }

  /** Copies into the buffer; returns a promise only when a full buffer goes to the device. */
  write(chunk: Uint8Array): Promise<void> | void {
    if (this.state !== 'open') return Promise.reject(this.closed());
    if (this.bytes + chunk.byteLength > this.cap) {
      this.state = 'failed';
      return Promise.reject(
        new AgentError('SLOT_TOO_SMALL', `image outgrows slot ${this.slot} (${this.cap} bytes)`, { slot: this.slot, capacity: this.cap, bytes: this.bytes + chunk.byteLength }),
      );
    }
    return this.copy(chunk, 0);
  }

  private copy(chunk: Uint8Array, from: number): Promise<void> | void {
    let off = from;
    while (off < chunk.byteLength) {
      const n = Math.min(chunk.byteLength - off, WRITE_BUFFER - this.used);
      this.buf.set(chunk.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === WRITE_BUFFER) {
        const rest = off;
        return this.flush().then(() => this.copy(chunk, rest));
      }
    }
  }

  private async flush(): Promise<void> {
    try {
      await writeAll(this.fh, this.buf, this.used, this.written);
    } catch (e) {
      this.state = 'failed';
      throw ioError(e, this.slot, 'writing');
    }
    this.written += this.used;
    this.used = 0;
  }

  async commit(): Promise<{ bytes: number }> {
    if (this.state !== 'open') throw this.closed();
    await this.flush();
    try {
      await this.fh.sync();
      await this.fh.close();
    } catch (e) {
      this.state = 'failed';
      throw ioError(e, this.slot, 'syncing');
    }
    this.state = 'committed';
    this.buf = Buffer.alloc(0);
    await this.guard?.afterCommit(this.slot, this.written);
    return { bytes: this.written };
  }

  async abort(): Promise<void> {
    if (this.state === 'aborted') return;
    const reopen = this.state === 'committed';
    this.state = 'aborted';
    this.buf = Buffer.alloc(0);
    this.used = 0;
    if (reopen) await this.guard?.beforeWrite(this.slot); // not bootable again
    let fh: FileHandle;
    try {
      fh = reopen ? await open(this.path, 'r+') : this.fh;
    } catch (e) {
      throw ioError(e, this.slot, 'discarding');
    }
    try {
      const zero = Buffer.alloc(Math.min(WIPE_BYTES, this.cap));
      await writeAll(fh, zero, zero.length, 0);
      await fh.sync();
    } catch (e) {
      throw ioError(e, this.slot, 'discarding');
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}

export class BlockSlots implements Slots {
  readonly devices: Readonly<Record<SlotName, string>>;
  private readonly running: () => Promise<SlotName>;
  private readonly guard: SlotGuard | undefined;
  private readonly sysBlock: string | undefined;

  constructor(opts: BlockSlotsOptions) {
    if (opts.devices.A === opts.devices.B) throw new AgentError('CONFIG_INVALID', `slots A and B are the same device ${opts.devices.A}`);
    this.devices = opts.devices;
    this.running = opts.running;
    this.guard = opts.guard;
    this.sysBlock = opts.sysBlock;
  }

  async capacity(slot: SlotName): Promise<number> {
    try {
      return await deviceSize(this.devices[slot], this.sysBlock);
    } catch (e) {
      throw ioError(e, slot, 'sizing');
    }
  }

  async openWriter(slot: SlotName): Promise<SlotWriter & { readonly bytes: number }> {
    if ((await this.running()) === slot) {
      throw new AgentError('SLOT_RUNNING', `refusing to write slot ${slot}: it is the running slot`, { slot });
    }
    const cap = await this.capacity(slot);
    await this.guard?.beforeWrite(slot);
    let fh: FileHandle;
    try {
      // r+: a partition cannot be created or truncated; a test file keeps its length.
      fh = await open(this.devices[slot], 'r+');
    } catch (e) {
      throw ioError(e, slot, 'opening');
    }
    return new BlockSlotWriter(fh, this.devices[slot], slot, cap, this.guard);
  }

  /** Reads through one reused buffer: a yielded chunk is valid until the next is requested. */
  async *read(slot: SlotName, length: number): AsyncIterable<Uint8Array> {
    let fh: FileHandle;
    try {
      fh = await open(this.devices[slot], 'r');
    } catch (e) {
      throw ioError(e, slot, 'reading');
    }
    try {
      let pos = 0;
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(length, 1)));
      while (pos < length) {
        let r: { bytesRead: number };
        try {
          r = await fh.read(buf, 0, Math.min(buf.length, length - pos), pos);
        } catch (e) {
          throw ioError(e, slot, 'reading');
        }
        if (r.bytesRead === 0) {
          throw new AgentError('SLOT_SHORT_READ', `slot ${slot} holds ${pos} bytes, expected ${length}`, { slot, bytes: pos, expected: length });
        }
        pos += r.bytesRead;
        yield buf.subarray(0, r.bytesRead);
      }
    } finally {
      await fh.close();
    }
  }
}
