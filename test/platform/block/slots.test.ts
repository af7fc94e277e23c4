import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockSlots, deviceSize, type SlotGuard } from '../../../platform/block/slots.ts';
import type { SlotName } from '../../../platform/types.ts';

const root = mkdtempSync(join(tmpdir(), 'cpe-blockslots-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const CAP = 4 * 1024 * 1024;

function setup(running: SlotName = 'A') {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  const devices = { A: join(d, 'vda2'), B: join(d, 'vda3') };
  writeFileSync(devices.A, Buffer.alloc(16, 0x41));
  truncateSync(devices.A, CAP); // sparse "partitions"
  writeFileSync(devices.B, Buffer.alloc(0));
  truncateSync(devices.B, CAP);
  const events: string[] = [];
  const guard: SlotGuard = {
    beforeWrite: async (s) => void events.push(`invalidate ${s}`),
    afterCommit: async (s, bytes) => void events.push(`committed ${s} ${bytes}`),
  };
  const slots = new BlockSlots({ devices, running: async () => running, guard });
  return { d, devices, events, slots };
}

async function digest(it: AsyncIterable<Uint8Array>): Promise<string> {
  const h = createHash('md5');
  for await (const c of it) h.update(c);
  return h.digest('hex');
}

describe('block-device slots', () => {
  it('capacity is the device size (a regular file: its length)', async () => {
    const { slots, devices } = setup();
    expect(await slots.capacity('B')).toBe(CAP);
    expect(await deviceSize(devices.A)).toBe(CAP);
    await expect(deviceSize('/dev/null')).rejects.toMatchObject({ code: 'SLOT_NOT_A_DEVICE' });
  });

  it('writes raw from offset 0 in odd chunks, fsyncs, reads back the same bytes; the device keeps its size', async () => {
    const { slots, devices, events } = setup();
    const img = randomBytes(CAP - 12345);
    const w = await slots.openWriter('B');
    expect(events).toEqual(['invalidate B']);
    for (let off = 0; off < img.length; off += 1468) await w.write(img.subarray(off, off + 1468));
    expect(await w.commit()).toEqual({ bytes: img.length });
    expect(events).toEqual(['invalidate B', `committed B ${img.length}`]);
    expect(await digest(slots.read('B', img.length))).toBe(createHash('md5').update(img).digest('hex'));
    expect(readFileSync(devices.B).length).toBe(CAP);
    expect(readFileSync(devices.A).subarray(0, 16).every((b) => b === 0x41)).toBe(true); // the other slot untouched
  });

  it('never opens the running slot', async () => {
    const { slots, events } = setup('B');
    await expect(slots.openWriter('B')).rejects.toMatchObject({ code: 'SLOT_RUNNING' });
    expect(events).toEqual([]);
  });

  it('an image larger than the partition fails with SLOT_TOO_SMALL and writes nothing past it', async () => {
    const { slots, devices } = setup();
    const w = await slots.openWriter('B');
    await w.write(Buffer.alloc(CAP - 10, 1));
    await expect(w.write(Buffer.alloc(11, 1))).rejects.toMatchObject({ code: 'SLOT_TOO_SMALL' });
    await w.abort();
    expect(readFileSync(devices.B).length).toBe(CAP);
  });

  it('abort wipes the head of the slot (no filesystem left) and it stays invalidated', async () => {
    const { slots, devices, events } = setup();
    const w = await slots.openWriter('B');
    await w.write(Buffer.alloc(2 * 1024 * 1024, 7));
    await w.commit();
    await w.abort();
    const b = readFileSync(devices.B);
    expect(b.subarray(0, 1024 * 1024).every((x) => x === 0)).toBe(true);
    expect(events.at(-1)).toBe('invalidate B');
    await expect(w.write(Buffer.alloc(1))).rejects.toMatchObject({ code: 'SLOT_WRITER_CLOSED' });
  });

  it('reading past the end of the device is SLOT_SHORT_READ', async () => {
    const { slots } = setup();
    await expect(digest(slots.read('A', CAP + 1))).rejects.toMatchObject({ code: 'SLOT_SHORT_READ' });
  });

  it('refuses the same device for both slots', () => {
    expect(() => new BlockSlots({ devices: { A: '/dev/vda2', B: '/dev/vda2' }, running: async () => 'A' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
