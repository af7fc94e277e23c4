/**
 * Sim A/B slots: `slot-A.img` and `slot-B.img` in the sim directory, each limited to a
 * configured capacity (nothing is preallocated; a slot file is exactly as long as the image
 * it holds, an empty file is an empty/invalid slot). The writer streams sequentially with a
 * bounded coalescing buffer, refuses to grow past the capacity (SLOT_TOO_SMALL), maps ENOSPC
 * to SLOT_NO_SPACE, and never opens the running slot (SLOT_RUNNING).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../../agent/errors.ts';
import type { SlotName, SlotWriter, Slots } from '../types.ts';

export function slotPath(dir: string, slot: SlotName): string {
  return join(dir, `slot-${slot}.img`);
}

/** Write size of the coalescing buffer; also the writer's memory bound. */
const WRITE_BUFFER = 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

function ioError(e: unknown, slot: SlotName, what: string): AgentError {
  const sys = (e as { code?: unknown } | null)?.code;
  if (sys === 'ENOSPC') return new AgentError('SLOT_NO_SPACE', `no space left while ${what} slot ${slot}`, { slot, cause: 'ENOSPC' }, { cause: e });
  return new AgentError('SLOT_IO', `I/O error while ${what} slot ${slot}: ${e instanceof Error ? e.message : String(e)}`, {
    slot,
    cause: typeof sys === 'string' ? sys : undefined,
  }, { cause: e });
}

class SimSlotWriter implements SlotWriter {
  private readonly fh: FileHandle;
  private readonly path: string;
  private readonly slot: SlotName;
  private readonly capacity: number;
  private buf: Buffer = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  private written = 0;
  private state: 'open' | 'committed' | 'aborted' | 'failed' = 'open';

  constructor(fh: FileHandle, path: string, slot: SlotName, capacity: number) {
    this.fh = fh;
    this.path = path;
    this.slot = slot;
    this.capacity = capacity;
  }

  /** Bytes accepted so far (buffered or on disk). */
  get bytes(): number {
    return this.written + this.used;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.state !== 'open') throw new AgentError('SLOT_WRITER_CLOSED', `slot ${this.slot} writer is ${this.state}`, { slot: this.slot });
    if (this.bytes + chunk.byteLength > this.capacity) {
      this.state = 'failed';
      throw new AgentError('SLOT_TOO_SMALL', `image outgrows slot ${this.slot} (${this.capacity} bytes)`, {
        slot: this.slot,
        capacity: this.capacity,
        bytes: this.bytes + chunk.byteLength,
      });
    }
    let off = 0;
    while (off < chunk.byteLength) {
      const n = Math.min(chunk.byteLength - off, WRITE_BUFFER - this.used);
      this.buf.set(chunk.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === WRITE_BUFFER) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    let off = 0;
    try {
      while (off < this.used) {
        const { bytesWritten } = await this.fh.write(this.buf, off, this.used - off, this.written + off);
        off += bytesWritten;
      }
    } catch (e) {
      this.state = 'failed';
      throw ioError(e, this.slot, 'writing');
    }
    this.written += this.used;
    this.used = 0;
  }

  async commit(): Promise<{ bytes: number }> {
    if (this.state !== 'open') throw new AgentError('SLOT_WRITER_CLOSED', `slot ${this.slot} writer is ${this.state}`, { slot: this.slot });
    await this.flush();
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
    return { bytes: this.written };
  }

  async abort(): Promise<void> {
    if (this.state === 'aborted') return;
    const wasCommitted = this.state === 'committed';
    this.state = 'aborted';
    this.buf = Buffer.alloc(0);
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
