/** One transaction → operations, by the rules in rules/*.ts. Pure. */
import type { LegConfig } from './config.ts';
import type { LegTransaction } from './transaction.ts';
import type { Op, StateView } from './state.ts';
import { classify } from './rules/classify.ts';
import { ackRule } from './rules/ack.ts';
import { releaseRule } from './rules/release.ts';
import { declineRule } from './rules/decline.ts';
import { optionFilter, type OptionFilter } from './option-filter.ts';
import { trustRule, trustedSet } from './rules/trust.ts';

/**
 * The options the rules look up under `cfg` (subscriber-id.ts, policy.ts): a transaction
 * read from the wire need keep no other (option 51 and 50 have fields of their own).
 */
export function optionsRead(cfg: LegConfig): OptionFilter {
  const sel: string[] = [...cfg.policy.options];
  if (cfg.cable) sel.push('82.2');
  if (cfg.subscriberOption !== null) sel.push(cfg.subscriberOption);
  return optionFilter(sel);
}

export function decide(tx: LegTransaction, view: StateView, cfg: LegConfig): Op[] {
  const c = classify(tx);
  if (c.kind === 'ignored') return [{ kind: 'ignored', reason: c.reason, time: tx.time }];
  const untrusted = trustRule(tx, c.kind === 'release' || c.kind === 'decline' ? c.kind : 'ack', trustedSet(cfg));
  if (untrusted) return [untrusted];
  switch (c.kind) {
    case 'release':
      return releaseRule(tx, view, cfg);
    case 'decline':
      return declineRule(tx, view, cfg);
    default:
      return ackRule(tx, c.kind, view, cfg);
  }
}
