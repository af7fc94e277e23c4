import { describe, expect, it } from 'vitest';
import { reconcileBoot } from '../../agent/daemon/boot.ts';
import { emptyState } from '../../agent/state/store.ts';
import type { PersistentState } from '../../agent/state/schema.ts';
import type { ImageRecord } from '../../agent/upgrade/image.ts';

const img = (slot: 'A' | 'B', md5ch: string, version: string, offerKey: string | null = null): ImageRecord => ({
  slot, md5: md5ch.repeat(32), sha256: null, size: 1, version, file: null, source: 'factory', installedAt: 0, offerKey,
});
const base = (): PersistentState => ({ ...emptyState(), running: img('A', 'a', '1.0.0') });

describe('reconcileBoot', () => {
  it('no running record → rebuild', () => {
    expect(reconcileBoot(emptyState(), { slot: 'A', trial: false }, 1).needsRebuild).toBe(true);
  });

  it('plain restart on the running slot: unchanged images, boot counted', () => {
    const r = reconcileBoot(base(), { slot: 'A', trial: false }, 5);
    expect(r.needsRebuild).toBe(false);
    expect(r.state.running?.slot).toBe('A');
    expect(r.state.bootCount).toBe(1);
    expect(r.state.history.at(-1)).toMatchObject({ event: 'booted', slot: 'A' });
  });

  it('booting the staged slot makes it the running image; the old one becomes previous', () => {
    const s = { ...base(), staged: { ...img('B', 'b', '1.1.0', 'k'), source: 'tftp' as const, urgent: true, rebootRequestedAt: 3 } };
    const r = reconcileBoot(s, { slot: 'B', trial: true, rebootReason: 'urgent upgrade offer' }, 5);
    expect(r.state.running).toMatchObject({ slot: 'B', version: '1.1.0', offerKey: 'k' });
    expect(r.state.running).not.toHaveProperty('urgent');
    expect(r.state.previous).toMatchObject({ slot: 'A', version: '1.0.0' });
    expect(r.state.staged).toBeNull();
    expect(r.state.history.at(-1)?.detail).toContain('urgent upgrade offer');
  });

  it('fallback from a trial image: previous runs again, the bad offer is rejected until it changes', () => {
    const s = { ...base(), running: img('B', 'b', '1.1.0', 'bad-offer'), previous: img('A', 'a', '1.0.0') };
    const r = reconcileBoot(s, { slot: 'A', trial: false, fellBackFrom: 'B' }, 9);
    expect(r.needsRebuild).toBe(false);
    expect(r.state.running).toMatchObject({ slot: 'A', version: '1.0.0' });
    expect(r.state.lastError?.code).toBe('UPGRADE_BOOT_FALLBACK');
    expect(r.state.attempts).toMatchObject({ offerKey: 'bad-offer', verifyFailed: true, lastFailureCode: 'UPGRADE_BOOT_FALLBACK' });
    expect(r.state.history.at(-1)).toMatchObject({ event: 'fallback', slot: 'A', version: '1.1.0' });
  });

  it('a requested reboot that came back on the same slot keeps the image staged', () => {
    const s = { ...base(), staged: { ...img('B', 'b', '1.1.0'), urgent: false, rebootRequestedAt: 3 } };
    const r = reconcileBoot(s, { slot: 'A', trial: false }, 5);
    expect(r.state.staged).toMatchObject({ slot: 'B', rebootRequestedAt: null });
    expect(r.notes.some((n) => n.level === 'warn')).toBe(true);
  });

  it('an unexpected slot with no record of it → rebuild', () => {
    const r = reconcileBoot(base(), { slot: 'B', trial: false }, 5);
    expect(r.needsRebuild).toBe(true);
    expect(r.state.running).toBeNull();
  });
});
