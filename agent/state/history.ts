/**
 * Pure helpers over the persistent state (no I/O): the empty state of a first start and the
 * bounded history. Core code (daemon/transitions.ts, daemon/boot.ts) imports them from here,
 * not from the store, which does file I/O.
 */
import { emptyAttempts } from '../upgrade/attempts.ts';
import { HISTORY_MAX, type HistoryEntry, type PersistentState } from './schema.ts';

export function emptyState(): PersistentState {
  return {
    schema: 1,
    running: null,
    staged: null,
    previous: null,
    attempts: emptyAttempts(),
    configAttempts: emptyAttempts(),
    config: null,
    lastError: null,
    lastOffer: null,
    lastOfferAt: null,
    lastDecision: null,
    history: [],
    bootCount: 0,
    platform: null,
    upgrade: null,
    ignoreProvisioning: null,
  };
}

/** Appends to the history, keeping the newest HISTORY_MAX entries. */
export function withHistory(s: PersistentState, entry: HistoryEntry): PersistentState {
  const history = [...s.history, entry];
  return { ...s, history: history.length > HISTORY_MAX ? history.slice(history.length - HISTORY_MAX) : history };
}
