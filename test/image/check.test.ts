import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { buildTrailer } from '../../agent/image/sign.ts';
import { generateKeyPair, parsePrivateKey } from '../../agent/image/keys.ts';
import { createImageCheck, isImageRefusal } from '../../agent/image/check.ts';
import { MAX_TRAILER } from '../../agent/image/format.ts';
import { isAgentError } from '../../agent/errors.ts';

const hash = (alg: string, b: Uint8Array): string => createHash(alg).update(b).digest('hex');
const manu = parsePrivateKey(generateKeyPair().privatePem);
const keys = { manufacturer: [manu.publicKey], coSigner: [] };
const policy = { model: 'FS-0900E', runningVersion: '1.2.0', runningSignedAt: null, allowDowngrade: false };

function signedFile(payload: Uint8Array): Uint8Array {
  const { trailer } = buildTrailer({ payloadLength: payload.length, payloadSha256: hash('sha256', payload), version: '1.3.0', models: ['FS-0900E'], signedAt: 1_800_000_000, signers: [{ role: 'manufacturer', key: manu }] });
  return Buffer.concat([payload, trailer]);
}

/** Reads `file` back through the check in chunks of the given sizes (cycled), one reused buffer like the sim slot reader. */
async function run(file: Uint8Array, readSizes: number[], mode: 'warn' | 'require' = 'require') {
  const c = createImageCheck({ mode, keys, policy });
  const scratch = new Uint8Array(Math.max(1, ...readSizes));
  async function* read() {
    let i = 0;
    for (let o = 0; o < file.length; ) {
      const n = Math.min(readSizes[i++ % readSizes.length] ?? 1, file.length - o);
      scratch.set(file.subarray(o, o + n));
      yield scratch.subarray(0, n);
      scratch.fill(0xee); // the reader reuses its buffer
      o += n;
    }
  }
  const back = await c.readBack(read(), file.length);
  return { c, back };
}

describe('image check (stage hook)', () => {
  it('any chunking of the read-back: verified, whole-file digests as before', async () => {
    const payload = randomBytes(3 * MAX_TRAILER + 123);
    const file = signedFile(payload);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 3 * MAX_TRAILER }), { minLength: 1, maxLength: 6 }), async (sizes) => {
        const { c, back } = await run(file, sizes);
        expect(back).toEqual({ bytes: file.length, md5: hash('md5', file), sha256: hash('sha256', file) });
        const info = c.conclude();
        expect(info).toMatchObject({ signed: true, version: '1.3.0', payloadLength: payload.length, payloadSha256: hash('sha256', payload), refusal: null });
      }),
      { numRuns: 60 },
    );
  });

  it('require: unsigned or changed payload → IMAGE_<reason>; warn: staged with the refusal noted', async () => {
    const payload = randomBytes(5000);
    const { c } = await run(payload, [1468]);
    let err: unknown;
    try {
      c.conclude();
    } catch (e) {
      err = e;
    }
    expect(isAgentError(err, 'IMAGE_UNSIGNED')).toBe(true);
    expect(isImageRefusal('IMAGE_UNSIGNED')).toBe(true);

    const bad = signedFile(payload);
    bad[10] = (bad[10] ?? 0) ^ 1;
    await expect(run(bad, [65536]).then((r) => r.c.conclude())).rejects.toMatchObject({ code: 'IMAGE_PAYLOAD_MISMATCH' });
    const w = await run(bad, [65536], 'warn');
    expect(w.c.conclude()).toMatchObject({ signed: true, version: null, refusal: { reason: 'PAYLOAD_MISMATCH' } });
  });

  it('small images (shorter than the kept tail) and a short read-back', async () => {
    const tiny = signedFile(randomBytes(10));
    expect((await run(tiny, [3])).c.conclude()).toMatchObject({ signed: true, payloadLength: 10 });
    const c = createImageCheck({ mode: 'require', keys, policy });
    async function* short() {
      yield tiny.subarray(0, 5);
    }
    await expect(c.readBack(short(), tiny.length)).rejects.toMatchObject({ code: 'SLOT_IO' });
  });
});
