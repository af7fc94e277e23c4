/**
 * Stopping must stop (issue 8.1): SIGTERM (Daemon.stop) or a reboot request during a download
 * cancels it, discards the partial slot, leaves the boot environment alone, writes the state,
 * and after run() resolved nothing is written or logged any more. Real sim platform, real
 * stage() and state store; fake DHCP and fetchers (the lab test runs dist/cpe-agent against
 * vsftpd and tftpd-hpa).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Daemon, type Outcome } from '../../agent/daemon/service.ts';
import { openSimAgentPlatform } from '../../agent/daemon/platform-sim.ts';
import type { DhcpCallbacks, DhcpFactory } from '../../agent/daemon/ports.ts';
import { parseConfig } from '../../agent/config/load.ts';
import { StateStore } from '../../agent/state/store.ts';
import { stage } from '../../agent/upgrade/stage.ts';
import { createLogger } from '../../agent/log.ts';
import { AgentError } from '../../agent/errors.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import type { Fetcher } from '../../agent/transfer/types.ts';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const FACTORY_FILE = 'FS-0900E_FW_1_02_00_20200101.bin';
const NEW_FILE = 'FS-0900E_FW_1_03_00_20261123.bin';
const FACTORY = new Uint8Array(100_000).fill(1);
const IMAGE = new Uint8Array(600_000).map((_, i) => (i * 31) & 255);
const CHUNK = 16_384;

let dir: string;
let events: string[];
let lines: Array<Record<string, unknown>>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpe-stop-'));
  writeFileSync(join(dir, FACTORY_FILE), FACTORY);
  events = [];
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A slow fetcher: CHUNK bytes every 10 ms. `deaf`: ignores the signal (a fetcher that does
 * not cancel). `noticeMs`: how long it takes to notice an abort (a socket closing).
 */
function slowFetcher(o: { deaf?: boolean; noticeMs?: number } = {}): Fetcher {
  return async (req, sink, opts) => {
    events.push(`fetch ${req.file}`);
    opts?.onSize?.(IMAGE.length);
    for (let off = 0; off < IMAGE.length; off += CHUNK) {
      if (!o.deaf && opts?.signal?.aborted) {
        if (o.noticeMs) await sleep(o.noticeMs);
        events.push('fetch aborted');
        throw opts.signal.reason instanceof AgentError ? opts.signal.reason : new AgentError('FTP_ABORTED', 'aborted');
      }
      await sink.write(IMAGE.subarray(off, off + CHUNK));
      events.push('chunk');
      await sleep(10);
    }
    events.push('fetch done');
    return { bytes: IMAGE.length, total: IMAGE.length, elapsedMs: 1 };
  };
}

const offer: Option43Offer = { protocol: 'ftp', server: '198.18.64.1', user: 'fw', password: 'pw', softwareFile: NEW_FILE, softwareMd5: md5(IMAGE), flags: 0, urgent: false, unknown: [] };

function fakeDhcp(): DhcpFactory {
  return (c: DhcpCallbacks) => ({
    start: async () => {
      events.push('dhcp start');
      setTimeout(
        () =>
          c.onAck({
            iface: 'wan0', address: '198.18.64.10', prefixLength: 24, routers: [], dns: [], serverId: '198.18.64.1', leaseSeconds: 60, renewSeconds: 30,
            rebindSeconds: 50, acquiredAt: Date.now(), vendorClass: 'FS-0900E', option43: offer,
          }),
        5,
      );
    },
    release: async () => void events.push('dhcp release'),
    stop: async () => void events.push('dhcp stop'),
  });
}

async function daemon(fetcher: Fetcher, o: { stopGraceMs?: number; onLine?: (l: Record<string, unknown>, d: Daemon) => void } = {}): Promise<{ d: Daemon; done: Promise<Outcome> }> {
  const config = parseConfig({
    stateDir: join(dir, 'state'),
    platform: { sim: { dir: join(dir, 'sim'), slotCapacity: 1024 * 1024, factoryImage: join(dir, FACTORY_FILE) } },
  });
  let self: Daemon | undefined;
  const log = createLogger({
    format: 'json',
    level: 'debug',
    destination: {
      write: (s: string) => {
        const l = JSON.parse(s) as Record<string, unknown>;
        lines.push(l);
        if (self) o.onLine?.(l, self);
      },
    },
  });
  const platform = await openSimAgentPlatform(
    { dir: join(dir, 'sim'), slotCapacity: 1024 * 1024, factoryImage: join(dir, FACTORY_FILE), versionPattern: config.policy.versionPattern },
    log,
    () => {
      // The sim reboot ends the process: record what the slots look like at that moment.
      events.push(`exit (slot B ${statSync(join(dir, 'sim', 'slot-B.img')).size} bytes)`);
    },
  );
  const d = new Daemon({
    config, log, store: new StateStore(join(dir, 'state'), log), platform, dhcp: fakeDhcp(), fetchers: { tftp: fetcher, ftp: fetcher }, stage, once: false,
    ...(o.stopGraceMs !== undefined ? { stopGraceMs: o.stopGraceMs } : {}),
  });
  self = d;
  return { d, done: d.run() };
}

async function untilChunks(n: number): Promise<void> {
  for (let i = 0; i < 500 && events.filter((e) => e === 'chunk').length < n; i++) await sleep(5);
  expect(events.filter((e) => e === 'chunk').length).toBeGreaterThanOrEqual(n);
}

const files = (): { env: string; state: string; slotB: number } => ({
  env: readFileSync(join(dir, 'sim', 'bootenv.json'), 'utf8'),
  state: readFileSync(join(dir, 'state', 'state.json'), 'utf8'),
  slotB: statSync(join(dir, 'sim', 'slot-B.img')).size,
});

describe('daemon stop / reboot during a download', () => {
  it('stop: cancels the download, discards the slot, keeps the boot env, writes the state; nothing after', async () => {
    const { d, done } = await daemon(slowFetcher());
    await untilChunks(3);
    const env = readFileSync(join(dir, 'sim', 'bootenv.json'), 'utf8');
    const t0 = Date.now();
    await d.stop('SIGTERM');
    expect(await done).toBe('stopped');
    expect(Date.now() - t0).toBeLessThan(2000);
    const at = files();
    const logged = lines.length;
    expect(events).toContain('fetch aborted');
    expect(at.env).toBe(env);
    expect(at.slotB).toBe(0);
    const state = JSON.parse(at.state) as { staged: unknown; history: Array<{ event: string; detail?: string }> };
    expect(state.staged).toBeNull();
    expect(state.history.at(-1)).toMatchObject({ event: 'stopped', detail: expect.stringContaining(`download of ${NEW_FILE} cancelled`) });
    expect(lines.map((l) => l.event)).toContain('download.cancelled');
    await sleep(400);
    expect(files()).toEqual(at);
    expect(lines.length).toBe(logged);
    expect(events.filter((e) => e.endsWith('.bin'))).toHaveLength(1);
  });

  it('stop with a fetcher slower to cancel than the grace: when it ends after run() resolved, nothing is written or logged', async () => {
    const { d, done } = await daemon(slowFetcher({ noticeMs: 300 }), { stopGraceMs: 50 });
    await untilChunks(3);
    const env = readFileSync(join(dir, 'sim', 'bootenv.json'), 'utf8');
    await d.stop('SIGTERM');
    expect(await done).toBe('stopped');
    const at = files();
    const logged = lines.length;
    expect(events).not.toContain('fetch aborted');
    for (let i = 0; i < 100 && !events.includes('fetch aborted'); i++) await sleep(10);
    expect(events).toContain('fetch aborted');
    await sleep(200);
    expect(files().env).toBe(env);
    expect(files().state).toBe(at.state);
    expect(lines.slice(logged)).toEqual([]);
  });

  it('a stop that arrives while the decision is being recorded starts no download', async () => {
    let stopped: Promise<void> | undefined;
    const { done } = await daemon(slowFetcher(), {
      onLine: (l, d) => {
        if (l.event === 'decision' && l.action === 'fetch-software') stopped ??= d.stop('SIGTERM');
      },
    });
    expect(await done).toBe('stopped');
    await stopped;
    const logged = lines.length;
    await sleep(300);
    expect(events.filter((e) => e.endsWith('.bin'))).toEqual([]);
    expect(lines.slice(logged)).toEqual([]);
    expect(lines.map((l) => l.event)).not.toContain('download.start');
  });

  it('reboot request mid-download: the download is cancelled and its slot discarded before DHCPRELEASE and the reboot', async () => {
    const { d, done } = await daemon(slowFetcher({ noticeMs: 150 }));
    await untilChunks(3);
    const env = readFileSync(join(dir, 'sim', 'bootenv.json'), 'utf8');
    void d.requestReboot('cli');
    expect(await done).toBe('rebooted');
    const tail = events.filter((e) => e !== 'chunk');
    expect(tail.slice(-4)).toEqual(['fetch aborted', 'dhcp release', 'dhcp stop', 'exit (slot B 0 bytes)']);
    expect(readFileSync(join(dir, 'sim', 'bootenv.json'), 'utf8')).toBe(env);
    expect(d.snapshot.staged).toBeNull();
  });
});

describe('daemon stop during the boot', () => {
  it('waits for the boot, keeps the loaded state, starts no DHCP client, nothing after', async () => {
    // A first run leaves a state with the factory image running.
    {
      const { d, done } = await daemon(slowFetcher());
      await untilChunks(1);
      await d.stop('SIGTERM');
      expect(await done).toBe('stopped');
    }
    const before = JSON.parse(readFileSync(join(dir, 'state', 'state.json'), 'utf8')) as { running: { md5: string } };
    events = [];
    lines = [];
    const config = parseConfig({ stateDir: join(dir, 'state'), platform: { sim: { dir: join(dir, 'sim'), slotCapacity: 1024 * 1024 } } });
    const log = createLogger({ format: 'json', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
    const sim = await openSimAgentPlatform({ dir: join(dir, 'sim'), slotCapacity: 1024 * 1024, versionPattern: config.policy.versionPattern }, log, () => undefined);
    const platform = { ...sim, boot: async (r?: (why: string) => Promise<'A' | 'B'>) => (await sleep(150), sim.boot(r)) };
    const d = new Daemon({ config, log, store: new StateStore(join(dir, 'state'), log), platform, dhcp: fakeDhcp(), fetchers: { tftp: slowFetcher(), ftp: slowFetcher() }, stage, once: false });
    const done = d.run();
    await sleep(30);
    await d.stop('SIGTERM');
    expect(await done).toBe('stopped');
    const logged = lines.length;
    const state = readFileSync(join(dir, 'state', 'state.json'), 'utf8');
    await sleep(300);
    expect(events).toEqual([]);
    expect(lines.length).toBe(logged);
    expect(readFileSync(join(dir, 'state', 'state.json'), 'utf8')).toBe(state);
    expect(JSON.parse(state)).toMatchObject({ running: { md5: before.running.md5 }, history: expect.arrayContaining([expect.objectContaining({ event: 'stopped' })]) });
  });
});
