/**
 * What each daemon event does to the persistent state, as pure functions (the service
 * only sequences them, persists, and logs). Tests drive them with a fake clock.
 */
import type { PersistentState } from '../state/schema.ts';
import type { Decision } from '../upgrade/decide.ts';
import type { MaskedOffer } from '../upgrade/offer.ts';
import type { RetryPolicy } from '../upgrade/policy.ts';
import type { StagedImage } from '../upgrade/image.ts';
import type { SlotName } from '../../platform/types.ts';
import { withHistory } from '../state/history.ts';
import { onAck, recordFailure, recordSuccess, recordVerifyFailure } from '../upgrade/attempts.ts';
import { isImageRefusal, type ImageInfo } from '../image/check.ts';

/** Errors that reject the offered file until the offer changes (no retry). */
export const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'UPGRADE_MD5_MISMATCH',
  'UPGRADE_IMAGE_EMPTY',
  'SLOT_TOO_SMALL',
  'UPGRADE_CONFIG_TOO_LARGE',
  'UPGRADE_MD5_INVALID',
  'UPGRADE_CONFIG_APPLY_FAILED',
]);

/** A DHCP ACK: a new round of attempts if the last one gave up; the offer as last seen. */
export function onAckState(s: PersistentState, offer: MaskedOffer | null, now: number, option43Error?: { code: string; message: string }): PersistentState {
  return {
    ...s,
    attempts: onAck(s.attempts),
    configAttempts: onAck(s.configAttempts),
    lastOffer: offer,
    lastOfferAt: now,
    ...(option43Error ? { lastError: { code: option43Error.code, message: option43Error.message, at: now } } : {}),
  };
}

export interface DownloadFailure {
  part: 'software' | 'config';
  offerKey: string;
  file: string;
  code: string;
  /** already free of secrets */
  message: string;
  now: number;
  retry: RetryPolicy;
  /** random draw in [0, 1) for the jitter */
  rand: number;
}

export function onDownloadFailed(s: PersistentState, f: DownloadFailure): { state: PersistentState; permanent: boolean } {
  const permanent = PERMANENT_CODES.has(f.code) || isImageRefusal(f.code);
  const field = f.part === 'software' ? 'attempts' : 'configAttempts';
  const a = permanent ? recordVerifyFailure(s[field], f.offerKey, f.code, f.now) : recordFailure(s[field], f.offerKey, f.code, f.now, f.retry, f.rand);
  let n: PersistentState = { ...s, [field]: a, lastError: { code: f.code, message: f.message, at: f.now } };
  if (f.part === 'software') n = { ...n, upgrade: { source: 'provisioning', result: 'failed', file: f.file, server: null, at: f.now } };
  n = withHistory(n, { at: f.now, event: permanent ? 'verify-failed' : 'download-failed', detail: `${f.file}: ${f.code}` });
  if (a.gaveUp) n = withHistory(n, { at: f.now, event: 'gave-up', detail: `${a.failures} failed attempts for ${f.file}; waiting for the next DHCP ACK` });
  return { state: n, permanent };
}

export interface Staged {
  decision: Extract<Decision, { action: 'fetch-software' }>;
  protocol: 'tftp' | 'ftp';
  result: { slot: SlotName; bytes: number; md5: string; sha256: string; image?: ImageInfo };
  now: number;
  elapsedMs: number;
}

export function onStaged(s: PersistentState, x: Staged): PersistentState {
  const d = x.decision;
  // A verified signature's version is the one recorded (the file name only for unsigned images).
  const signed = x.result.image?.refusal === null ? x.result.image : undefined;
  const version = signed?.version ?? d.version;
  const staged: StagedImage = {
    slot: x.result.slot,
    md5: x.result.md5,
    sha256: x.result.sha256,
    size: x.result.bytes,
    version,
    file: d.file,
    source: x.protocol,
    installedAt: x.now,
    offerKey: d.offerKey,
    urgent: d.urgent,
    rebootRequestedAt: null,
    ...(signed?.signedAt != null ? { signedAt: signed.signedAt } : {}),
  };
  return withHistory(
    { ...s, staged, attempts: recordSuccess(s.attempts, d.offerKey), lastError: null, upgrade: { source: 'provisioning', result: 'complete', file: d.file, server: null, at: x.now } },
    { at: x.now, event: 'staged', slot: staged.slot, version, md5: staged.md5, detail: `${x.protocol} ${d.file} ${x.result.bytes} bytes in ${x.elapsedMs} ms${signed ? `, signed by ${signed.signers.map((s) => `${s.role} ${s.keyId}`).join(' + ')}` : ''}` },
  );
}

/** A reboot was requested (urgent offer, `reboot`, SNMP, health): recorded before it happens. */
export function onRebootRequested(s: PersistentState, reason: string, now: number): PersistentState {
  const staged = s.staged;
  return withHistory(staged ? { ...s, staged: { ...staged, rebootRequestedAt: now } } : s, {
    at: now,
    event: 'reboot-requested',
    ...(staged ? { slot: staged.slot, version: staged.version, md5: staged.md5 } : {}),
    detail: reason,
  });
}
