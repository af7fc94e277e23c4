/**
 * A ByteSink that computes MD5 and SHA-256 of everything that passes through it, in
 * order, and forwards each chunk to an inner sink (a slot writer, or nothing). Hashes are
 * updated only after the inner sink accepted the chunk, so `bytes`/digests always describe
 * exactly what the inner sink holds.
 */
import { createHash, type Hash } from 'node:crypto';
import type { ByteSink } from './types.ts';

export interface Digests {
  bytes: number;
  /** lowercase hex */
  md5: string;
  /** lowercase hex */
  sha256: string;
}

export class HashingSink implements ByteSink {
  private readonly inner: ByteSink | undefined;
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');
  private count = 0;
  private finished: Digests | undefined;

  constructor(inner?: ByteSink) {
    this.inner = inner;
  }

  /** Bytes accepted so far. */
  get bytes(): number {
    return this.count;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.finished) throw new Error('HashingSink: write after digest()');
    if (this.inner) await this.inner.write(chunk);
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.count += chunk.byteLength;
  }

  /** Final digests; the sink accepts no more data afterwards. Idempotent. */
  digest(): Digests {
    if (!this.finished) {
      this.finished = { bytes: this.count, md5: this.md5.digest('hex'), sha256: this.sha256.digest('hex') };
    }
    return this.finished;
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
