import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { OffloadedHashingSink } from '../../agent/transfer/hash-worker.ts';

const digests = (b: Uint8Array): { md5: string; sha256: string } => ({
  md5: createHash('md5').update(b).digest('hex'),
  sha256: createHash('sha256').update(b).digest('hex'),
});

describe('OffloadedHashingSink', () => {
  it('equals the in-thread digests for any chunking, across batch boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 700_000 }), { maxLength: 8 }), async (sizes) => {
        const data = randomBytes(sizes.reduce((a, b) => a + b, 0));
        const got: Buffer[] = [];
        const sink = new OffloadedHashingSink({ write: (c) => void got.push(Buffer.from(c)) }, { maxInFlight: 1024 * 1024 });
        let off = 0;
        for (const n of sizes) {
          await sink.write(data.subarray(off, off + n));
          off += n;
        }
        expect(await sink.digest()).toEqual({ bytes: data.length, ...digests(data) });
        expect(Buffer.concat(got).equals(data)).toBe(true);
      }),
      { numRuns: 10 },
    );
  });

  it('handles tens of MiB with bounded queueing and does not alter the caller’s buffers', async () => {
    const chunk = randomBytes(65536);
    const copy = Buffer.from(chunk);
    const sink = new OffloadedHashingSink();
    const whole = createHash('md5');
    for (let i = 0; i < 400; i++) {
      await sink.write(chunk);
      whole.update(chunk);
    }
    expect(chunk.equals(copy)).toBe(true);
    expect((await sink.digest()).md5).toBe(whole.digest('hex'));
  });

  it('takes a block synchronously while the queue has room; the caller may reuse its buffer', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const sink = new OffloadedHashingSink(undefined, { maxInFlight: 1024 * 1024 });
    const scratch = new Uint8Array(8192);
    let syncWrites = 0;
    for (let off = 0; off < data.length; off += 8192) {
      const n = Math.min(8192, data.length - off);
      scratch.set(data.subarray(off, off + n));
      const r = sink.write(scratch.subarray(0, n));
      if (r === undefined) syncWrites++;
      else await r;
      scratch.fill(0x5a);
    }
    expect(syncWrites).toBeGreaterThan(0);
    expect(await sink.digest()).toEqual({ bytes: data.length, ...digests(data) });
  });

  it('an inner sink error propagates and close() ends the worker', async () => {
    const sink = new OffloadedHashingSink({
      write: () => {
        throw new Error('ENOSPC');
      },
    });
    await expect(sink.write(new Uint8Array(10))).rejects.toThrow('ENOSPC');
    await sink.close();
    await sink.close();
  });
});
