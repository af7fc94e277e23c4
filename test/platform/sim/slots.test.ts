import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SimSlots, slotPath } from '../../../platform/sim/slots.ts';
import { openSimPlatform } from '../../../platform/sim/index.ts';
import { isAgentError } from '../../../agent/errors.ts';
import type { SlotName } from '../../../platform/types.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpf-slots-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const slots = (capacity: number, running: SlotName = 'A'): SimSlots => new SimSlots(dir, { capacity, running: async () => running });

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('SimSlots', () => {
  it('stores exactly the bytes written, whatever the chunking, and reads them back', async () => {
    // small chunks and large ones (the writer stages 512 KiB buffers, the reader 1 MiB chunks)
    const size = fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 0, max: 4096 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 300_000 }) });
    let overOneMiB = 0;
    let chunks = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(size, { minLength: 1, maxLength: 24, size: 'max' }), async (sizes) => {
        const data = randomBytes(sizes.reduce((a, b) => a + b, 0));
        if (data.length > 1024 * 1024) overOneMiB++;
        chunks += sizes.length;
        const s = slots(8 * 1024 * 1024);
        const w = await s.openWriter('B');
        let off = 0;
        for (const n of sizes) {
          await w.write(data.subarray(off, off + n));
          off += n;
        }
        expect(await w.commit()).toEqual({ bytes: data.length });
        expect((await stat(slotPath(dir, 'B'))).size).toBe(data.length);
        expect((await collect(s.read('B', data.length))).equals(data)).toBe(true);
      }),
      { numRuns: 60 },
    );
    // the runs crossed both staging buffers and the read chunk, in many pieces
    expect(overOneMiB).toBeGreaterThanOrEqual(3); // about 40% of the runs; fewer than 3 of 60 is a broken generator
    expect(chunks).toBeGreaterThan(60 * 8);
  });

  it('replaces a longer previous image completely', async () => {
    await writeFile(slotPath(dir, 'B'), randomBytes(5000));
    const w = await slots(10_000).openWriter('B');
    await w.write(Buffer.from('new'));
    await w.commit();
    expect(await readFile(slotPath(dir, 'B'), 'utf8')).toBe('new');
  });

  it('never opens the running slot', async () => {
    await writeFile(slotPath(dir, 'A'), 'running image');
    await expect(slots(1000, 'A').openWriter('A')).rejects.toSatisfy((e) => isAgentError(e, 'SLOT_RUNNING'));
    expect(await readFile(slotPath(dir, 'A'), 'utf8')).toBe('running image');
  });

  it('refuses to grow past the capacity; abort leaves the slot empty', async () => {
    const w = await slots(1000).openWriter('B');
    await w.write(new Uint8Array(600));
    await expect(w.write(new Uint8Array(401))).rejects.toSatisfy((e) => isAgentError(e, 'SLOT_TOO_SMALL'));
    await w.abort();
    expect((await stat(slotPath(dir, 'B'))).size).toBe(0);
  });

  it('abort after commit discards the committed image', async () => {
    const w = await slots(1000).openWriter('B');
    await w.write(new Uint8Array(500).fill(7));
    await w.commit();
    await w.abort();
    expect((await stat(slotPath(dir, 'B'))).size).toBe(0);
  });

  it('reading more than the slot holds is a typed error', async () => {
    await writeFile(slotPath(dir, 'B'), new Uint8Array(10));
    await expect(collect(slots(1000).read('B', 11))).rejects.toSatisfy((e) => isAgentError(e, 'SLOT_SHORT_READ'));
  });
});

describe('openSimPlatform', () => {
  it('creates the layout without preallocating and keeps existing images', async () => {
    const p = await openSimPlatform(dir, { capacity: 4096 });
    expect(p.capacity).toBe(4096);
    expect((await stat(slotPath(dir, 'A'))).size).toBe(0);
    await writeFile(slotPath(dir, 'A'), 'factory');
    const again = await openSimPlatform(dir);
    expect(again.capacity).toBe(4096);
    expect(await readFile(slotPath(dir, 'A'), 'utf8')).toBe('factory');
    expect(await again.bootEnv.read()).toEqual({ next: 'A', current: 'A', trial: false });
    await expect(again.slots.openWriter('A')).rejects.toSatisfy((e) => isAgentError(e, 'SLOT_RUNNING'));
  });

  it('write-behind: a synchronous write copies, so the caller may reuse its buffer at once', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 777);
    const w = await slots(8 * 1024 * 1024).openWriter('B');
    const scratch = new Uint8Array(100_000);
    let sync = 0;
    let waited = 0;
    for (let off = 0, i = 0; off < data.length; i++) {
      const n = Math.min(data.length - off, 1 + ((i * 7919) % 100_000));
      scratch.set(data.subarray(off, off + n));
      const r = w.write(scratch.subarray(0, n));
      if (r === undefined) sync++;
      else {
        waited++;
        await r;
      }
      scratch.fill(0xee);
      off += n;
    }
    expect(sync).toBeGreaterThan(0);
    expect(waited).toBeGreaterThan(0); // both buffers busy at times: backpressure, bounded memory
    expect(await w.commit()).toEqual({ bytes: data.length });
    expect((await readFile(slotPath(dir, 'B'))).equals(data)).toBe(true);
  });

  it('a failed background write (ENOSPC) fails the next write or the commit with SLOT_NO_SPACE', async () => {
    await symlink('/dev/full', slotPath(dir, 'B'));
    const w = await slots(64 * 1024 * 1024).openWriter('B');
    const chunk = randomBytes(64 * 1024);
    let err: unknown;
    try {
      for (let i = 0; i < 64; i++) await w.write(chunk);
      await w.commit();
    } catch (e) {
      err = e;
    }
    expect(isAgentError(err, 'SLOT_NO_SPACE')).toBe(true);
    expect(err).toMatchObject({ details: { slot: 'B', cause: 'ENOSPC' } });
    // The writer stays failed: nothing more is accepted, commit refuses.
    await expect(Promise.resolve(w.write(chunk))).rejects.toSatisfy((e) => isAgentError(e));
    await expect(w.commit()).rejects.toSatisfy((e) => isAgentError(e));
  });

  it('rejects an invalid capacity', async () => {
    await expect(openSimPlatform(dir, { capacity: -1 })).rejects.toSatisfy((e) => isAgentError(e, 'SLOT_PLATFORM_INVALID'));
  });
});
