/**
 * The LEG engine: transactions in, events out, state in the store. Decisions are the pure
 * rules (decide.ts); this file only sequences them: before each transaction the leases that
 * expired before its time are auto-logged out (in expiry order), so events come out in time
 * order; events are written after their batch was committed (see store.ts).
 */
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { LegConfig } from './config.ts';
import type { LegTransaction } from './transaction.ts';
import type { Op } from './state.ts';
import type { LegStore, Position } from './store.ts';
import type { EventSink } from './events.ts';
import { EventBuffer } from './event-buffer.ts';
import { decide, optionsRead } from './decide.ts';
import type { OptionFilter } from './option-filter.ts';
import { autoLogout } from './rules/expiry.ts';
import { BoundedNames, LogThrottle } from './bounded.ts';

/** distinct `untrusted.<reason>.<address>` counters per reason; then `untrusted.<reason>.other` */
export const MAX_UNTRUSTED_COUNTERS = 64;

/** Counter names built once per (kind, reason): no string building per message. */
const keyCache = new Map<string, Map<string, string>>();
function counterKey(kind: string, reason: string): string {
  let m = keyCache.get(kind);
  if (!m) keyCache.set(kind, (m = new Map()));
  let k = m.get(reason);
  if (k === undefined) m.set(reason, (k = `${kind}.${reason}`));
  return k;
}
const EVENT_KEY: Record<string, string> = {
  logon: 'events.logon',
  extend: 'events.extend',
  logout: 'events.logout',
  'auto-logout': 'events.auto-logout',
  rejected: 'events.rejected',
};

export class LegEngine {
  private readonly cfg: LegConfig;
  readonly store: LegStore;
  private readonly sink: EventSink;
  private readonly log: Logger;
  /** events of the uncommitted batch, written after its commit */
  private readonly pending = new EventBuffer();
  private pendingTx = 0;
  /** the latest time seen: expiry sweeps never go back in time */
  private clock = 0;
  private positionSource: (() => { source: string; position: Position } | undefined) | undefined;
  /** what a source reading DHCP from the wire must keep of a message's options */
  readonly optionFilter: OptionFilter;
  private readonly untrustedNames: BoundedNames;
  /** one log line per minute (of transaction time) per untrusted server / destination */
  private readonly untrustedLog = new LogThrottle(60_000);

  constructor(cfg: LegConfig, store: LegStore, sink: EventSink, log: Logger = silentLogger()) {
    this.cfg = cfg;
    this.store = store;
    this.sink = sink;
    this.log = log;
    this.optionFilter = optionsRead(cfg);
    this.untrustedNames = new BoundedNames(MAX_UNTRUSTED_COUNTERS, Object.keys(store.counterValues()));
    if (cfg.trustedServers.length === 0) log.warn('trustedServers is empty: ACKs from every DHCP server are acted on (set trustedServers / --trusted-server)');
  }

  /** Applies one transaction; commits and writes events when the batch is full. */
  process(tx: LegTransaction): void {
    this.advance(tx.time);
    this.store.count('transactions');
    for (const op of decide(tx, this.store, this.cfg)) this.apply(op);
    if (++this.pendingTx >= this.cfg.batch.maxTransactions) this.flush();
  }

  /** Something on the DHCP ports that is not a DHCP message we can use (counted by kind). */
  malformed(kind: string, detail: string, time: number): void {
    this.advance(time);
    this.store.count(counterKey('malformed', kind));
    this.log.debug({ kind, detail }, 'malformed input');
    if (++this.pendingTx >= this.cfg.batch.maxTransactions) this.flush();
  }

  /** Live sources: the wall clock moves on without packets (auto-logout). */
  tick(now: number): void {
    this.advance(now);
  }

  setPosition(source: string, p: Position): void {
    this.store.setPosition(source, p);
  }

  /** `get()` is asked for the source's position at every commit (cheaper than setting it per packet). */
  trackPosition(get: () => { source: string; position: Position } | undefined): void {
    this.positionSource = get;
  }

  /** Commits the batch, then writes its events. */
  flush(): void {
    const p = this.positionSource?.();
    if (p) this.store.setPosition(p.source, p.position);
    this.store.commit();
    if (this.pending.count > 0) for (const part of this.pending.takeParts()) this.sink.write(part);
    this.pendingTx = 0;
  }

  counters(): Record<string, number> {
    return this.store.counterValues();
  }

  private advance(now: number): void {
    if (now > this.clock) this.clock = now;
    if (!this.cfg.autoLogout) return;
    const next = this.store.nextExpiry();
    if (next === undefined || next >= this.clock) return;
    for (const m of this.store.takeExpired(this.clock)) this.apply(autoLogout(m));
  }

  private apply(op: Op): void {
    switch (op.kind) {
      case 'ignored':
      case 'duplicate':
        this.store.count(counterKey(op.kind, op.reason));
        return;
      case 'untrusted': {
        this.store.count(this.untrustedNames.key(`untrusted.${op.reason}`, op.peer));
        const suppressed = this.untrustedLog.allow(`${op.reason} ${op.peer}`, op.time);
        if (suppressed !== undefined) {
          const what = op.reason === 'server' ? 'ACK from an untrusted DHCP server ignored' : `${op.reason.toUpperCase()} not addressed to a trusted server ignored`;
          this.log.warn({ [op.reason === 'server' ? 'server' : 'to']: op.peer, chaddr: op.chaddr, xid: op.xid, suppressedSinceLast: suppressed }, `${what} (logged once a minute per address)`);
        }
        return;
      }
      case 'logon':
      case 'extend':
        this.store.applyLogon(op);
        break;
      case 'logout':
      case 'auto-logout':
        this.store.applyLogout(op);
        break;
      case 'rejected':
        this.store.count(counterKey('rejected', op.reason));
        if (this.cfg.logFailures) {
          this.log.warn({ reason: op.reason, ip: op.ip, subscriber: op.subscriber, chaddr: op.chaddr, xid: op.xid }, 'transaction rejected');
        }
        break;
    }
    this.store.count(EVENT_KEY[op.kind] ?? `events.${op.kind}`);
    this.pending.add(op);
  }
}
