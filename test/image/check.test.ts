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

/** Streams `file` through the tap in chunks of the given sizes (one reused buffer), then reads it back in other chunks. */
async function run(file: Uint8Array, writeSizes: number[], readSize: number, mode: 'warn' | 'require' = 'require') {
  const c = createImageCheck({ mode, keys, policy });
  const slot: Uint8Array[] = [];
  const sink = c.tap({ write: (chunk) => void slot.push(Uint8Array.from(chunk)) });
  const scratch = new Uint8Array(Math.max(1, ...writeSizes));
  let off = 0;
  let i = 0;
  while (off < file.length) {
    const n = Math.min(writeSizes[i++ % writeSizes.length] ?? 1, file.length - off);
    scratch.set(file.subarray(off, off + n));
    await sink.write(scratch.subarray(0, n));
    scratch.fill(0xee); // the fetcher reuses its buffer
    off += n;
  }
  const stored = Buffer.concat(slot);
  async function* read() {
    for (let o = 0; o < stored.length; o += readSize) yield stored.subarray(o, o + readSize);
  }
  const back = await c.readBack(read());
  return { c, back };
}

describe('image check (stage hook)', () => {
  it('any chunking of stream and read-back: verified, whole-file digests as before', async () => {
    const payload = randomBytes(3 * MAX_TRAILER + 123);
    const file = signedFile(payload);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 3 * MAX_TRAILER }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 20_000 }), async (sizes, readSize) => {
        const { c, back } = await run(file, sizes, readSize);
        expect(back).toEqual({ bytes: file.length, md5: hash('md5', file), sha256: hash('sha256', file) });
        const info = c.conclude();
        expect(info).toMatchObject({ signed: true, version: '1.3.0', payloadLength: payload.length, payloadSha256: hash('sha256', payload), refusal: null });
      }),
      { numRuns: 60 },
    );
  });

  it('require: unsigned or changed payload → IMAGE_<reason>; warn: staged with the refusal noted', async () => {
    const payload = randomBytes(5000);
    const { c } = await run(payload, [1468], 4096);
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
    await expect(run(bad, [65536], 65536).then((r) => r.c.conclude())).rejects.toMatchObject({ code: 'IMAGE_PAYLOAD_MISMATCH' });
    const w = await run(bad, [65536], 65536, 'warn');
    expect(w.c.conclude()).toMatchObject({ signed: true, version: null, refusal: { reason: 'PAYLOAD_MISMATCH' } });
  });
});
