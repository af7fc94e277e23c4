/**
 * Verify-and-stage: stream an image from any Fetcher straight into the inactive slot (no
 * temporary copy, memory flat in image size) while its MD5 is computed on the stream; fsync; read the slot back, check its MD5 and
 * record its SHA-256 (of the bytes that will boot; one pass over the data, which the
 * read-back makes anyway); only then switch the boot environment to the new slot on trial.
 *
 * Guarantees:
 * - the running slot is never written (SLOT_RUNNING / SLOT_TRIAL_UNCONFIRMED);
 * - an image larger than the slot is refused before the slot is opened (SLOT_TOO_SMALL when
 *   the size is announced; an unannounced stream that outgrows the slot is aborted);
 * - on any failure (transfer, MD5 mismatch on the stream or the read-back, ENOSPC → SLOT_NO_SPACE)
 *   the partial image is discarded (slot truncated to empty) and the boot environment is not
 *   switched; a pending switch to the slot being overwritten is cancelled before the first write;
 * - an aborted `signal` (the agent stops or reboots) is checked before every step that changes
 *   something (opening the slot, the read-back, the boot environment switch): once it is
 *   aborted the slot is discarded and the boot environment is left as it is.
 */
import { AgentError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { Md5Sink, digestStream, isMd5Hex } from '../transfer/hashing-sink.ts';
import type { ByteSink, Fetcher, TransferProgress, TransferRequest } from '../transfer/types.ts';
import type { ImageCheck, ImageInfo } from '../image/check.ts';
import { otherSlot, type BootEnv, type SlotName, type SlotWriter, type Slots } from '../../platform/types.ts';

export interface StageRequest {
  fetcher: Fetcher;
  request: TransferRequest;
  /**
   * expected MD5 of the image (option 43 sub-option 6), 32 hex digits; null when none is known
   * (an SNMP management upgrade): the stream's MD5 is then the reference of the read-back
   */
  md5: string | null;
  slots: Slots;
  bootEnv: BootEnv;
  log?: Logger;
  now?: () => number;
}

export interface StageOptions {
  onProgress?: (p: TransferProgress) => void;
  signal?: AbortSignal;
  /** switch the boot environment to the staged slot (default true) */
  activate?: boolean;
  /** test hook: runs after the fsync, before the read-back */
  beforeReadBack?: (slot: SlotName) => Promise<void> | void;
  /**
   * Signed-image check (agent/image/check.ts): does the read-back (adding the payload
   * SHA-256), then concludes before the boot environment is touched; a refusal throws and
   * the slot is discarded like any failed verification.
   */
  verifyImage?: ImageCheck;
}

export interface StageResult {
  slot: SlotName;
  bytes: number;
  /** lowercase hex, verified on the stream and on the read-back */
  md5: string;
  /** lowercase hex, of the slot as read back */
  sha256: string;
  /** remote file name */
  file: string;
  elapsedMs: number;
  /** what the signed-image check found (only with opts.verifyImage) */
  image?: ImageInfo;
}

export async function stage(req: StageRequest, opts: StageOptions = {}): Promise<StageResult> {
  const log = req.log ?? silentLogger();
  const now = req.now ?? Date.now;
  const started = now();
  const wanted = req.md5 === null ? null : req.md5.trim().toLowerCase();
  if (wanted !== null && !isMd5Hex(wanted)) {
    throw new AgentError('UPGRADE_MD5_INVALID', `expected MD5 is not 32 hex digits: ${JSON.stringify((req.md5 ?? "").slice(0, 40))}`);
  }
  const signal = opts.signal;
  /** Throws the abort reason once the signal is aborted: no further side effect. */
  const live = (): void => {
    if (!signal?.aborted) return;
    throw signal.reason instanceof AgentError ? signal.reason : new AgentError('UPGRADE_ABORTED', 'staging aborted', { file: req.request.file });
  };
  live();
  const boot = await req.bootEnv.read();
  if (boot.next === boot.current && boot.trial) {
    throw new AgentError('SLOT_TRIAL_UNCONFIRMED', `running slot ${boot.current} is still on trial: mark it good before staging over the fallback slot`, {
      slot: boot.current,
    });
  }
  const target = otherSlot(boot.current);
  const capacity = await req.slots.capacity(target);
  const file = req.request.file;
  const ctx = { slot: target, file, server: req.request.server, protocol: req.request.protocol };
  log.info({ ...ctx, capacity, md5: wanted }, `stage: ${file} → slot ${target}`);

  let writer: SlotWriter | undefined;
  const open = async (): Promise<SlotWriter> => {
    if (!writer) {
      live();
      const b = await req.bootEnv.read();
      live();
      if (b.next === target) {
        log.warn({ ...ctx }, `stage: cancelling the pending switch to slot ${target} before overwriting it`);
        await req.bootEnv.setNext(b.current);
      }
      writer = await req.slots.openWriter(target);
    }
    return writer;
  };
  const discard = async (why: string): Promise<void> => {
    if (!writer) return;
    try {
      await writer.abort();
      log.warn({ ...ctx, why }, `stage: slot ${target} discarded (${why})`);
    } catch (e) {
      log.error({ ...ctx, why, error: e instanceof Error ? e.message : String(e) }, `stage: discarding slot ${target} failed`);
    }
  };

  // Synchronous once the writer is open (the slot writer buffers): the fetcher's hot path
  // (TFTP ACK) then needs no promise hop per block.
  // Once the signal is aborted the slot takes no more bytes, even from a fetcher that does
  // not watch the signal itself: its next write fails with the abort reason.
  const slotSink: ByteSink = {
    write: (chunk) => {
      live();
      return writer ? writer.write(chunk) : open().then((w) => w.write(chunk));
    },
  };
  const sink = new Md5Sink(slotSink);
  try {
    const result = await req.fetcher(req.request, sink, {
      onSize: (total) => {
        if (total > capacity) {
          throw new AgentError('SLOT_TOO_SMALL', `image ${file} is ${total} bytes, slot ${target} holds ${capacity}`, { slot: target, bytes: total, capacity });
        }
      },
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
    const got = sink.digest();
    if (got.bytes !== result.bytes) {
      throw new AgentError('UPGRADE_TRANSFER_INCONSISTENT', `fetcher reported ${result.bytes} bytes, sink received ${got.bytes}`, { ...ctx });
    }
    if (got.bytes === 0) throw new AgentError('UPGRADE_IMAGE_EMPTY', `image ${file} is empty`, { ...ctx });
    const expected = wanted ?? got.md5;
    if (got.md5 !== expected) {
      throw new AgentError('UPGRADE_MD5_MISMATCH', `image ${file}: MD5 ${got.md5} on the stream, expected ${expected}`, {
        ...ctx,
        stage: 'stream',
        expected,
        actual: got.md5,
        bytes: got.bytes,
      });
    }
    live();
    const w = await open();
    const { bytes } = await w.commit();
    if (bytes !== got.bytes) {
      throw new AgentError('SLOT_IO', `slot ${target} committed ${bytes} bytes, ${got.bytes} were streamed`, { ...ctx });
    }
    await opts.beforeReadBack?.(target);
    live();
    const back = opts.verifyImage ? await opts.verifyImage.readBack(req.slots.read(target, bytes), bytes) : await digestStream(req.slots.read(target, bytes));
    if (back.md5 !== expected || back.bytes !== bytes) {
      throw new AgentError('UPGRADE_MD5_MISMATCH', `slot ${target} read back with MD5 ${back.md5} (${back.bytes} bytes), expected ${expected}`, {
        ...ctx,
        stage: 'read-back',
        expected,
        actual: back.md5,
        bytes,
      });
    }
    const image = opts.verifyImage?.conclude();
    if (opts.activate !== false) {
      live(); // the last moment a stop or reboot request can keep the boot environment as it is
      await req.bootEnv.setNext(target);
      log.info({ ...ctx }, `stage: boot environment → slot ${target} on trial`);
    }
    const elapsedMs = now() - started;
    log.info({ ...ctx, bytes, md5: got.md5, sha256: back.sha256, elapsedMs }, `stage: slot ${target} staged and verified (${bytes} bytes)`);
    return { slot: target, bytes, md5: got.md5, sha256: back.sha256, file, elapsedMs, ...(image ? { image } : {}) };
  } catch (e) {
    const err = e instanceof AgentError ? e : new AgentError('UPGRADE_STAGE_FAILED', `staging ${file} failed: ${e instanceof Error ? e.message : String(e)}`, { ...ctx }, { cause: e });
    await discard(err.code);
    throw err;
  }
}
