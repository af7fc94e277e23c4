/**
 * The SNMP bench's agent process: the standalone SNMP agent (agent/snmp) over an in-memory
 * daemon whose status model is a staged-upgrade example, on 127.0.0.1:PORT.
 *   node scripts/bench/snmp-agent.ts PORT on|off
 * `off` loads the status model but not agent/snmp (the RSS baseline). Prints "ready" and
 * answers "rss" on stdin with its resident set size in KiB, "stats" with memoryUsage() and
 * the V8 heap spaces (KiB: size, used) as one JSON line.
 */
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { buildStatus, type StatusSnapshot } from '../../agent/status/model.ts';
import { emptyState } from '../../agent/state/store.ts';
import { configSchema } from '../../agent/config/schema.ts';
import { silentLogger } from '../../agent/log.ts';
import type { PersistentState } from '../../agent/state/schema.ts';

const [port, mode] = [Number(process.argv[2]), process.argv[3] ?? 'on'];
const md5 = (c: string): string => c.repeat(32);
const state: PersistentState = {
  ...emptyState(),
  running: { slot: 'A', md5: md5('7'), sha256: null, size: 1, version: '1.1.0', file: 'ESH-3105_FW_1_01_00_20250101.bin', source: 'factory', installedAt: 0, offerKey: null },
  staged: { slot: 'B', md5: md5('5'), sha256: null, size: 1, version: '1.2.0', file: 'ESH-3105_FW_1_02_00_20261123.bin', source: 'ftp', installedAt: 1, offerKey: 'k', urgent: false, rebootRequestedAt: null },
  lastOffer: { protocol: 'ftp', server: '198.18.1.1', user: 'cpe', password: '***', softwareFile: 'ESH-3105_FW_1_02_00_20261123.bin', softwareMd5: md5('5'), flags: 0, urgent: false, unknown: [] },
  lastOfferAt: 0,
};
const daemon = {
  status: (): StatusSnapshot => buildStatus(state, { pid: process.pid, startedAt: 0, updatedAt: 0, phase: 'idle', progress: null, lease: null }),
  requestReboot: async (): Promise<void> => undefined,
  requestManagementUpgrade: (): void => undefined,
  setIgnoreProvisioning: async (): Promise<void> => undefined,
  onHistory: (): void => undefined,
};
daemon.status();
async function main(): Promise<void> {
  if (mode === 'on') {
    // in the bench's bundle this module's code is present either way; it only runs here
    const { startSnmp } = await import('../../agent/snmp/index.ts');
    const cfg = configSchema.parse({ vendorClass: 'ESH-3105', snmp: { listen: { address: '127.0.0.1', port }, community: { read: 'bench-ro' } } });
    await startSnmp(cfg, daemon, silentLogger());
  }
  process.stdout.write('ready\n');
}
const rssKiB = (): number => {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m?.[1] ?? 0);
};
void main();
createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === 'stats') {
    process.stdout.write(JSON.stringify({ m: process.memoryUsage(), s: getHeapSpaceStatistics().map((x) => [x.space_name, x.space_size >> 10, x.space_used_size >> 10]) }) + '\n');
  } else if (l === 'rss') {
    globalThis.gc?.();
    process.stdout.write(`${rssKiB()}\n`);
  } else if (l === 'exit') process.exit(0);
});
