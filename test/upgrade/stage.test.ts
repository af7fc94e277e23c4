import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { stage } from '../../agent/upgrade/stage.ts';
import { openSimPlatform, slotPath, simulateBoot, type SimPlatform } from '../../platform/sim/index.ts';
import { AgentError, isAgentError } from '../../agent/errors.ts';
import type { Fetcher, TransferRequest } from '../../agent/transfer/types.ts';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A Fetcher serving `image` from memory in 64 KiB chunks; `announce` controls onSize. */
function memoryFetcher(image: Uint8Array, opts: { announce?: boolean; failAfter?: number } = {}): Fetcher & { chunksWritten: () => number } {
  let written = 0;
  const f = async (_req: TransferRequest, sink: Parameters<Fetcher>[1], o: Parameters<Fetcher>[2] = {}) => {
    if (opts.announce !== false) o.onSize?.(image.length);
    let off = 0;
    while (off < image.length) {
      if (opts.failAfter !== undefined && off >= opts.failAfter) throw new AgentError('FTP_CONNECTION_LOST', 'connection lost (test)');
      const chunk = image.subarray(off, off + 65536);
      await sink.write(chunk);
      written++;
      off += chunk.length;
      o.onProgress?.({ bytes: off, total: image.length, rate: 0 });
    }
    return { bytes: image.length, total: image.length, elapsedMs: 1 };
  };
  return Object.assign(f, { chunksWritten: () => written });
}

const request: TransferRequest = { protocol: 'ftp', server: '198.18.48.1', file: 'fw-2.bin' };
let dir: string;
let p: SimPlatform;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpf-stage-'));
  p = await openSimPlatform(dir, { capacity: 1024 * 1024 });
  await writeFile(slotPath(dir, 'A'), 'running image A');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const snapshot = async (): Promise<{ a: string; b: Buffer; env: string }> => ({
  a: await readFile(slotPath(dir, 'A'), 'utf8'),
  b: await readFile(slotPath(dir, 'B')),
  env: await readFile(join(dir, 'bootenv.json'), 'utf8'),
});

describe('stage()', () => {
  it('streams into the inactive slot, verifies, and switches the boot env to it on trial', async () => {
    const image = randomBytes(700_000);
    const r = await stage({ fetcher: memoryFetcher(image), request, md5: md5(image).toUpperCase(), slots: p.slots, bootEnv: p.bootEnv });
    expect(r).toMatchObject({ slot: 'B', bytes: image.length, md5: md5(image), sha256: sha256(image), file: 'fw-2.bin' });
    expect((await readFile(slotPath(dir, 'B'))).equals(image)).toBe(true);
    expect(await readFile(slotPath(dir, 'A'), 'utf8')).toBe('running image A');
    expect(await p.bootEnv.read()).toEqual({ next: 'B', current: 'A', trial: true });
    expect(await simulateBoot(dir)).toMatchObject({ slot: 'B', trial: true, tries: 1 });
  });

  it('MD5 mismatch on the stream: staged data discarded, boot env unchanged', async () => {
    const image = randomBytes(300_000);
    const before = await snapshot();
    const err = await stage({ fetcher: memoryFetcher(image), request, md5: 'f'.repeat(32), slots: p.slots, bootEnv: p.bootEnv }).catch((e: unknown) => e);
    expect(isAgentError(err, 'UPGRADE_MD5_MISMATCH')).toBe(true);
    expect((err as AgentError).details).toMatchObject({ stage: 'stream', expected: 'f'.repeat(32), actual: md5(image) });
    expect((await stat(slotPath(dir, 'B'))).size).toBe(0);
    const after = await snapshot();
    expect(after.env).toBe(before.env);
    expect(after.a).toBe(before.a);
  });

  it('an announced image larger than the slot is refused before anything is written', async () => {
    await writeFile(slotPath(dir, 'B'), 'previous B image');
    const mtime = (await stat(slotPath(dir, 'B'))).mtimeMs;
    const before = await snapshot();
    const image = randomBytes(1024 * 1024 + 1);
    const f = memoryFetcher(image);
    const err = await stage({ fetcher: f, request, md5: md5(image), slots: p.slots, bootEnv: p.bootEnv }).catch((e: unknown) => e);
    expect(isAgentError(err, 'SLOT_TOO_SMALL')).toBe(true);
    expect(f.chunksWritten()).toBe(0);
    expect(await snapshot()).toEqual(before);
    expect((await stat(slotPath(dir, 'B'))).mtimeMs).toBe(mtime);
  });

  it('an unannounced image that outgrows the slot is aborted and discarded', async () => {
    const image = randomBytes(1024 * 1024 + 100);
    const before = await snapshot();
    const err = await stage({ fetcher: memoryFetcher(image, { announce: false }), request, md5: md5(image), slots: p.slots, bootEnv: p.bootEnv }).catch((e: unknown) => e);
    expect(isAgentError(err, 'SLOT_TOO_SMALL')).toBe(true);
    expect((await stat(slotPath(dir, 'B'))).size).toBe(0);
    expect((await snapshot()).env).toBe(before.env);
  });

  it('no expected MD5 (SNMP management upgrade): the stream MD5 is recorded and the read-back checked against it', async () => {
    const image = randomBytes(300_000);
    const r = await stage({ fetcher: memoryFetcher(image), request, md5: null, slots: p.slots, bootEnv: p.bootEnv });
    expect(r).toMatchObject({ slot: 'B', bytes: image.length, md5: md5(image) });
    const again = randomBytes(100_000);
    const err = await stage(
      { fetcher: memoryFetcher(again), request, md5: null, slots: p.slots, bootEnv: p.bootEnv },
      {
        beforeReadBack: async (slot) => {
          const b = await readFile(slotPath(dir, slot));
          b[99] = (b[99] ?? 0) ^ 0xff;
          await writeFile(slotPath(dir, slot), b);
        },
      },
    ).catch((e: unknown) => e);
    expect(isAgentError(err, 'UPGRADE_MD5_MISMATCH')).toBe(true);
    expect((err as AgentError).details).toMatchObject({ stage: 'read-back', expected: md5(again) });
  });

  it('read-back verification catches a slot corrupted after the write', async () => {
    const image = randomBytes(200_000);
    const before = await snapshot();
    const err = await stage(
      { fetcher: memoryFetcher(image), request, md5: md5(image), slots: p.slots, bootEnv: p.bootEnv },
      {
        beforeReadBack: async (slot) => {
          const path = slotPath(dir, slot);
          const b = await readFile(path);
          b[12345] = (b[12345] ?? 0) ^ 0xff; // one flipped byte on "flash"
          await writeFile(path, b);
        },
      },
    ).catch((e: unknown) => e);
    expect(isAgentError(err, 'UPGRADE_MD5_MISMATCH')).toBe(true);
    expect((err as AgentError).details).toMatchObject({ stage: 'read-back', expected: md5(image) });
    expect((await stat(slotPath(dir, 'B'))).size).toBe(0);
    expect((await snapshot()).env).toBe(before.env);
  });

  it('a broken transfer discards the partial image and passes the fetcher error on', async () => {
    const image = randomBytes(500_000);
    const err = await stage({ fetcher: memoryFetcher(image, { failAfter: 200_000 }), request, md5: md5(image), slots: p.slots, bootEnv: p.bootEnv }).catch((e: unknown) => e);
    expect(isAgentError(err, 'FTP_CONNECTION_LOST')).toBe(true);
    expect((await stat(slotPath(dir, 'B'))).size).toBe(0);
    expect(await p.bootEnv.read()).toEqual({ next: 'A', current: 'A', trial: false });
  });

  it('refuses to stage while the running slot is an unconfirmed trial (the other slot is the fallback)', async () => {
    await writeFile(slotPath(dir, 'B'), 'image B'); // a bootloader boots no empty slot
    await p.bootEnv.setNext('B');
    await simulateBoot(dir); // running B on trial
    const image = randomBytes(1000);
    const err = await stage({ fetcher: memoryFetcher(image), request, md5: md5(image), slots: p.slots, bootEnv: p.bootEnv }).catch((e: unknown) => e);
    expect(isAgentError(err, 'SLOT_TRIAL_UNCONFIRMED')).toBe(true);
    expect(await readFile(slotPath(dir, 'A'), 'utf8')).toBe('running image A');
    await p.bootEnv.markGood();
    const r = await stage({ fetcher: memoryFetcher(image), request, md5: md5(image), slots: p.slots, bootEnv: p.bootEnv });
    expect(r.slot).toBe('A');
    expect(await p.bootEnv.read()).toEqual({ next: 'A', current: 'B', trial: true });
  });

  it('restaging over a pending image cancels the pending switch first', async () => {
    const one = randomBytes(100_000);
    await stage({ fetcher: memoryFetcher(one), request, md5: md5(one), slots: p.slots, bootEnv: p.bootEnv });
    expect((await p.bootEnv.read()).next).toBe('B');
    const two = randomBytes(100_000);
    const err = await stage({ fetcher: memoryFetcher(two), request, md5: md5(one), slots: p.slots, bootEnv: p.bootEnv }).catch((e: unknown) => e);
    expect(isAgentError(err, 'UPGRADE_MD5_MISMATCH')).toBe(true);
    // The old pending image was overwritten, so the switch to it must not survive.
    expect(await p.bootEnv.read()).toEqual({ next: 'A', current: 'A', trial: false });
    expect(await simulateBoot(dir)).toMatchObject({ slot: 'A' });
  });

  it('rejects a malformed expected MD5 and an empty image', async () => {
    await expect(stage({ fetcher: memoryFetcher(new Uint8Array(1)), request, md5: 'xyz', slots: p.slots, bootEnv: p.bootEnv })).rejects.toSatisfy((e) =>
      isAgentError(e, 'UPGRADE_MD5_INVALID'),
    );
    const empty = new Uint8Array(0);
    await expect(stage({ fetcher: memoryFetcher(empty), request, md5: md5(empty), slots: p.slots, bootEnv: p.bootEnv })).rejects.toSatisfy((e) =>
      isAgentError(e, 'UPGRADE_IMAGE_EMPTY'),
    );
    expect(await p.bootEnv.read()).toEqual({ next: 'A', current: 'A', trial: false });
  });

  it('activate: false stages and verifies without touching the boot env', async () => {
    const image = randomBytes(50_000);
    const r = await stage({ fetcher: memoryFetcher(image), request, md5: md5(image), slots: p.slots, bootEnv: p.bootEnv }, { activate: false });
    expect(r.slot).toBe('B');
    expect(await p.bootEnv.read()).toEqual({ next: 'A', current: 'A', trial: false });
  });

  it('a signal aborted after the download (stop/reboot) keeps the boot env as it was and discards the slot', async () => {
    const image = randomBytes(200_000);
    const before = await snapshot();
    const ac = new AbortController();
    const err = await stage(
      { fetcher: memoryFetcher(image), request, md5: md5(image), slots: p.slots, bootEnv: p.bootEnv },
      { signal: ac.signal, beforeReadBack: () => ac.abort(new AgentError('DAEMON_STOPPING', 'stopping (test)')) },
    ).catch((e: unknown) => e);
    expect(isAgentError(err, 'DAEMON_STOPPING')).toBe(true);
    const after = await snapshot();
    expect(after.env).toBe(before.env);
    expect(after.b.length).toBe(0);
  });

  it('an already aborted signal opens nothing: a pending switch and the inactive slot stay as they are', async () => {
    const one = randomBytes(100_000);
    await stage({ fetcher: memoryFetcher(one), request, md5: md5(one), slots: p.slots, bootEnv: p.bootEnv });
    const before = await snapshot();
    const ac = new AbortController();
    ac.abort(new AgentError('DAEMON_REBOOTING', 'rebooting (test)'));
    const err = await stage({ fetcher: memoryFetcher(randomBytes(1000)), request, md5: md5(one), slots: p.slots, bootEnv: p.bootEnv }, { signal: ac.signal }).catch((e: unknown) => e);
    expect(isAgentError(err, 'DAEMON_REBOOTING')).toBe(true);
    const after = await snapshot();
    expect(after.env).toBe(before.env);
    expect(after.b.equals(before.b)).toBe(true);
  });
});
