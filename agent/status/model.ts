/**
 * The one status model. `status` (text and --json), log summaries and later SNMP objects
 * are views of `StatusSnapshot`, built from the persistent state plus the daemon's
 * runtime file (phase, download progress). Pure: the caller reads the files.
 */
import type { PersistentState, HistoryEntry, AgentErrorRecord } from '../state/schema.ts';
import type { MaskedOffer } from '../upgrade/offer.ts';
import type { SlotName } from '../../platform/types.ts';

/** What the daemon is doing right now (written to runtime.json while it runs). */
export type RuntimePhase = 'starting' | 'waiting-for-lease' | 'deciding' | 'downloading' | 'staging' | 'idle' | 'waiting' | 'rebooting' | 'stopped';

export interface RuntimeStatus {
  pid: number;
  startedAt: number;
  updatedAt: number;
  phase: RuntimePhase;
  progress: { file: string; bytes: number; total: number | null; rate: number } | null;
  lease: { address: string; serverId: string; acquiredAt: number; leaseSeconds: number } | null;
}

/** The agent's state in one word (the `state` field of `status --json`). */
export type AgentStateName =
  | 'unknown'
  | 'starting'
  | 'waiting-for-lease'
  | 'no-offer'
  | 'up-to-date'
  | 'downloading'
  | 'retrying'
  | 'gave-up'
  | 'verify-failed'
  | 'refused'
  | 'ignoring-provisioning'
  | 'invalid-offer'
  | 'staged-awaiting-reboot'
  | 'rebooting';

export const STATE_TEXT: Readonly<Record<AgentStateName, string>> = {
  unknown: 'unknown (the agent has not run yet)',
  starting: 'starting',
  'waiting-for-lease': 'waiting for a DHCP lease',
  'no-offer': 'no software offer from the DHCP server',
  'up-to-date': 'up to date',
  downloading: 'downloading',
  retrying: 'download failed, retrying',
  'gave-up': 'gave up after repeated failures, waiting for the next DHCP ACK',
  'verify-failed': 'offered image failed verification, waiting for a new offer',
  refused: 'offer refused by policy',
  'ignoring-provisioning': 'ignoring provisioning (policy)',
  'invalid-offer': 'offer incomplete or invalid',
  'staged-awaiting-reboot': 'staged, awaiting reboot',
  rebooting: 'rebooting into the staged image',
};

export interface ImageView {
  slot: SlotName;
  version: string | null;
  md5: string;
  file: string | null;
  size: number;
}

export interface StatusSnapshot {
  state: AgentStateName;
  stateText: string;
  running: ImageView | null;
  staged: (ImageView & { urgent: boolean; rebootRequested: boolean }) | null;
  attempts: { failures: number; totalFailures: number; gaveUp: boolean; verifyFailed: boolean; nextAttemptAt: string | null; lastFailureCode: string | null };
  lastError: (Omit<AgentErrorRecord, 'at'> & { at: string }) | null;
  lastOffer: MaskedOffer | null;
  lastOfferAt: string | null;
  lastDecision: { action: string; code: string; reason: string; at: string } | null;
  /** configuration file last fetched from the offer (sub-options 7/8) */
  config: { file: string; md5: string; size: number; path: string; fetchedAt: string } | null;
  daemon: { running: boolean; pid: number | null; phase: RuntimePhase | null; progress: RuntimeStatus['progress']; lease: RuntimeStatus['lease'] };
  bootCount: number;
  history: Array<Omit<HistoryEntry, 'at'> & { at: string }>;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function stateName(s: PersistentState, rt: RuntimeStatus | null): AgentStateName {
  if (s.staged) return s.staged.rebootRequestedAt !== null ? 'rebooting' : 'staged-awaiting-reboot';
  if (rt) {
    if (rt.phase === 'downloading' || rt.phase === 'staging') return 'downloading';
    if (rt.phase === 'rebooting') return 'rebooting';
    if (rt.phase === 'starting') return 'starting';
    if (rt.phase === 'waiting-for-lease') return 'waiting-for-lease';
  }
  const d = s.lastDecision;
  if (!d) return s.running ? 'waiting-for-lease' : 'unknown';
  switch (d.code) {
    case 'UP_TO_DATE':
    case 'ALREADY_STAGED':
      return 'up-to-date';
    case 'NO_OFFER':
      return 'no-offer';
    case 'INVALID_OFFER':
      return 'invalid-offer';
    case 'IGNORE_PROVISIONING':
      return 'ignoring-provisioning';
    case 'DOWNGRADE_REFUSED':
    case 'SAME_VERSION_REFUSED':
    case 'UNPARSEABLE_REFUSED':
      return 'refused';
    case 'BACKOFF':
      return 'retrying';
    case 'GAVE_UP':
      return 'gave-up';
    case 'VERIFY_FAILED':
      return 'verify-failed';
    default:
      return d.action.startsWith('fetch') ? (rt ? 'downloading' : 'retrying') : 'up-to-date';
  }
}

/** `runtime` only when the daemon that wrote it is alive. */
export function buildStatus(s: PersistentState, runtime: RuntimeStatus | null, historyLimit = 20): StatusSnapshot {
  const state = stateName(s, runtime);
  const img = (r: PersistentState['running']): ImageView | null => (r ? { slot: r.slot, version: r.version, md5: r.md5, file: r.file, size: r.size } : null);
  return {
    state,
    stateText: STATE_TEXT[state],
    running: img(s.running),
    staged: s.staged ? { ...(img(s.staged) as ImageView), urgent: s.staged.urgent, rebootRequested: s.staged.rebootRequestedAt !== null } : null,
    attempts: {
      failures: s.attempts.failures,
      totalFailures: s.attempts.totalFailures,
      gaveUp: s.attempts.gaveUp,
      verifyFailed: s.attempts.verifyFailed,
      nextAttemptAt: iso(s.attempts.nextAttemptAt),
      lastFailureCode: s.attempts.lastFailureCode,
    },
    lastError: s.lastError ? { ...s.lastError, at: iso(s.lastError.at) ?? '' } : null,
    lastOffer: s.lastOffer,
    lastOfferAt: iso(s.lastOfferAt),
    lastDecision: s.lastDecision ? { ...s.lastDecision, at: iso(s.lastDecision.at) ?? '' } : null,
    config: s.config ? { ...s.config, fetchedAt: iso(s.config.fetchedAt) ?? '' } : null,
    daemon: {
      running: runtime !== null,
      pid: runtime?.pid ?? null,
      phase: runtime?.phase ?? null,
      progress: runtime?.progress ?? null,
      lease: runtime?.lease ?? null,
    },
    bootCount: s.bootCount,
    history: s.history.slice(-historyLimit).map((h) => ({ ...h, at: iso(h.at) ?? '' })),
  };
}

/** The status shown before the agent ever ran (no state file). */
export function unknownStatus(): StatusSnapshot {
  return {
    state: 'unknown',
    stateText: STATE_TEXT.unknown,
    running: null,
    staged: null,
    attempts: { failures: 0, totalFailures: 0, gaveUp: false, verifyFailed: false, nextAttemptAt: null, lastFailureCode: null },
    lastError: null,
    lastOffer: null,
    lastOfferAt: null,
    lastDecision: null,
    config: null,
    daemon: { running: false, pid: null, phase: null, progress: null, lease: null },
    bootCount: 0,
    history: [],
  };
}
