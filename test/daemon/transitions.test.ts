import { describe, expect, it } from 'vitest';
import { onAckState, onDownloadFailed, onRebootRequested, onStaged } from '../../agent/daemon/transitions.ts';
import { emptyState } from '../../agent/state/store.ts';
import type { RetryPolicy } from '../../agent/upgrade/policy.ts';

const retry: RetryPolicy = { maxAttempts: 3, baseMs: 1000, maxMs: 8000, jitter: 0 };
const fail = (code: string, now: number) => ({ part: 'software' as const, offerKey: 'k', file: 'f.bin', code, message: `m ${code}`, now, retry, rand: 0.5 });

describe('daemon state transitions (fake clock)', () => {
  it('transient failures back off, the third gives up; the next ACK opens a new round', () => {
    let s = emptyState();
    s = onDownloadFailed(s, fail('TFTP_TIMEOUT', 0)).state;
    expect(s.attempts).toMatchObject({ failures: 1, nextAttemptAt: 1000, gaveUp: false });
    s = onDownloadFailed(s, fail('TFTP_TIMEOUT', 1000)).state;
    s = onDownloadFailed(s, fail('TFTP_TIMEOUT', 3000)).state;
    expect(s.attempts).toMatchObject({ failures: 3, gaveUp: true, nextAttemptAt: null });
    expect(s.history.map((h) => h.event)).toEqual(['download-failed', 'download-failed', 'download-failed', 'gave-up']);
    expect(s.lastError).toEqual({ code: 'TFTP_TIMEOUT', message: 'm TFTP_TIMEOUT', at: 3000 });
    s = onAckState(s, null, 4000);
    expect(s.attempts).toMatchObject({ failures: 0, gaveUp: false, totalFailures: 3 });
  });

  it.each(['UPGRADE_MD5_MISMATCH', 'SLOT_TOO_SMALL', 'UPGRADE_IMAGE_EMPTY'])('%s is permanent for the offer', (code) => {
    const r = onDownloadFailed(emptyState(), fail(code, 0));
    expect(r.permanent).toBe(true);
    expect(r.state.attempts).toMatchObject({ verifyFailed: true, nextAttemptAt: null });
    expect(r.state.history.at(-1)?.event).toBe('verify-failed');
  });

  it('config failures count separately from software failures', () => {
    const r = onDownloadFailed(emptyState(), { ...fail('FTP_NOT_FOUND', 0), part: 'config' });
    expect(r.state.configAttempts.failures).toBe(1);
    expect(r.state.attempts.failures).toBe(0);
  });

  it('staged: record with version, urgency and offer; counters and last error cleared', () => {
    let s = onDownloadFailed(emptyState(), fail('TFTP_TIMEOUT', 0)).state;
    s = onStaged(s, {
      decision: { action: 'fetch-software', code: 'UPGRADE', reason: 'r', offerKey: 'k', file: 'X_FW_1_03_00.bin', md5: 'e'.repeat(32), version: '1.3.0', urgent: true },
      protocol: 'tftp',
      result: { slot: 'B', bytes: 10, md5: 'e'.repeat(32), sha256: 'f'.repeat(64) },
      now: 50,
      elapsedMs: 7,
    });
    expect(s.staged).toMatchObject({ slot: 'B', version: '1.3.0', urgent: true, rebootRequestedAt: null, offerKey: 'k', source: 'tftp', size: 10 });
    expect(s.attempts).toMatchObject({ offerKey: 'k', failures: 0 });
    expect(s.lastError).toBeNull();
    s = onRebootRequested(s, 'urgent upgrade offer', 60);
    expect(s.staged?.rebootRequestedAt).toBe(60);
    expect(s.history.at(-1)).toMatchObject({ event: 'reboot-requested', slot: 'B', detail: 'urgent upgrade offer' });
  });
});
