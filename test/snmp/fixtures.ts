/** A fake daemon for the SNMP tests: a status model from a fixture state, reboots recorded. */
import { createSocket } from 'node:dgram';
import { buildStatus, type StatusSnapshot } from '../../agent/status/model.ts';
import { emptyState } from '../../agent/state/store.ts';
import type { PersistentState } from '../../agent/state/schema.ts';
import type { SnmpDaemon } from '../../agent/snmp/index.ts';

export const RUNNING_MD5 = '777a9fd3'.padEnd(32, '0');
export const STAGED_MD5 = '549edec9'.padEnd(32, '1');

export function fixtureState(): PersistentState {
  const s = emptyState();
  return {
    ...s,
    running: { slot: 'A', md5: RUNNING_MD5, sha256: null, size: 1000, version: '1.1.0', file: 'ESH-3105_FW_1_01_00_20250101.bin', source: 'factory', installedAt: 0, offerKey: null },
    staged: { slot: 'B', md5: STAGED_MD5, sha256: null, size: 2000, version: '1.2.0', file: 'ESH-3105_FW_1_02_00_20261123.bin', source: 'ftp', installedAt: 1, offerKey: 'k', urgent: false, rebootRequestedAt: null },
    lastOffer: { protocol: 'ftp', server: '198.18.1.1', user: 'cpe', password: '***', softwareFile: 'ESH-3105_FW_1_02_00_20261123.bin', softwareMd5: STAGED_MD5, flags: 0, urgent: false, unknown: [] },
    lastOfferAt: Date.UTC(2026, 11, 2, 12, 0, 0),
    lastError: { code: 'FTP_TIMEOUT', message: 'ftp: idle timeout', at: Date.UTC(2026, 11, 2, 11, 0, 0) },
  };
}

export class FakeDaemon implements SnmpDaemon {
  state: PersistentState = fixtureState();
  reboots: string[] = [];
  upgrades: Array<{ server: string; file: string }> = [];
  phase: 'idle' | 'downloading' = 'idle';
  status(): StatusSnapshot {
    return buildStatus(this.state, { pid: process.pid, startedAt: 0, updatedAt: 0, phase: this.phase, progress: null, lease: null, trial: false });
  }
  requestManagementUpgrade(req: { server: string; file: string }): void {
    this.upgrades.push(req);
    this.phase = 'downloading';
  }
  listeners: Array<(e: import('../../agent/state/schema.ts').HistoryEntry) => void> = [];
  onHistory(fn: (e: import('../../agent/state/schema.ts').HistoryEntry) => void): void {
    this.listeners.push(fn);
  }
  emit(e: import('../../agent/state/schema.ts').HistoryEntry): void {
    for (const fn of this.listeners) fn(e);
  }
  async setIgnoreProvisioning(ignore: boolean): Promise<void> {
    this.state = { ...this.state, ignoreProvisioning: ignore };
  }
  async requestReboot(source: 'snmp'): Promise<void> {
    this.reboots.push(source);
  }
}

/** A UDP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}
