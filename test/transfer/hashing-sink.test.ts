import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { HashingSink, Md5Sink, digestStream } from '../../agent/transfer/hashing-sink.ts';

/** A chunk of up to `max` bytes (lengths from fast-check; contents from a cheap fill, not byte by byte). */
const chunk = (max: number): fc.Arbitrary<Uint8Array> => fc.tuple(fc.nat(max), fc.nat(255)).map(([n, b]) => new Uint8Array(n).map((_, i) => (i * 31 + b) & 0xff));

describe('HashingSink', () => {
  it('MD5 and SHA-256 of the stream equal those of the whole, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(chunk(5000), { maxLength: 20, size: 'max' }), async (chunks) => {
        const received: Uint8Array[] = [];
        const sink = new HashingSink({ write: (c) => void received.push(c) });
        for (const c of chunks) await sink.write(c);
        const whole = Buffer.concat(chunks);
        expect(sink.digest()).toEqual({
          bytes: whole.length,
          md5: createHash('md5').update(whole).digest('hex'),
          sha256: createHash('sha256').update(whole).digest('hex'),
        });
        expect(Buffer.concat(received).equals(whole)).toBe(true);
      }),
    );
  });

  it('counts only what the inner sink accepted', async () => {
    const sink = new HashingSink({
      write: (c) => {
        if (c[0] === 0xff) throw new Error('disk full');
      },
    });
    await sink.write(Uint8Array.of(1, 2, 3));
    await expect(sink.write(Uint8Array.of(0xff))).rejects.toThrow('disk full');
    expect(sink.digest()).toMatchObject({ bytes: 3, md5: createHash('md5').update(Uint8Array.of(1, 2, 3)).digest('hex') });
  });

  it('is synchronous over a synchronous inner sink, and the caller may reuse its buffer at once', () => {
    fc.assert(
      fc.property(fc.array(chunk(70_000), { maxLength: 12, size: 'max' }), (chunks) => {
        const sink = new HashingSink({ write: () => undefined });
        const scratch = new Uint8Array(70_000);
        for (const c of chunks) {
          scratch.set(c);
          expect(sink.write(scratch.subarray(0, c.length))).toBeUndefined();
          scratch.fill(0xa5); // the fetcher reuses its buffer before any microtask ran
        }
        const whole = Buffer.concat(chunks);
        expect(sink.digest()).toEqual({
          bytes: whole.length,
          md5: createHash('md5').update(whole).digest('hex'),
          sha256: createHash('sha256').update(whole).digest('hex'),
        });
      }),
    );
  });

  it('returns a promise only when the inner sink does, and counts the chunk once it settled', async () => {
    let release: () => void = () => undefined;
    const sink = new HashingSink({ write: () => new Promise<void>((r) => (release = r)) });
    const p = sink.write(Uint8Array.of(1, 2, 3));
    expect(p).toBeInstanceOf(Promise);
    expect(sink.bytes).toBe(0);
    release();
    await p;
    expect(sink.bytes).toBe(3);
  });

  it('Md5Sink: the same staging, MD5 only, for any chunking (chunks of both sides of the staging size)', () => {
    fc.assert(
      fc.property(fc.array(chunk(70_000), { maxLength: 12, size: 'max' }), (chunks) => {
        const received: Uint8Array[] = [];
        const sink = new Md5Sink({ write: (c) => void received.push(Uint8Array.from(c)) });
        for (const c of chunks) expect(sink.write(c)).toBeUndefined();
        const whole = Buffer.concat(chunks);
        expect(sink.digest()).toEqual({ bytes: whole.length, md5: createHash('md5').update(whole).digest('hex') });
        expect(Buffer.concat(received).equals(whole)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('Md5Sink: write after digest() is rejected, digest() is idempotent', async () => {
    const sink = new Md5Sink();
    await sink.write(Uint8Array.of(1, 2));
    const d = sink.digest();
    expect(sink.digest()).toBe(d);
    await expect(sink.write(Uint8Array.of(1))).rejects.toThrow('Md5Sink: write after digest');
  });

  it('write after digest() is a rejected promise, not a throw', async () => {
    const sink = new HashingSink();
    sink.digest();
    await expect(sink.write(Uint8Array.of(1))).rejects.toThrow('write after digest');
  });

  it('known vector: MD5 of the empty stream', async () => {
    async function* none(): AsyncIterable<Uint8Array> {}
    expect((await digestStream(none())).md5).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });
});
