/**
 * The signature check as a step of staging (agent/upgrade/stage.ts calls it through three
 * hooks; no second read of the image, memory flat):
 *
 * - `tap(sink)`: wraps the slot sink of the download; keeps the last MAX_TRAILER bytes of the
 *   stream (a bounded ring, copied before they are passed on);
 * - `readBack(stream)`: the read-back stage() does anyway: MD5 + SHA-256 of the whole slot, and
 *   the SHA-256 of the payload (the first payloadLength bytes, from the trailer seen on the
 *   stream; a copy of the running hash at that offset — still one pass);
 * - `conclude()`: the verdict (verify.ts). Mode `require`: a refusal throws
 *   AgentError `IMAGE_<REASON>` (stage() then discards the slot and never switches the boot
 *   environment). Mode `warn`: logs it and stages the image anyway.
 *
 * The whole file (payload + trailer) goes into the slot: the option 43 MD5 and the read-back
 * cover the file as served, and the signed metadata stays with the image (a slot filesystem
 * ignores the trailing bytes).
 */
import { createHash } from 'node:crypto';
import { AgentError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ByteSink } from '../transfer/types.ts';
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
  tap(inner: ByteSink): ByteSink;
  readBack(stream: AsyncIterable<Uint8Array>): Promise<ReadBackDigests>;
  conclude(): ImageInfo;
}

/** Keeps the last MAX_TRAILER bytes written (copies: the writer may reuse its chunks). */
class TailRing {
  private readonly buf = new Uint8Array(2 * MAX_TRAILER);
  private len = 0;
  total = 0;

  push(c: Uint8Array): void {
    this.total += c.length;
    if (c.length >= MAX_TRAILER) {
      this.buf.set(c.subarray(c.length - MAX_TRAILER), 0);
      this.len = MAX_TRAILER;
      return;
    }
    if (this.len + c.length > this.buf.length) {
      this.buf.copyWithin(0, this.len - MAX_TRAILER, this.len);
      this.len = MAX_TRAILER;
    }
    this.buf.set(c, this.len);
    this.len += c.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(Math.max(0, this.len - MAX_TRAILER), this.len);
  }
}

export interface ImageCheckOptions {
  mode: 'warn' | 'require';
  keys: TrustedKeys;
  policy: VerifyPolicy;
  log?: Logger;
}

export function createImageCheck(o: ImageCheckOptions): ImageCheck {
  const tail = new TailRing();
  let payloadSha256: string | null = null;
  let fileLength = 0;
  return {
    tap(inner) {
      return {
        write(chunk) {
          tail.push(chunk);
          return inner.write(chunk);
        },
      };
    },
    async readBack(stream) {
      const d = decodeTrailer(tail.bytes(), tail.total);
      const boundary = d.ok ? d.trailer.payloadLength : -1;
      const md5 = createHash('md5');
      const sha = createHash('sha256');
      let off = 0;
      for await (const chunk of stream) {
        const end = off + chunk.length;
        if (boundary >= off && boundary < end) {
          const k = boundary - off;
          sha.update(chunk.subarray(0, k));
          payloadSha256 = sha.copy().digest('hex');
          sha.update(chunk.subarray(k));
        } else {
          sha.update(chunk);
        }
        md5.update(chunk);
        off = end;
      }
      if (boundary === off) payloadSha256 = sha.copy().digest('hex');
      fileLength = off;
      return { bytes: off, md5: md5.digest('hex'), sha256: sha.digest('hex') };
    },
    conclude() {
      const tailBytes = tail.bytes();
      // The read-back must have covered the file the stream delivered.
      const v: Verdict =
        fileLength !== tail.total
          ? { ok: false, reason: 'PAYLOAD_MISMATCH', message: `read back ${fileLength} bytes, the stream delivered ${tail.total}` }
          : verifyImage({ tail: tailBytes, fileLength, payloadSha256, keys: o.keys, policy: o.policy });
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
