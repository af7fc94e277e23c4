/** stage() with the signed-image hook on the sim platform: what reaches the boot environment. */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { stage } from '../../agent/upgrade/stage.ts';
import { openSimPlatform, slotPath, type SimPlatform } from '../../platform/sim/index.ts';
import { isAgentError } from '../../agent/errors.ts';
import type { Fetcher, TransferRequest } from '../../agent/transfer/types.ts';
import { buildTrailer } from '../../agent/image/sign.ts';
import { generateKeyPair, parsePrivateKey } from '../../agent/image/keys.ts';
import { imageCheckFactory } from '../../agent/image/policy.ts';
import { onDownloadFailed } from '../../agent/daemon/transitions.ts';
import { emptyState } from '../../agent/state/store.ts';
import { DEFAULT_RETRY } from '../../agent/upgrade/policy.ts';

const hash = (alg: string, b: Uint8Array): string => createHash(alg).update(b).digest('hex');
const manu = generateKeyPair();
const manuKey = parsePrivateKey(manu.privatePem);

/** Serves `image` in 1468-byte blocks through one reused buffer, like the TFTP client. */
function fetcher(image: Uint8Array): Fetcher {
  return async (_req, sink, o = {}) => {
    o.onSize?.(image.length);
    const buf = new Uint8Array(1468);
    for (let off = 0; off < image.length; off += buf.length) {
      const n = Math.min(buf.length, image.length - off);
      buf.set(image.subarray(off, off + n));
      await sink.write(buf.subarray(0, n));
    }
    return { bytes: image.length, total: image.length, elapsedMs: 1 };
  };
}

function signedFile(payload: Uint8Array, models = ['FS-0900E']): Uint8Array {
  const { trailer } = buildTrailer({ payloadLength: payload.length, payloadSha256: hash('sha256', payload), version: '1.3.0', models, signedAt: 1_800_000_000, signers: [{ role: 'manufacturer', key: manuKey }] });
  return Buffer.concat([payload, trailer]);
}

const request: TransferRequest = { protocol: 'tftp', server: '198.18.48.1', file: 'FS-0900E_FW_1_03_00.bin' };
const check = (mode: 'off' | 'warn' | 'require') =>
  imageCheckFactory({ mode, trustedKeys: { manufacturer: [manu.publicText], coSigner: [] }, model: 'FS-0900E', allowDowngrade: false })({ version: '1.2.0', signedAt: null });
let dir: string;
let p: SimPlatform;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpf-signed-'));
  p = await openSimPlatform(dir, { capacity: 1024 * 1024 });
  await writeFile(slotPath(dir, 'A'), 'running image A');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stage() with policy.signature', () => {
  it('require: a signed image is staged whole (payload + trailer), boot env switched, signed metadata returned', async () => {
    const payload = randomBytes(200_000);
    const file = signedFile(payload);
    const r = await stage({ fetcher: fetcher(file), request, md5: hash('md5', file), slots: p.slots, bootEnv: p.bootEnv }, { verifyImage: check('require') });
    expect(r.image).toMatchObject({ signed: true, version: '1.3.0', signedAt: 1_800_000_000, payloadSha256: hash('sha256', payload), refusal: null });
    expect(r.sha256).toBe(hash('sha256', file));
    expect((await readFile(slotPath(dir, 'B'))).equals(file)).toBe(true);
    expect(await p.bootEnv.read()).toEqual({ next: 'B', current: 'A', trial: true });
  });

  it.each([
    ['unsigned, MD5 matching', (pl: Uint8Array) => pl, 'IMAGE_UNSIGNED'],
    ['built for the other vendor class', (pl: Uint8Array) => signedFile(pl, ['ESH-3105']), 'IMAGE_MODEL_NOT_LISTED'],
  ])('require: %s → refused, slot emptied, boot env untouched, a permanent (verify) failure', async (_n, make, code) => {
    const file = make(randomBytes(100_000));
    const env = await readFile(join(dir, 'bootenv.json'), 'utf8');
    const err = await stage({ fetcher: fetcher(file), request, md5: hash('md5', file), slots: p.slots, bootEnv: p.bootEnv }, { verifyImage: check('require') }).catch((e: unknown) => e);
    expect(isAgentError(err, code)).toBe(true);
    expect((await stat(slotPath(dir, 'B'))).size).toBe(0);
    expect(await readFile(join(dir, 'bootenv.json'), 'utf8')).toBe(env);
    const s = onDownloadFailed(emptyState(), { part: 'software', offerKey: 'k', file: 'f', code, message: 'm', now: 1, retry: DEFAULT_RETRY, rand: 0 });
    expect(s.permanent).toBe(true);
    expect(s.state.attempts.verifyFailed).toBe(true);
  });

  it('warn: an unsigned image is staged, the refusal reported; off: no check', async () => {
    const file = randomBytes(50_000);
    const r = await stage({ fetcher: fetcher(file), request, md5: hash('md5', file), slots: p.slots, bootEnv: p.bootEnv }, { verifyImage: check('warn') });
    expect(r.image).toMatchObject({ signed: false, refusal: { reason: 'UNSIGNED' } });
    expect(await p.bootEnv.read()).toMatchObject({ next: 'B' });
    expect(check('off')).toBeUndefined();
  });
});
