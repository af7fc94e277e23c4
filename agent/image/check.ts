/**
 * The signature check as a step of staging (agent/upgrade/stage.ts calls it through two hooks;
 * the download stream is not touched, no second read of the image, memory flat):
 *
 * - `readBack(stream, length)`: the read-back stage() does anyway: MD5 + SHA-256 of the whole
 *   slot as before; the last MAX_TRAILER bytes (where the trailer must lie) are kept aside
 *   (8 KiB) before they are hashed, so once the trailer is read the SHA-256 of the payload (the
 *   first payloadLength bytes) is a copy of the running hash plus the head of that tail —
 *   still one pass;
 * - `conclude()`: the verdict (verify.ts). Mode `require`: a refusal throws
 *   AgentError `IMAGE_<REASON>` (stage() then discards the slot and never switches the boot
 *   environment). Mode `warn`: logs it and stages the image anyway.
 *
 * The whole file (payload + trailer) goes into the slot: the option 43 MD5 and the read-back
 * cover the file as served, and the signed metadata stays with the image (a slot filesystem
 * ignores the trailing bytes).
 */
import { nodeCrypto } from '../util/crypto.ts';
import { AgentError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { decodeTrailer, MAX_TRAILER } from './format.ts';
import { verifyImage, type ImageReason, type Signer, type TrustedKeys, type Verdict, type VerifyPolicy } from './verify.ts';

export type SignatureMode = 'off' | 'warn' | 'require';

/** What staging learned about the image's signature (recorded with the staged image). */
export interface ImageInfo {
  signed: boolean;
  /** signed metadata, when the trailer verified */
  version: string | null;
  signedAt: number | null;
  models: string[];
  signers: Signer[];
  payloadLength: number | null;
  payloadSha256: string | null;
  /** why it did not verify (mode warn), null when it did */
  refusal: { reason: ImageReason; message: string } | null;
}

export interface ReadBackDigests {
  bytes: number;
  md5: string;
  sha256: string;
}

export interface ImageCheck {
  /** Digests of the first `length` bytes of the slot (the stream yields them), payload SHA-256 kept for conclude(). */
  readBack(stream: AsyncIterable<Uint8Array>, length: number): Promise<ReadBackDigests>;
  conclude(): ImageInfo;
}

export interface ImageCheckOptions {
  mode: 'warn' | 'require';
  keys: TrustedKeys;
  policy: VerifyPolicy;
  log?: Logger;
}

export function createImageCheck(o: ImageCheckOptions): ImageCheck {
  let payloadSha256: string | null = null;
  let tail = new Uint8Array(0);
  let fileLength = -1;
  return {
    async readBack(stream, length) {
      const tailStart = Math.max(0, length - MAX_TRAILER);
      const kept = new Uint8Array(length - tailStart);
      const md5 = nodeCrypto().createHash('md5');
      const sha = nodeCrypto().createHash('sha256');
      let off = 0;
      for await (const chunk of stream) {
        md5.update(chunk);
        const head = Math.min(chunk.length, Math.max(0, tailStart - off));
        if (head > 0) sha.update(head === chunk.length ? chunk : chunk.subarray(0, head));
        if (head < chunk.length && off + head < length) {
          const part = chunk.subarray(head, Math.min(chunk.length, head + length - (off + head)));
          kept.set(part, off + head - tailStart);
        }
        off += chunk.length;
      }
      if (off !== length) throw new AgentError('SLOT_IO', `read back ${off} bytes of the slot, ${length} expected`);
      const d = decodeTrailer(kept, length);
      if (d.ok) payloadSha256 = sha.copy().update(kept.subarray(0, d.trailer.payloadLength - tailStart)).digest('hex');
      sha.update(kept);
      tail = kept;
      fileLength = length;
      return { bytes: off, md5: md5.digest('hex'), sha256: sha.digest('hex') };
    },
    conclude() {
      const v: Verdict =
        fileLength < 0
          ? { ok: false, reason: 'PAYLOAD_MISMATCH', message: 'the slot was not read back' }
          : verifyImage({ tail, fileLength, payloadSha256, keys: o.keys, policy: o.policy });
      if (v.ok) {
        const m = v.metadata;
        return { signed: true, version: m.version, signedAt: m.signedAt, models: m.models, signers: v.signers, payloadLength: m.payloadLength, payloadSha256, refusal: null };
      }
      const code = `IMAGE_${v.reason}`;
      if (o.mode === 'require') {
        throw new AgentError(code, `image refused (policy.signature=require): ${v.message}`, { reason: v.reason });
      }
      o.log?.warn({ event: 'image.unverified', code, reason: v.reason }, `image signature not verified (policy.signature=warn, staging anyway): ${v.message}`);
      return { signed: v.reason !== 'UNSIGNED', version: null, signedAt: null, models: [], signers: [], payloadLength: null, payloadSha256: null, refusal: { reason: v.reason, message: v.message } };
    },
  };
}

/** Codes of a refused image (AgentError code → failed verification, not retried). */
export function isImageRefusal(code: string): boolean {
  return code.startsWith('IMAGE_') && code !== 'IMAGE_KEY_INVALID' && code !== 'IMAGE_SIGN_INVALID';
}
