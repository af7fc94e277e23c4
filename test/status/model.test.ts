import { describe, expect, it } from 'vitest';
import { buildStatus, unknownStatus, type RuntimeStatus } from '../../agent/status/model.ts';
import { renderStatusText } from '../../agent/status/render.ts';
import { emptyState } from '../../agent/state/store.ts';
import type { PersistentState } from '../../agent/state/schema.ts';
import { maskOffer } from '../../agent/upgrade/offer.ts';

const running = { slot: 'A' as const, md5: 'a'.repeat(32), sha256: null, size: 9, version: '1.2.0', file: 'X_FW_1_02_00.bin', source: 'factory' as const, installedAt: 0, offerKey: null };
const withDecision = (code: string, action = 'nothing'): PersistentState => ({ ...emptyState(), running, lastDecision: { action, code, reason: 'r', at: 0 } });
const rt = (phase: RuntimeStatus['phase']): RuntimeStatus => ({ pid: 1, startedAt: 0, updatedAt: 0, phase, progress: null, lease: null });

describe('status model', () => {
  it.each([
    ['UP_TO_DATE', 'up-to-date'],
    ['NO_OFFER', 'no-offer'],
    ['DOWNGRADE_REFUSED', 'refused'],
    ['IGNORE_PROVISIONING', 'ignoring-provisioning'],
    ['BACKOFF', 'retrying'],
    ['GAVE_UP', 'gave-up'],
    ['VERIFY_FAILED', 'verify-failed'],
    ['INVALID_OFFER', 'invalid-offer'],
  ])('decision %s → state %s', (code, state) => {
    expect(buildStatus(withDecision(code), null).state).toBe(state);
  });

  it('a staged image wins: awaiting reboot, then rebooting once requested', () => {
    const staged = { ...running, slot: 'B' as const, md5: 'b'.repeat(32), urgent: false, rebootRequestedAt: null };
    const s = buildStatus({ ...withDecision('ALREADY_STAGED'), staged }, null);
    expect(s).toMatchObject({ state: 'staged-awaiting-reboot', stateText: 'staged, awaiting reboot', staged: { slot: 'B', rebootRequested: false } });
    expect(buildStatus({ ...withDecision('ALREADY_STAGED'), staged: { ...staged, rebootRequestedAt: 5 } }, null).state).toBe('rebooting');
  });

  it('a live daemon downloading shows progress', () => {
    const r = { ...rt('downloading'), progress: { file: 'f', bytes: 50, total: 100, rate: 10 } };
    const s = buildStatus(withDecision('UPGRADE', 'fetch-software'), r);
    expect(s).toMatchObject({ state: 'downloading', daemon: { running: true, pid: 1, progress: { bytes: 50 } } });
    expect(renderStatusText(s)).toContain('50%');
  });

  it('the offer password is masked everywhere it is shown', () => {
    const offer = maskOffer({ protocol: 'ftp', server: '198.18.64.1', user: 'u', password: 'hunter2', softwareFile: 'f', softwareMd5: 'c'.repeat(32), unknown: [] });
    const s = buildStatus({ ...withDecision('UP_TO_DATE'), lastOffer: offer }, null);
    expect(s.lastOffer?.password).toBe('***');
    expect(JSON.stringify(s)).not.toContain('hunter2');
    expect(renderStatusText(s)).toContain('ftp://u:***@198.18.64.1/f');
  });

  it('text view names state, running image and history', () => {
    const text = renderStatusText(buildStatus({ ...withDecision('UP_TO_DATE'), history: [{ at: 0, event: 'factory-install', slot: 'A', version: '1.2.0' }] }, null));
    expect(text).toMatch(/^state +up to date$/m);
    expect(text).toMatch(/^running +slot A +version 1\.2\.0 +md5 a{32}/m);
    expect(text).toContain('factory-install');
  });

  it('unknown status before the first run', () => {
    expect(unknownStatus()).toMatchObject({ state: 'unknown', running: null, staged: null, lastError: null, lastOffer: null });
  });
});
