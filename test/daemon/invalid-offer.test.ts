/**
 * Offers that cannot be right (issue 8 point 5) through the whole daemon: real sim platform,
 * state store and stage(), a DHCP port that ACKs the offer and fetchers that record every
 * call. Such an offer is INVALID_OFFER: the fetcher is never called, no attempt is counted,
 * one log line says why, and `run --once` ends `invalid-offer`.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../agent/daemon/service.ts';
import { openSimAgentPlatform } from '../../agent/daemon/platform-sim.ts';
import type { DhcpFactory, Fetchers } from '../../agent/daemon/ports.ts';
import { parseConfig } from '../../agent/config/load.ts';
import { StateStore } from '../../agent/state/store.ts';
import { stage } from '../../agent/upgrade/stage.ts';
import { createLogger } from '../../agent/log.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import type { Fetcher } from '../../agent/transfer/types.ts';

const FACTORY = new Uint8Array(4096).fill(7);
const FACTORY_FILE = 'FS-0900E_FW_1_02_00_20200101.bin';
const GOOD: Option43Offer = {
  protocol: 'tftp', server: '198.18.64.1', softwareFile: 'FS-0900E_FW_1_03_00_20261123.bin', softwareMd5: createHash('md5').update('other').digest('hex'), flags: 0, urgent: false, unknown: [],
};

let dir: string;
let fetched: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpe-invalid-offer-'));
  writeFileSync(join(dir, FACTORY_FILE), FACTORY);
  fetched = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const recorder: Fetcher = async (req) => {
  fetched.push(`${req.protocol}://${req.server}/${req.file}`);
  throw new Error('must not be called');
};
const fetchers: Fetchers = { tftp: recorder, ftp: recorder };

async function runWith(offer: Option43Offer): Promise<{ outcome: string; lines: Array<Record<string, unknown>>; failures: number; total: number }> {
  const config = parseConfig({
    stateDir: join(dir, 'state'),
    platform: { sim: { dir: join(dir, 'sim'), slotCapacity: 65536, factoryImage: join(dir, FACTORY_FILE) } },
    retry: { baseSeconds: 0.01, maxSeconds: 0.02, jitter: 0 },
  });
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ format: 'json', level: 'info', destination: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) } });
  const platform = await openSimAgentPlatform({ dir: join(dir, 'sim'), slotCapacity: 65536, factoryImage: join(dir, FACTORY_FILE), versionPattern: config.policy.versionPattern }, log, () => undefined);
  const dhcp: DhcpFactory = (cb) => ({
    start: async () => {
      setTimeout(() => cb.onAck({ iface: 'wan0', address: '198.18.64.10', prefixLength: 24, routers: [], dns: [], serverId: '198.18.64.1', leaseSeconds: 60, renewSeconds: 30, rebindSeconds: 50, acquiredAt: Date.now(), vendorClass: 'FS-0900E', option43: offer }), 5);
    },
    release: async () => undefined,
    stop: async () => undefined,
  });
  const daemon = new Daemon({ config, log, store: new StateStore(join(dir, 'state'), log), platform, dhcp, fetchers, stage, once: true });
  const outcome = await daemon.run();
  return { outcome, lines, failures: daemon.snapshot.attempts.failures, total: daemon.snapshot.attempts.totalFailures };
}

describe('daemon: an offer that cannot be right is never fetched', () => {
  it.each([
    ['server 0.0.0.0', { server: '0.0.0.0' }],
    ['server 255.255.255.255', { server: '255.255.255.255' }],
    ['multicast server', { server: '239.1.2.3' }],
    ['loopback server', { server: '127.0.0.1' }],
    ['class E server', { server: '241.0.0.1' }],
    ['empty file name', { softwareFile: '' }],
    ['file name with NUL', { softwareFile: 'fw\u0000.bin' }],
    ['file name with a control character', { softwareFile: 'fw\u001b.bin' }],
  ])('%s → invalid-offer, no fetch, no attempt, one log line', async (_name, bad) => {
    const r = await runWith({ ...GOOD, ...bad });
    expect(r.outcome).toBe('invalid-offer');
    expect(fetched).toEqual([]);
    expect(r.failures).toBe(0);
    expect(r.total).toBe(0);
    const said = r.lines.filter((l) => l.code === 'INVALID_OFFER');
    expect(said).toHaveLength(1);
    expect(String(said[0]?.msg)).toMatch(/server|file name/);
  });

  it('control: a good offer reaches the fetcher and a failure is counted', async () => {
    const r = await runWith(GOOD);
    expect(fetched[0]).toBe('tftp://198.18.64.1/FS-0900E_FW_1_03_00_20261123.bin');
    expect(r.total).toBeGreaterThan(0);
  });
});
