/**
 * Verifies a signed image trailer against trusted keys and the CPE's policy inputs. Pure:
 * (tail of the file, file length, payload SHA-256, trusted keys, policy) → verdict with a typed
 * reason code. Rules, in order:
 *
 * 1. a trailer must be present and well formed (UNSIGNED, TRAILER_*, METADATA_INVALID, FORMAT_UNSUPPORTED);
 * 2. every signature record must be by a configured key of its role (UNKNOWN_KEY) and verify
 *    (BAD_SIGNATURE) — a co-signature by a key this CPE does not know is refused too, so no
 *    byte of the trailer goes unchecked; at least one manufacturer signature
 *    (NO_MANUFACTURER_SIGNATURE); when co-signer keys are configured, a co-signature (COSIGNATURE_MISSING);
 * 3. the payload's SHA-256 must be the signed one (PAYLOAD_MISMATCH);
 * 4. this CPE's model (option 60 vendor class) must be listed (MODEL_NOT_LISTED);
 * 5. anti-rollback: the signed version must not be older than the running one, nor the signing
 *    time older than the running image's (VERSION_ROLLBACK, SIGNING_TIME_ROLLBACK; both waived by
 *    allowDowngrade); the running version must be ≥ minVersion (BELOW_MIN_VERSION, never waived).
 */
import { compareVersions, parseVersion } from '../upgrade/version.ts';
import { decodeTrailer, signingMessage, type DecodeReason, type ImageMetadata, type SignerRole } from './format.ts';
import { verifyBytes, type PublicKey } from './keys.ts';

export interface TrustedKeys {
  manufacturer: readonly PublicKey[];
  /** non-empty: a co-signature by one of these is required */
  coSigner: readonly PublicKey[];
}

export interface VerifyPolicy {
  /** this CPE's option 60 vendor class / board name */
  model: string;
  /** dotted version of the running image, when known */
  runningVersion: string | null;
  /** signing time (s) of the running image, when it was signed */
  runningSignedAt: number | null;
  allowDowngrade: boolean;
}

export type ImageReason =
  | DecodeReason
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'NO_MANUFACTURER_SIGNATURE'
  | 'COSIGNATURE_MISSING'
  | 'PAYLOAD_MISMATCH'
  | 'MODEL_NOT_LISTED'
  | 'VERSION_ROLLBACK'
  | 'SIGNING_TIME_ROLLBACK'
  | 'BELOW_MIN_VERSION';

export interface Signer {
  role: SignerRole;
  keyId: string;
}

export type Verdict =
  | { ok: true; metadata: ImageMetadata; signers: Signer[]; trailerLength: number }
  | { ok: false; reason: ImageReason; message: string; metadata?: ImageMetadata };

export interface VerifyInput {
  /** the end of the file: the whole trailer (MAX_TRAILER bytes suffice) or the whole file */
  tail: Uint8Array;
  fileLength: number;
  /** SHA-256 (hex) of the first payloadLength bytes; null when not computed (→ PAYLOAD_MISMATCH) */
  payloadSha256: string | null;
  keys: TrustedKeys;
  policy: VerifyPolicy;
}

export function verifyImage(input: VerifyInput): Verdict {
  const d = decodeTrailer(input.tail, input.fileLength);
  if (!d.ok) return d;
  const t = d.trailer;
  const m = t.metadata;
  const refuse = (reason: ImageReason, message: string): Verdict => ({ ok: false, reason, message, metadata: m });

  const signers: Signer[] = [];
  for (const [i, s] of t.signatures.entries()) {
    const set = s.role === 'manufacturer' ? input.keys.manufacturer : input.keys.coSigner;
    const key = set.find((k) => k.id === s.keyId);
    if (!key) return refuse('UNKNOWN_KEY', `signature ${i + 1} (${s.role}) is by key ${s.keyId}, which is not a trusted ${s.role} key`);
    if (!verifyBytes(key, signingMessage(s.role, t.metadataBytes), s.signature)) {
      return refuse('BAD_SIGNATURE', `signature ${i + 1} (${s.role}, key ${s.keyId}) does not verify`);
    }
    signers.push({ role: s.role, keyId: s.keyId });
  }
  if (!signers.some((s) => s.role === 'manufacturer')) return refuse('NO_MANUFACTURER_SIGNATURE', 'no manufacturer signature');
  if (input.keys.coSigner.length > 0 && !signers.some((s) => s.role === 'co-signer')) {
    return refuse('COSIGNATURE_MISSING', 'a co-signature by the operator is required and missing');
  }
  if (input.payloadSha256 === null || input.payloadSha256.toLowerCase() !== m.payloadSha256) {
    return refuse('PAYLOAD_MISMATCH', `payload SHA-256 ${input.payloadSha256 ?? '(not computed)'} is not the signed ${m.payloadSha256}`);
  }
  if (!m.models.includes(input.policy.model)) {
    return refuse('MODEL_NOT_LISTED', `image is for ${m.models.join(', ')}, this CPE is ${input.policy.model}`);
  }
  const offered = parseVersion(m.version);
  const running = parseVersion(input.policy.runningVersion);
  if (m.minVersion !== undefined) {
    const min = parseVersion(m.minVersion);
    if (min && (!running || compareVersions(running, min) < 0)) {
      return refuse('BELOW_MIN_VERSION', `image ${m.version} may only replace ${m.minVersion} or later; running ${input.policy.runningVersion ?? 'unknown'}`);
    }
  }
  if (!input.policy.allowDowngrade) {
    if (offered && running && compareVersions(offered, running) < 0) {
      return refuse('VERSION_ROLLBACK', `signed version ${m.version} is older than running ${running.text}; policy allowDowngrade=false`);
    }
    if (input.policy.runningSignedAt !== null && m.signedAt < input.policy.runningSignedAt) {
      return refuse(
        'SIGNING_TIME_ROLLBACK',
        `signed at ${new Date(m.signedAt * 1000).toISOString()}, before the running image (${new Date(input.policy.runningSignedAt * 1000).toISOString()}); policy allowDowngrade=false`,
      );
    }
  }
  return { ok: true, metadata: m, signers, trailerLength: t.trailerLength };
}
