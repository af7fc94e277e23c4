/**
 * What a boot means for the persistent state (pure). The bootloader (sim: simulateBoot)
 * tells which slot runs now, whether on trial, and whether it fell back; this maps that onto
 * running / staged / previous images and the history:
 *
 *   booted the staged slot      → staged becomes running, the old running becomes previous
 *   fell back from the running  → previous becomes running again; the image that never got
 *   (trial) slot                  healthy is rejected until the offer changes
 *   booted an unexpected slot   → the previous image if it is the one, else rebuild from slots
 */
import type { SlotName } from '../../platform/types.ts';
import type { PersistentState } from '../state/schema.ts';
import { withHistory } from '../state/history.ts';
import { recordVerifyFailure } from '../upgrade/attempts.ts';
import type { ImageRecord } from '../upgrade/image.ts';

export interface BootFacts {
  slot: SlotName;
  trial: boolean;
  fellBackFrom?: SlotName;
  rebootReason?: string;
  /** the boot environment was damaged and rebuilt (platform/types.ts, BootEnv) */
  envRecovered?: { reason: string; keptAs: string | null };
}

export interface BootNote {
  level: 'info' | 'warn' | 'error';
  msg: string;
}

export interface BootReconciled {
  state: PersistentState;
  /** the state does not describe the booted slot: rebuild it from the slots */
  needsRebuild: boolean;
  notes: BootNote[];
}

function asRunning(r: ImageRecord): ImageRecord {
  return { slot: r.slot, md5: r.md5, sha256: r.sha256, size: r.size, version: r.version, file: r.file, source: r.source, installedAt: r.installedAt, offerKey: r.offerKey, ...(r.signedAt != null ? { signedAt: r.signedAt } : {}) };
}

export function reconcileBoot(input: PersistentState, boot: BootFacts, now: number): BootReconciled {
  let s: PersistentState = { ...input, bootCount: input.bootCount + 1 };
  const notes: BootNote[] = [];
  const running = s.running;
  if (!running) return { state: s, needsRebuild: true, notes };

  if (boot.fellBackFrom !== undefined) {
    const bad = boot.fellBackFrom === running.slot ? running : s.staged?.slot === boot.fellBackFrom ? s.staged : null;
    const detail = `slot ${boot.fellBackFrom} never became healthy; the bootloader fell back to slot ${boot.slot}`;
    notes.push({ level: 'error', msg: detail });
    s = withHistory(s, { at: now, event: 'fallback', slot: boot.slot, ...(bad ? { version: bad.version, md5: bad.md5 } : {}), detail });
    s = { ...s, lastError: { code: 'UPGRADE_BOOT_FALLBACK', message: detail, at: now } };
    if (bad?.offerKey) s = { ...s, attempts: recordVerifyFailure(s.attempts, bad.offerKey, 'UPGRADE_BOOT_FALLBACK', now) };
    if (s.staged?.slot === boot.fellBackFrom) s = { ...s, staged: null };
    if (s.previous && s.previous.slot === boot.slot) {
      s = { ...s, running: asRunning(s.previous), previous: null };
      return { state: s, needsRebuild: false, notes };
    }
    if (running.slot === boot.slot) return { state: s, needsRebuild: false, notes };
    return { state: { ...s, running: null }, needsRebuild: true, notes };
  }

  if (s.staged && boot.slot === s.staged.slot) {
    const staged = s.staged;
    const detail = `${boot.trial ? 'trial boot' : 'boot'} of slot ${boot.slot}${boot.rebootReason ? ` after reboot (${boot.rebootReason})` : ''}`;
    notes.push({ level: 'info', msg: `booted the staged image: slot ${boot.slot} version ${staged.version ?? '?'} md5 ${staged.md5}` });
    s = { ...s, previous: running, running: asRunning(staged), staged: null };
    s = withHistory(s, { at: now, event: 'booted', slot: boot.slot, version: staged.version, md5: staged.md5, detail });
    return { state: s, needsRebuild: false, notes };
  }

  if (boot.slot === running.slot) {
    if (s.staged?.rebootRequestedAt != null) {
      notes.push({ level: 'warn', msg: `a reboot into slot ${s.staged.slot} was requested but slot ${boot.slot} booted; the image stays staged` });
      s = { ...s, staged: { ...s.staged, rebootRequestedAt: null } };
    }
    s = withHistory(s, { at: now, event: 'booted', slot: boot.slot, version: running.version, md5: running.md5, detail: boot.rebootReason ? `reboot (${boot.rebootReason})` : 'start' });
    return { state: s, needsRebuild: false, notes };
  }

  if (s.previous && s.previous.slot === boot.slot) {
    const prev = s.previous;
    notes.push({ level: 'warn', msg: `slot ${boot.slot} booted instead of ${running.slot}: running the previous image again` });
    s = { ...s, running: asRunning(prev), previous: running, staged: null };
    s = withHistory(s, { at: now, event: 'booted', slot: boot.slot, version: prev.version, md5: prev.md5, detail: 'unexpected slot (previous image)' });
    return { state: s, needsRebuild: false, notes };
  }

  notes.push({ level: 'warn', msg: `slot ${boot.slot} booted but the state describes slot ${running.slot}: rebuilding from the slots` });
  return { state: { ...s, running: null, staged: null, previous: null }, needsRebuild: true, notes };
}
