/**
 * The one status model. `status` (text and --json), log summaries and later SNMP objects
 * are views of `StatusSnapshot`, built from the persistent state plus the daemon's
 * runtime file (phase, download progress). Pure: the caller reads the files.
 */
import type { PersistentState, HistoryEntry, AgentErrorRecord, UpgradeOutcome } from '../state/schema.ts';
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
  /** this boot is a trial of a newly staged slot (ends when DHCP binds) */
  trial?: boolean;
}

/**
 * What a daemon that is gone left behind: runtime.json of a pid that is not alive (the
 * daemon was killed: no clean exit wrote `stopped`) and/or its control socket.
 */
export interface StaleDaemon {
  pid: number | null;
  /** last phase it recorded, and when */
  phase: RuntimePhase | null;
  updatedAt: number | null;
  progress: RuntimeStatus['progress'];
  /** files it left in the state dir (runtime.json, control.sock) */
  files: string[];
}

/** The state file as `status` found it. */
export type StateFileRead = { kind: 'ok' } | { kind: 'missing' } | { kind: 'corrupt'; reason: string };

/** The agent's state in one word (the `state` field of `status --json`). */
export type AgentStateName =
  | 'unknown'
  | 'state-corrupt'
  | 'interrupted'
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
  'state-corrupt': 'state file corrupt: the agent keeps it aside and rebuilds the state from the slots at its next start',
  interrupted: 'interrupted: the daemon is not running',
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
  /** signing time (ISO) when the image's signature was verified (agent/image) */
  signedAt?: string;
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
  daemon: {
    running: boolean;
    pid: number | null;
    phase: RuntimePhase | null;
    progress: RuntimeStatus['progress'];
    lease: RuntimeStatus['lease'];
    /** a daemon that is gone without a clean exit: its last recorded step and the files it left */
    lastSeen: { pid: number | null; phase: RuntimePhase | null; at: string | null; progress: RuntimeStatus['progress']; staleFiles: string[] } | null;
    /** this boot is a trial of a newly staged slot (ends when DHCP binds) */
    trial: boolean;
  };
  /** the state file: ok, missing (never ran), corrupt now, or rebuilt after it was corrupt */
  stateFile: { status: 'ok' | 'missing' | 'corrupt' | 'rebuilt'; detail: string | null; at: string | null };
  bootCount: number;
  /** how the last software upgrade ended (provisioning = DHCP offer, management = SNMP) */
  upgrade: (Omit<UpgradeOutcome, 'at'> & { at: string }) | null;
  /** policy.ignoreProvisioning as set over SNMP (docsDevSwAdminStatus); null: the config's */
  ignoreProvisioning: boolean | null;
  history: Array<Omit<HistoryEntry, 'at'> & { at: string }>;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** Phases in which a daemon that vanished left work unfinished. */
const ACTIVE: ReadonlySet<RuntimePhase> = new Set(['starting', 'deciding', 'downloading', 'staging', 'rebooting']);

function stateName(s: PersistentState, rt: RuntimeStatus | null, stale: StaleDaemon | null): AgentStateName {
  if (s.staged) return s.staged.rebootRequestedAt !== null ? 'rebooting' : 'staged-awaiting-reboot';
  if (rt) {
    if (rt.phase === 'downloading' || rt.phase === 'staging') return 'downloading';
    if (rt.phase === 'rebooting') return 'rebooting';
    if (rt.phase === 'starting') return 'starting';
    if (rt.phase === 'waiting-for-lease') return 'waiting-for-lease';
  } else if (stale?.phase && ACTIVE.has(stale.phase)) {
    return 'interrupted';
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
      // a fetch decision is the last record: downloading if a daemon runs; otherwise it was
      // cut short (killed), which is not a failed download unless one was counted
      if (!d.action.startsWith('fetch')) return 'up-to-date';
      if (rt) return 'downloading';
      return s.attempts.failures > 0 ? 'retrying' : 'interrupted';
  }
}

function stateText(state: AgentStateName, s: PersistentState, runtime: RuntimeStatus | null, stale: StaleDaemon | null): string {
  if (state === 'interrupted' && stale?.phase) return `interrupted while ${stale.phase}: the daemon is not running`;
  // nobody retries while no daemon runs: say what is true now
  if (state === 'retrying' && !runtime) return `download failed ${s.attempts.failures}×; retried when the daemon runs (it is not running)`;
  return STATE_TEXT[state];
}

function stateFileView(s: PersistentState): StatusSnapshot['stateFile'] {
  if (s.lastError?.code === 'STATE_CORRUPT') return { status: 'rebuilt', detail: s.lastError.message, at: iso(s.lastError.at) };
  const h = [...s.history].reverse().find((x) => x.event === 'rebuilt' && /corrupt/.test(x.detail ?? ''));
  if (h) return { status: 'rebuilt', detail: h.detail ?? null, at: iso(h.at) };
  return { status: 'ok', detail: null, at: null };
}

function lastSeenView(stale: StaleDaemon | null): StatusSnapshot['daemon']['lastSeen'] {
  return stale ? { pid: stale.pid, phase: stale.phase, at: iso(stale.updatedAt), progress: stale.progress, staleFiles: stale.files } : null;
}

/**
 * `runtime` only when the daemon that wrote it is alive; `stale` what a daemon that is gone
 * left behind (never both).
 */
export function buildStatus(s: PersistentState, runtime: RuntimeStatus | null, opts: { stale?: StaleDaemon | null; historyLimit?: number } = {}): StatusSnapshot {
  const stale = runtime ? null : (opts.stale ?? null);
  const historyLimit = opts.historyLimit ?? 20;
  const state = stateName(s, runtime, stale);
  const img = (r: PersistentState['running']): ImageView | null => (r ? { slot: r.slot, version: r.version, md5: r.md5, file: r.file, size: r.size, ...(r.signedAt != null ? { signedAt: new Date(r.signedAt * 1000).toISOString() } : {}) } : null);
  return {
    state,
    stateText: stateText(state, s, runtime, stale),
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
      lastSeen: lastSeenView(stale),
      trial: runtime?.trial === true,
    },
    stateFile: stateFileView(s),
    bootCount: s.bootCount,
    upgrade: s.upgrade ? { ...s.upgrade, at: iso(s.upgrade.at) ?? '' } : null,
    ignoreProvisioning: s.ignoreProvisioning,
    history: s.history.slice(-historyLimit).map((h) => ({ ...h, at: iso(h.at) ?? '' })),
  };
}

/**
 * The status without a usable state file: before the agent ever ran (missing), or with a
 * corrupt one (the daemon keeps it aside and rebuilds from the slots at its next start).
 */
export function unknownStatus(file: StateFileRead = { kind: 'missing' }, stale: StaleDaemon | null = null): StatusSnapshot {
  const corrupt = file.kind === 'corrupt';
  return {
    state: corrupt ? 'state-corrupt' : 'unknown',
    stateText: corrupt ? STATE_TEXT['state-corrupt'] : STATE_TEXT.unknown,
    running: null,
    staged: null,
    attempts: { failures: 0, totalFailures: 0, gaveUp: false, verifyFailed: false, nextAttemptAt: null, lastFailureCode: null },
    lastError: null,
    lastOffer: null,
    lastOfferAt: null,
    lastDecision: null,
    config: null,
    daemon: { running: false, pid: null, phase: null, progress: null, lease: null, lastSeen: lastSeenView(stale), trial: false },
    stateFile: corrupt ? { status: 'corrupt', detail: file.reason, at: null } : { status: 'missing', detail: null, at: null },
    bootCount: 0,
    upgrade: null,
    ignoreProvisioning: null,
    history: [],
  };
}
