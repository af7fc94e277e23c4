/**
 * ByteSinks that hash everything passing through them, in order, and forward each chunk to
 * an inner sink (a slot writer, or nothing): `Md5Sink` (the stream check of an image: MD5
 * is what option 43 announces) and `HashingSink` (MD5 + SHA-256: read-backs and
 * configuration files, where the SHA-256 is recorded). A chunk is
 * counted and hashed only after the inner sink accepted it, so `bytes`/digests always
 * describe exactly what the inner sink holds.
 *
 * Hot-path shape (lock-step TFTP acknowledges a block as soon as `write` returns):
 * - `write` is synchronous when the inner sink is (returns void), so a fetcher can answer
 *   without a promise or microtask hop; it returns a promise only when the inner sink does.
 * - A small chunk is copied into a bounded staging buffer; once 8 KiB are staged they are
 *   hashed in a microtask, i.e. right after the caller's synchronous work (the TFTP ACK)
 *   instead of before it, so hashing can overlap the next network round trip. Large chunks (FTP reads) are hashed in place, in
 *   one update per algorithm. Memory: one STAGE-sized buffer, whatever the stream length.
 */
import type { Hash } from 'node:crypto';
import { nodeCrypto } from '../util/crypto.ts';
import type { ByteSink } from './types.ts';

export interface Md5Digest {
  bytes: number;
  /** lowercase hex */
  md5: string;
}

export interface Digests extends Md5Digest {
  /** lowercase hex */
  sha256: string;
}

/** Chunks below this are staged and hashed after the caller's turn; larger ones in place. */
const STAGE = 64 * 1024;
/**
 * Staged bytes are hashed (in a microtask) once at least this many are waiting: a TFTP
 * block of 8 KiB is hashed right after its ACK, 1468-byte blocks six at a time (fewer,
 * larger hash updates). `digest()` hashes whatever is left.
 */
const FLUSH_AT = 8 * 1024;

function isThenable(v: unknown): v is PromiseLike<void> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Staging, forwarding and the final digest shared by both sinks; `sha256` null = MD5 only.
 * `digest()` hashes what is left, seals the sink and returns `finish()`'s result (idempotent).
 */
abstract class StagedHashSink<D extends Md5Digest> implements ByteSink {
  /** for error messages (not constructor.name: the device bundle is minified) */
  protected abstract readonly kind: string;
  private readonly inner: ByteSink | undefined;
  protected readonly md5: Hash = nodeCrypto().createHash('md5');
  private readonly sha256: Hash | null;
  private readonly stage: Uint8Array = new Uint8Array(STAGE);
  private staged = 0;
  private flushQueued = false;
  private count = 0;
  private finished: D | undefined;
  private readonly flushTask = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  constructor(inner: ByteSink | undefined, sha256: Hash | null) {
    this.inner = inner;
    this.sha256 = sha256;
  }

  /** Bytes accepted so far. */
  get bytes(): number {
    return this.count;
  }

  write(chunk: Uint8Array): Promise<void> | void {
    if (this.finished) return Promise.reject(new Error(`${this.kind}: write after digest()`));
    let pending: Promise<void> | void;
    try {
      pending = this.inner?.write(chunk);
    } catch (e) {
      return Promise.reject(e);
    }
    if (isThenable(pending)) return Promise.resolve(pending).then(() => this.take(chunk));
    this.take(chunk);
  }

  private take(chunk: Uint8Array): void {
    const n = chunk.byteLength;
    this.count += n;
    if (n >= STAGE) {
      this.flush();
      this.md5.update(chunk);
      this.sha256?.update(chunk);
      return;
    }
    if (this.staged + n > STAGE) this.flush();
    this.stage.set(chunk, this.staged);
    this.staged += n;
    if (this.staged >= FLUSH_AT && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushTask);
    }
  }

  private flush(): void {
    if (this.staged === 0) return;
    const b = this.stage.subarray(0, this.staged);
    this.md5.update(b);
    this.sha256?.update(b);
    this.staged = 0;
  }

  /** The digests of everything written, computed once (called after the last flush). */
  protected abstract finish(): D;

  /** Final digest(s); the sink accepts no more data afterwards. Idempotent. */
  digest(): D {
    if (!this.finished) {
      this.flush();
      this.finished = this.finish();
    }
    return this.finished;
  }
}

/** MD5 only: the stream check of an image (stage() records the SHA-256 on the read-back). */
export class Md5Sink extends StagedHashSink<Md5Digest> {
  protected readonly kind = 'Md5Sink';
  constructor(inner?: ByteSink) {
    super(inner, null);
  }

  protected finish(): Md5Digest {
    return { bytes: this.bytes, md5: this.md5.digest('hex') };
  }
}

/** MD5 and SHA-256. */
export class HashingSink extends StagedHashSink<Digests> {
  protected readonly kind = 'HashingSink';
  private readonly sha: Hash;

  constructor(inner?: ByteSink) {
    const sha = nodeCrypto().createHash('sha256');
    super(inner, sha);
    this.sha = sha;
  }

  protected finish(): Digests {
    return { bytes: this.bytes, md5: this.md5.digest('hex'), sha256: this.sha.digest('hex') };
  }
}

/** MD5 (+ SHA-256) of an async byte stream, e.g. a slot read back. */
export async function digestStream(stream: AsyncIterable<Uint8Array>): Promise<Digests> {
  const h = new HashingSink();
  for await (const chunk of stream) await h.write(chunk);
  return h.digest();
}

/** 32 lowercase hex digits? */
export function isMd5Hex(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(s);
}

/** 64 lowercase hex digits? */
export function isSha256Hex(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}
