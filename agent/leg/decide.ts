/** One transaction → operations, by the rules in rules/*.ts. Pure. */
import type { LegConfig } from './config.ts';
import type { LegTransaction } from './transaction.ts';
import type { Op, StateView } from './state.ts';
import { classify } from './rules/classify.ts';
import { ackRule } from './rules/ack.ts';
import { releaseRule } from './rules/release.ts';
import { declineRule } from './rules/decline.ts';

export function decide(tx: LegTransaction, view: StateView, cfg: LegConfig): Op[] {
  const c = classify(tx);
  switch (c.kind) {
    case 'ignored':
      return [{ kind: 'ignored', reason: c.reason, time: tx.time }];
    case 'release':
      return releaseRule(tx, view, cfg);
    case 'decline':
      return declineRule(tx, view, cfg);
    default:
      return ackRule(tx, c.kind, view, cfg);
  }
}
