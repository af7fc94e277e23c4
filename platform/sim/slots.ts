/**
 * Sim A/B slots: `slot-A.img` and `slot-B.img` in the sim directory, each limited to a
 * configured capacity (nothing is preallocated; a slot file is exactly as long as the image
 * it holds, an empty file is an empty/invalid slot). The writer streams sequentially through
 * a bounded write-behind (two buffers), refuses to grow past the capacity (SLOT_TOO_SMALL), maps ENOSPC
 * to SLOT_NO_SPACE, and never opens the running slot (SLOT_RUNNING).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../../agent/errors.ts';
import type { SlotName, SlotWriter, Slots } from '../types.ts';

export function slotPath(dir: string, slot: SlotName): string {
  return join(dir, `slot-${slot}.img`);
}

/**
 * Size of each of the two write-behind buffers: one fills while the other is being written
 * to the file, so a slow fs write does not stall the network. Memory bound: 2 × this.
 */
const WRITE_BUFFER = 512 * 1024;
const READ_CHUNK = 1024 * 1024;

function ioError(e: unknown, slot: SlotName, what: string): AgentError {
  const sys = (e as { code?: unknown } | null)?.code;
  if (sys === 'ENOSPC') return new AgentError('SLOT_NO_SPACE', `no space left while ${what} slot ${slot}`, { slot, cause: 'ENOSPC' }, { cause: e });
  return new AgentError('SLOT_IO', `I/O error while ${what} slot ${slot}: ${e instanceof Error ? e.message : String(e)}`, {
    slot,
    cause: typeof sys === 'string' ? sys : undefined,
  }, { cause: e });
}

/**
 * Sequential slot writer with a bounded write-behind: `write` copies into the filling
 * buffer and returns synchronously; a full buffer is handed to a background file write and
 * the other buffer takes over. Only when both are busy does `write` return a promise (the
 * backpressure). A failed background write (ENOSPC → SLOT_NO_SPACE, else SLOT_IO) fails the
 * writer: the error is thrown by the next `write` or by `commit`. `commit` waits for the
 * write in flight, writes the rest, truncates and fsyncs; `abort` waits for it too, so no
 * write can land after the slot was emptied.
 */
class SimSlotWriter implements SlotWriter {
  private readonly fh: FileHandle;
  private readonly path: string;
  private readonly slot: SlotName;
  private readonly capacity: number;
  private buf: Buffer = Buffer.allocUnsafe(WRITE_BUFFER);
  /** the second buffer, or null while it is being written */
  private spare: Buffer | null = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  /** bytes on disk (file offset of the next background write) */
  private written = 0;
  /** bytes of the background write in flight */
  private flushing = 0;
  private inflight: Promise<void> | null = null;
  private failure: AgentError | null = null;
  private state: 'open' | 'committed' | 'aborted' | 'failed' = 'open';

  constructor(fh: FileHandle, path: string, slot: SlotName, capacity: number) {
    this.fh = fh;
    this.path = path;
    this.slot = slot;
    this.capacity = capacity;
  }

  /** Bytes accepted so far (buffered, being written, or on disk). */
  get bytes(): number {
    return this.written + this.flushing + this.used;
  }

  private closedError(): AgentError {
    return new AgentError('SLOT_WRITER_CLOSED', `slot ${this.slot} writer is ${this.state}`, { slot: this.slot });
  }

  write(chunk: Uint8Array): Promise<void> | void {
    if (this.failure) {
      this.state = 'failed';
      return Promise.reject(this.failure);
    }
    if (this.state !== 'open') return Promise.reject(this.closedError());
    if (this.bytes + chunk.byteLength > this.capacity) {
      this.state = 'failed';
      return Promise.reject(
        new AgentError('SLOT_TOO_SMALL', `image outgrows slot ${this.slot} (${this.capacity} bytes)`, {
          slot: this.slot,
          capacity: this.capacity,
          bytes: this.bytes + chunk.byteLength,
        }),
      );
    }
    return this.copy(chunk, 0);
  }

  /** Copies chunk[from..]; void unless both buffers are busy (then waits and goes on). */
  private copy(chunk: Uint8Array, from: number): Promise<void> | void {
    let off = from;
    while (off < chunk.byteLength) {
      if (this.used === WRITE_BUFFER) {
        if (!this.spare) {
          const rest = off;
          return this.settled().then(() => {
            if (this.failure) {
              this.state = 'failed';
              throw this.failure;
            }
            if (this.state !== 'open') throw this.closedError();
            return this.copy(chunk, rest);
          });
        }
        this.startFlush();
      }
      const n = Math.min(chunk.byteLength - off, WRITE_BUFFER - this.used);
      this.buf.set(chunk.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
    }
  }

  /** Hands the full buffer to a background write; the spare one becomes the filling one. */
  private startFlush(): void {
    const full = this.buf;
    const len = this.used;
    const at = this.written;
    this.buf = this.spare ?? Buffer.allocUnsafe(WRITE_BUFFER);
    this.spare = null;
    this.used = 0;
    this.flushing = len;
    this.inflight = this.writeAt(full, len, at).then(
      () => {
        this.written += len;
        this.flushing = 0;
        this.spare = full;
        this.inflight = null;
      },
      (e: unknown) => {
        this.failure ??= ioError(e, this.slot, 'writing');
        this.inflight = null;
      },
    );
  }

  private async writeAt(b: Buffer, len: number, at: number): Promise<void> {
    let off = 0;
    while (off < len) {
      const { bytesWritten } = await this.fh.write(b, off, len - off, at + off);
      off += bytesWritten;
    }
  }

  /** Resolves when no background write is in flight (never rejects). */
  private async settled(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  async commit(): Promise<{ bytes: number }> {
    if (this.state !== 'open') throw this.closedError();
    await this.settled();
    if (this.failure) {
      this.state = 'failed';
      throw this.failure;
    }
    try {
      await this.writeAt(this.buf, this.used, this.written);
      this.written += this.used;
      this.used = 0;
    } catch (e) {
      this.state = 'failed';
      throw ioError(e, this.slot, 'writing');
    }
    try {
      await this.fh.truncate(this.written);
      await this.fh.sync();
      await this.fh.close();
    } catch (e) {
      this.state = 'failed';
      throw ioError(e, this.slot, 'syncing');
    }
    this.state = 'committed';
    this.buf = Buffer.alloc(0);
    this.spare = null;
    return { bytes: this.written };
  }

  async abort(): Promise<void> {
    if (this.state === 'aborted') return;
    const wasCommitted = this.state === 'committed';
    this.state = 'aborted';
    // A background write still in flight must not land after the truncation below.
    await this.settled();
    this.buf = Buffer.alloc(0);
    this.spare = null;
    this.used = 0;
    // Discard: truncate to 0 (frees the space; an empty slot is an invalid slot), fsync.
    let fh: FileHandle;
    try {
      fh = wasCommitted ? await open(this.path, 'r+') : this.fh;
    } catch (e) {
      throw ioError(e, this.slot, 'discarding');
    }
    try {
      await fh.truncate(0);
      await fh.sync();
    } catch (e) {
      throw ioError(e, this.slot, 'discarding');
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}

export class SimSlots implements Slots {
  readonly dir: string;
  private readonly cap: number;
  private readonly running: () => Promise<SlotName>;

  /** `running` names the booted slot (from the boot environment); it is never opened for writing. */
  constructor(dir: string, opts: { capacity: number; running: () => Promise<SlotName> }) {
    this.dir = dir;
    this.cap = opts.capacity;
    this.running = opts.running;
  }

  async capacity(_slot: SlotName): Promise<number> {
    return this.cap;
  }

  async openWriter(slot: SlotName): Promise<SlotWriter & { readonly bytes: number }> {
    if ((await this.running()) === slot) {
      throw new AgentError('SLOT_RUNNING', `refusing to write slot ${slot}: it is the running slot`, { slot });
    }
    const path = slotPath(this.dir, slot);
    let fh: FileHandle;
    try {
      // O_TRUNC: the old inactive image is discarded first (and its space freed).
      fh = await open(path, 'w');
    } catch (e) {
      throw ioError(e, slot, 'opening');
    }
    return new SimSlotWriter(fh, path, slot, this.cap);
  }

  /**
   * Reads through one reused 1 MiB buffer (no garbage per chunk): a yielded chunk is valid
   * until the next one is requested; copy it to keep it.
   */
  async *read(slot: SlotName, length: number): AsyncIterable<Uint8Array> {
    let fh: FileHandle;
    try {
      fh = await open(slotPath(this.dir, slot), 'r');
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
