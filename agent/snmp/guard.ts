/**
 * The access gate in front of the library: drops what must not reach it (v1 when off,
 * unknown communities, unknown versions), counts every refusal in the standard counters
 * (snmpInBadVersions, snmpInBadCommunityNames, usmStats*) and logs once per source and kind
 * per minute, never per packet. Never logs a community, user key or digest.
 */
import type { Logger } from '../log.ts';
import type { SecurityCounters } from './objects.ts';
import { readHeader } from './header.ts';

export type Refusal = 'bad-version' | 'bad-community' | 'unknown-user' | 'wrong-digest' | 'decryption-error';

const COUNTER: Readonly<Record<Refusal, keyof SecurityCounters>> = {
  'bad-version': 'snmpInBadVersions',
  'bad-community': 'snmpInBadCommunityNames',
  'unknown-user': 'usmStatsUnknownUserNames',
  'wrong-digest': 'usmStatsWrongDigests',
  'decryption-error': 'usmStatsDecryptionErrors',
};

const TEXT: Readonly<Record<Refusal, string>> = {
  'bad-version': 'SNMP version not enabled',
  'bad-community': 'unknown community',
  'unknown-user': 'unknown SNMPv3 user',
  'wrong-digest': 'SNMPv3 authentication failed (wrong key)',
  'decryption-error': 'SNMPv3 decryption failed (wrong privacy key)',
};

export interface GuardOptions {
  v1: boolean;
  communities: ReadonlySet<string>;
  users: ReadonlySet<string>;
  log: Logger;
  now?: () => number;
  /** minimum time between two log lines for one source and kind */
  logIntervalMs?: number;
}

export class AccessGuard {
  readonly counters: SecurityCounters = { snmpInBadVersions: 0, snmpInBadCommunityNames: 0, usmStatsUnknownUserNames: 0, usmStatsWrongDigests: 0, usmStatsDecryptionErrors: 0 };
  private readonly o: GuardOptions;
  private readonly now: () => number;
  private readonly interval: number;
  /** `${kind} ${address}` → when it was last logged, and how many since */
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(o: GuardOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.interval = o.logIntervalMs ?? 60_000;
  }

  /** true: hand the packet to the library; false: drop it (already counted). */
  admit(packet: Uint8Array, from: string): boolean {
    const h = readHeader(packet);
    if (!h) return false;
    if ('community' in h) {
      if (h.version === 0 && !this.o.v1) return this.refuse('bad-version', from), false;
      if (!this.o.communities.has(h.community)) return this.refuse('bad-community', from), false;
      return true;
    }
    if ('user' in h) {
      // An empty user is engine discovery; an unknown one gets the library's usmStats report.
      if (h.user !== '' && !this.o.users.has(h.user)) this.refuse('unknown-user', from);
      return true;
    }
    this.refuse('bad-version', from);
    return false;
  }

  refuse(kind: Refusal, from: string): void {
    this.counters[COUNTER[kind]]++;
    const key = `${kind} ${from}`;
    const t = this.now();
    const last = this.logged.get(key);
    if (last && t - last.at < this.interval) {
      last.suppressed++;
      return;
    }
    if (this.logged.size >= 4096) this.prune(t);
    this.logged.set(key, { at: t, suppressed: 0 });
    const more = last?.suppressed ? ` (${last.suppressed} more since the last line)` : '';
    this.o.log.warn({ event: 'snmp.refused', kind, from, total: this.counters[COUNTER[kind]] }, `SNMP request from ${from} refused: ${TEXT[kind]}${more}`);
  }

  private prune(t: number): void {
    for (const [k, v] of this.logged) if (t - v.at >= this.interval) this.logged.delete(k);
    if (this.logged.size >= 4096) this.logged.clear();
  }
}
