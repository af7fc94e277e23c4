import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { buildTrailer } from '../../agent/image/sign.ts';
import { generateKeyPair, parsePrivateKey, parsePublicKey, type PrivateKey } from '../../agent/image/keys.ts';
import { verifyImage, type TrustedKeys, type VerifyPolicy } from '../../agent/image/verify.ts';
import { decodeTrailer, FOOTER_LENGTH, MAX_TRAILER, canonicalJson } from '../../agent/image/format.ts';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const key = (): PrivateKey => parsePrivateKey(generateKeyPair().privatePem);
const manu = key();
const cosig = key();
const stranger = key();

const policy: VerifyPolicy = { model: 'FS-0900E', runningVersion: '1.2.0', runningSignedAt: 1_700_000_000, allowDowngrade: false };
const keys: TrustedKeys = { manufacturer: [manu.publicKey], coSigner: [] };
const keysCo: TrustedKeys = { manufacturer: [manu.publicKey], coSigner: [cosig.publicKey] };

function signed(payload: Uint8Array, o: Partial<{ version: string; models: string[]; signedAt: number; minVersion: string; signers: { role: 'manufacturer' | 'co-signer'; key: PrivateKey }[] }> = {}): Uint8Array {
  const { trailer } = buildTrailer({
    payloadLength: payload.length,
    payloadSha256: sha256(payload),
    version: o.version ?? '1.3.0',
    models: o.models ?? ['FS-0900E', 'ESH-3105'],
    signedAt: o.signedAt ?? 1_800_000_000,
    ...(o.minVersion ? { minVersion: o.minVersion } : {}),
    signers: o.signers ?? [{ role: 'manufacturer', key: manu }],
  });
  return Buffer.concat([payload, trailer]);
}

/** Verifies a whole file the way stage() does: SHA-256 of the payload the trailer names. */
function check(file: Uint8Array, k: TrustedKeys = keys, p: VerifyPolicy = policy) {
  const tail = file.subarray(Math.max(0, file.length - MAX_TRAILER));
  const d = decodeTrailer(tail, file.length);
  const sha = d.ok ? sha256(file.subarray(0, d.trailer.payloadLength)) : null;
  return verifyImage({ tail, fileLength: file.length, payloadSha256: sha, keys: k, policy: p });
}

const payload = new Uint8Array(Buffer.from('firmware payload '.repeat(20)));

describe('image trailer', () => {
  it('round trip: signed → verified, metadata back', () => {
    const v = check(signed(payload, { minVersion: '1.0.0' }));
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.metadata).toEqual({ format: 1, payloadLength: payload.length, payloadSha256: sha256(payload), version: '1.3.0', models: ['FS-0900E', 'ESH-3105'], signedAt: 1_800_000_000, minVersion: '1.0.0' });
    expect(v.signers).toEqual([{ role: 'manufacturer', keyId: manu.id }]);
  });

  it('metadata is canonical JSON (sorted keys, no whitespace)', () => {
    expect(canonicalJson({ b: 1, a: ['x', { d: null, c: true }] })).toBe('{"a":["x",{"c":true,"d":null}],"b":1}');
    const f = signed(payload);
    const d = decodeTrailer(f, f.length);
    expect(d.ok && new TextDecoder().decode(d.trailer.metadataBytes)).toBe(
      `{"format":1,"models":["FS-0900E","ESH-3105"],"payloadLength":${payload.length},"payloadSha256":"${sha256(payload)}","signedAt":1800000000,"version":"1.3.0"}`,
    );
  });

  it('every single-byte change of payload, metadata, signatures or footer is refused', () => {
    const f = signed(payload, { signers: [{ role: 'manufacturer', key: manu }, { role: 'co-signer', key: cosig }] });
    expect(check(f, keysCo).ok).toBe(true);
    const reasons = new Set<string>();
    for (let i = 0; i < f.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const g = Uint8Array.from(f);
        g[i] = (g[i] ?? 0) ^ flip;
        const v = check(g, keysCo);
        if (v.ok) throw new Error(`byte ${i} ^ ${flip} accepted`);
        reasons.add(v.reason);
      }
    }
    expect([...reasons].sort()).toEqual(expect.arrayContaining(['BAD_SIGNATURE', 'PAYLOAD_MISMATCH', 'UNKNOWN_KEY', 'UNSIGNED']));
  });

  it('truncated trailer / trailer claiming more than the file', () => {
    const f = signed(payload);
    const d = decodeTrailer(f, f.length);
    if (!d.ok) throw new Error('no trailer');
    // Only the last bytes available (a tail shorter than the trailer).
    const short = f.subarray(f.length - (d.trailer.trailerLength - 1));
    expect(verifyImage({ tail: short, fileLength: f.length, payloadSha256: sha256(payload), keys, policy })).toMatchObject({ ok: false, reason: 'TRAILER_TRUNCATED' });
    // The file cut after its footer: the trailer claims more than the file holds.
    const trailerOnly = f.subarray(f.length - FOOTER_LENGTH);
    expect(check(trailerOnly)).toMatchObject({ ok: false, reason: 'TRAILER_TRUNCATED' });
    // Cut at the front: payload shorter than the signed length.
    expect(check(f.subarray(1))).toMatchObject({ ok: false, reason: 'TRAILER_MALFORMED' });
    // Cut at the end: magic gone.
    expect(check(f.subarray(0, f.length - 1))).toMatchObject({ ok: false, reason: 'UNSIGNED' });
  });

  it('unknown key, missing co-signature, model, rollback by version and time, minVersion', () => {
    expect(check(signed(payload, { signers: [{ role: 'manufacturer', key: stranger }] }))).toMatchObject({ ok: false, reason: 'UNKNOWN_KEY' });
    expect(check(signed(payload, { signers: [] }))).toMatchObject({ ok: false, reason: 'NO_MANUFACTURER_SIGNATURE' });
    expect(check(signed(payload, { signers: [{ role: 'co-signer', key: manu }] }), { manufacturer: [manu.publicKey], coSigner: [manu.publicKey] })).toMatchObject({
      ok: false,
      reason: 'NO_MANUFACTURER_SIGNATURE',
    });
    expect(check(signed(payload), keysCo)).toMatchObject({ ok: false, reason: 'COSIGNATURE_MISSING' });
    // A co-signature relabelled as the manufacturer's does not verify (the role is signed).
    const both: TrustedKeys = { manufacturer: [manu.publicKey, cosig.publicKey], coSigner: [cosig.publicKey] };
    const f = signed(payload, { signers: [{ role: 'co-signer', key: cosig }] });
    expect(check(f, both)).toMatchObject({ ok: false, reason: 'NO_MANUFACTURER_SIGNATURE' });
    const d = decodeTrailer(f, f.length);
    if (!d.ok) throw new Error('no trailer');
    const relabelled = Uint8Array.from(f);
    relabelled[f.length - d.trailer.trailerLength + d.trailer.metadataBytes.length] = 1;
    expect(check(relabelled, both)).toMatchObject({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(check(signed(payload, { models: ['ESH-3105'] }))).toMatchObject({ ok: false, reason: 'MODEL_NOT_LISTED' });
    expect(check(signed(payload, { version: '1.1.9' }))).toMatchObject({ ok: false, reason: 'VERSION_ROLLBACK' });
    expect(check(signed(payload, { signedAt: 1_600_000_000 }))).toMatchObject({ ok: false, reason: 'SIGNING_TIME_ROLLBACK' });
    expect(check(signed(payload, { version: '1.1.9', signedAt: 1_600_000_000 }), keys, { ...policy, allowDowngrade: true }).ok).toBe(true);
    expect(check(signed(payload, { minVersion: '1.2.1' }), keys, { ...policy, allowDowngrade: true })).toMatchObject({ ok: false, reason: 'BELOW_MIN_VERSION' });
    expect(check(signed(payload, { minVersion: '1.2.0' })).ok).toBe(true);
  });

  it('keys: text form round trip; bad text refused', () => {
    const g = generateKeyPair();
    expect(parsePublicKey(g.publicText).id).toBe(g.id);
    expect(() => parsePublicKey('ed25519:AAAA')).toThrow(/IMAGE_KEY_INVALID|not an Ed25519/);
    expect(() => parsePrivateKey('-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----')).toThrow(/not a PEM private key/);
  });

  it('random bytes and random tails never verify and never throw', () => {
    const good = signed(payload);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600, size: 'max' }), fc.boolean(), (junk, withMagic) => {
        // Random data, optionally ending in the real footer of a signed file (magic + lengths).
        const f = withMagic ? Buffer.concat([junk, good.subarray(good.length - FOOTER_LENGTH)]) : junk;
        const v = check(f);
        expect(v.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200, size: 'max' }), fc.nat(), (junk, at) => {
        // Random bytes spliced into a signed file.
        const pos = at % good.length;
        const g = Buffer.concat([good.subarray(0, pos), junk, good.subarray(pos)]);
        expect(check(g).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
