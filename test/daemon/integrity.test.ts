/**
 * What runs is what was verified (issue 8.2) and the boot environment never bricks the
 * device (issue 8.3): the daemon with the real sim platform, stage() and state store, fake
 * DHCP and fetchers; slots, bootenv.json and state.json damaged by hand between starts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Daemon, type Outcome } from '../../agent/daemon/service.ts';
import { openSimAgentPlatform } from '../../agent/daemon/platform-sim.ts';
import type { DhcpCallbacks, DhcpFactory, Fetchers } from '../../agent/daemon/ports.ts';
import { parseConfig } from '../../agent/config/load.ts';
import type { ConfigInput } from '../../agent/config/schema.ts';
import { StateStore, STATE_FILE } from '../../agent/state/store.ts';
import { stage } from '../../agent/upgrade/stage.ts';
import { createLogger } from '../../agent/log.ts';
import { AgentError } from '../../agent/errors.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import type { Fetcher } from '../../agent/transfer/types.ts';
import { readBootEnvFile } from '../../platform/sim/boot-env.ts';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
function image(seed: number, size = 150_000): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const FACTORY_FILE = 'FS-0900E_FW_1_02_00_20200101.bin';
const FACTORY = image(1);
const V13_FILE = 'FS-0900E_FW_1_03_00_20261123.bin';
const V13 = image(2);
const V11_FILE = 'FS-0900E_FW_1_01_00_20200101.bin';
const V11 = image(3);

let dir: string;
let fetched: string[];
let lines: Array<Record<string, unknown>>;
let exits: number;
const files = new Map<string, Uint8Array>([
  [V13_FILE, V13],
  [V11_FILE, V11],
]);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpe-integrity-'));
  writeFileSync(join(dir, FACTORY_FILE), FACTORY);
  fetched = [];
  lines = [];
  exits = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const memFetcher: Fetcher = async (req, sink, opts) => {
  fetched.push(req.file);
  const data = files.get(req.file);
  if (!data) throw new AgentError('FTP_FILE_NOT_FOUND', `${req.file}: not found`);
  opts?.onSize?.(data.length);
  for (let i = 0; i < data.length; i += 65536) await sink.write(data.subarray(i, i + 65536));
  return { bytes: data.length, total: data.length, elapsedMs: 1 };
};
const fetchers: Fetchers = { tftp: memFetcher, ftp: memFetcher };

const offer = (file: string, data: Uint8Array, urgent = false): Option43Offer => ({
  protocol: 'ftp', server: '198.18.64.1', user: 'fw', password: 'pw', softwareFile: file, softwareMd5: md5(data), flags: urgent ? 1 : 0, urgent, unknown: [],
});

function fakeDhcp(o: Option43Offer): DhcpFactory {
  return (c: DhcpCallbacks) => ({
    start: async () => {
      setTimeout(
        () =>
          c.onAck({
            iface: 'wan0', address: '198.18.64.10', prefixLength: 24, routers: [], dns: [], serverId: '198.18.64.1', leaseSeconds: 60, renewSeconds: 30,
            rebindSeconds: 50, acquiredAt: Date.now(), vendorClass: 'FS-0900E', option43: o,
          }),
        5,
      );
    },
    release: async () => undefined,
    stop: async () => undefined,
  });
}

const simDir = (): string => join(dir, 'sim');
const slot = (s: 'A' | 'B'): string => join(simDir(), `slot-${s}.img`);

async function start(o: Option43Offer, cfg: ConfigInput = {}, once = true, factoryVersion?: string): Promise<{ d: Daemon; done: Promise<Outcome> }> {
  const config = parseConfig({
    stateDir: join(dir, 'state'),
    platform: { sim: { dir: simDir(), slotCapacity: 1024 * 1024, factoryImage: join(dir, FACTORY_FILE) } },
    ...cfg,
  });
  const log = createLogger({ format: 'json', level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  const platform = await openSimAgentPlatform(
    { dir: simDir(), slotCapacity: 1024 * 1024, factoryImage: join(dir, FACTORY_FILE), versionPattern: config.policy.versionPattern, ...(factoryVersion ? { factoryVersion } : {}) },
    log,
    () => void exits++,
  );
  const d = new Daemon({ config, log, store: new StateStore(join(dir, 'state'), log), platform, dhcp: fakeDhcp(o), fetchers, stage, once });
  return { d, done: d.run() };
}

async function runOnce(o: Option43Offer, cfg: ConfigInput = {}): Promise<{ outcome: Outcome; d: Daemon }> {
  const { d, done } = await start(o, cfg);
  return { outcome: await done, d };
}

/** Overwrites 4 bytes of a slot in place (the `dd conv=notrunc` of the issue). */
function poke(s: 'A' | 'B', at = 1000): void {
  const fd = openSync(slot(s), 'r+');
  writeSync(fd, Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, at);
  closeSync(fd);
}

/** Factory 1.2.0 in A → 1.3.0 staged in B → booted and healthy: B committed, A previous. */
async function committedB(): Promise<void> {
  expect((await runOnce(offer(V13_FILE, V13))).outcome).toBe('staged');
  const r = await runOnce(offer(V13_FILE, V13));
  expect(r.outcome).toBe('up-to-date');
  expect(r.d.snapshot.running).toMatchObject({ slot: 'B', md5: md5(V13) });
  expect(await readBootEnvFile(simDir())).toMatchObject({ next: 'B', current: 'B', trial: false });
}

const ev = (name: string): Array<Record<string, unknown>> => lines.filter((l) => l.event === name);

describe('what runs is what was verified', () => {
  it('the staged image changed after staging, then a boot: the running MD5 is unknown, the offer is installed again into the other slot', async () => {
    expect((await runOnce(offer(V13_FILE, V13))).outcome).toBe('staged');
    poke('B');
    lines = [];
    const r = await runOnce(offer(V13_FILE, V13));
    expect(r.d.snapshot.running).toMatchObject({ slot: 'B', version: '1.3.0', mismatch: { expectedMd5: md5(V13) } });
    expect(r.d.snapshot.running?.md5).toBe(md5(readFileSync(slot('B'))));
    expect(ev('slot.mismatch')[0]).toMatchObject({ role: 'running', slot: 'B', level: 50 });
    expect(r.d.snapshot.history.map((h) => h.event)).toContain('slot-mismatch');
    // not UP_TO_DATE: the verified image goes into slot A (same version, reinstalled)
    expect(ev('decision')[0]).toMatchObject({ action: 'fetch-software', code: 'REINSTALL' });
    expect(r.outcome).toBe('staged');
    expect(r.d.snapshot.staged).toMatchObject({ slot: 'A', md5: md5(V13) });
    expect(md5(readFileSync(slot('A')))).toBe(md5(V13));
  });

  it('sameVersion=refuse does not keep a changed running image: it is reinstalled', async () => {
    expect((await runOnce(offer(V13_FILE, V13))).outcome).toBe('staged');
    poke('B');
    const r = await runOnce(offer(V13_FILE, V13), { policy: { sameVersion: 'refuse' } });
    expect(r.outcome).toBe('staged');
    expect(r.d.snapshot.lastError?.code).toBeUndefined(); // cleared by the successful staging
    expect(r.d.snapshot.history.map((h) => h.event)).toContain('slot-mismatch');
  });

  it('the staged slot changed before a requested reboot: discarded, the reboot keeps the running slot', async () => {
    const { d, done } = await start(offer(V13_FILE, V13), {}, false);
    for (let i = 0; i < 300 && !d.snapshot.staged; i++) await new Promise((r) => setTimeout(r, 10));
    expect(d.snapshot.staged).toMatchObject({ slot: 'B' });
    poke('B');
    await d.requestReboot('cli');
    expect(await done).toBe('rebooted');
    expect(exits).toBe(1);
    expect(d.snapshot.staged).toBeNull();
    expect(d.snapshot.lastError?.code).toBe('SLOT_STAGED_MISMATCH');
    expect(await readBootEnvFile(simDir())).toMatchObject({ next: 'A', current: 'A', trial: false });
    expect(statSync(slot('B')).size).toBe(0);
  });

  it('an intact running slot and staged image pass the check at start (no mismatch reported)', async () => {
    await committedB();
    expect(ev('slot.mismatch')).toEqual([]);
  });
});

describe('a corrupt state file: the running version is rebuilt from what is known', () => {
  it('the factory image → its version (from --factory-version); the downgrade guard holds', async () => {
    expect((await runOnce(offer(FACTORY_FILE, FACTORY))).outcome).toBe('up-to-date');
    writeFileSync(join(dir, 'state', STATE_FILE), '{"schema":1,"run');
    lines = [];
    // The factory file name carries 1.2.0; --factory-version says 1.2.5 and wins.
    const { d, done } = await start(offer(V11_FILE, V11), { policy: { unparseableVersion: 'install' } }, true, '1.2.5');
    expect(await done).toBe('refused');
    expect(d.snapshot.running).toMatchObject({ slot: 'A', md5: md5(FACTORY), version: '1.2.5', source: 'rebuilt' });
    expect(ev('decision')[0]).toMatchObject({ code: 'DOWNGRADE_REFUSED' });
    expect(fetched).toEqual([]);
  });

  it('an upgraded image → the version from the slot\'s version file (bound to its MD5)', async () => {
    await committedB();
    writeFileSync(join(dir, 'state', STATE_FILE), '');
    lines = [];
    const r = await runOnce(offer(V11_FILE, V11), { policy: { unparseableVersion: 'install' } });
    expect(r.d.snapshot.running).toMatchObject({ slot: 'B', md5: md5(V13), version: '1.3.0', file: V13_FILE, source: 'rebuilt' });
    expect(ev('decision')[0]).toMatchObject({ code: 'DOWNGRADE_REFUSED', msg: expect.stringContaining('older than running 1.3.0') });
    expect(r.outcome).toBe('refused');
  });

  it('an image of unknown version → the downgrade guard stays on even with unparseableVersion=install', async () => {
    await committedB();
    // A version file that names other bytes is ignored.
    writeFileSync(join(simDir(), 'slot-B.version.json'), JSON.stringify({ md5: 'f'.repeat(32), version: '9.9.9', file: null }));
    writeFileSync(join(dir, 'state', STATE_FILE), 'garbage');
    fetched = [];
    const r = await runOnce(offer(V11_FILE, V11), { policy: { unparseableVersion: 'install' } });
    expect(r.d.snapshot.running).toMatchObject({ slot: 'B', md5: md5(V13), version: null, source: 'rebuilt' });
    expect(r.d.snapshot.previous).toMatchObject({ slot: 'A', md5: md5(FACTORY), version: '1.2.0' });
    expect(r.outcome).toBe('refused');
    expect(fetched).toEqual([]);
    const allowed = await runOnce(offer(V11_FILE, V11), { policy: { allowDowngrade: true } });
    expect(allowed.outcome).toBe('staged');
  });
});

const CORRUPTIONS: Array<[string, string | Buffer]> = [
  ['unterminated JSON ({"next":"C")', '{"next":"C"'],
  ['truncated', '{\n  "next": "B",\n  "current": "B",\n  "tri'],
  ['empty (whitespace)', ' \n'],
  ['zero bytes', ''],
  ['wrong values (slot C)', JSON.stringify({ next: 'C', current: 'B', trial: false, tries: 0, maxTries: 3 })],
  ['wrong values (negative tries)', JSON.stringify({ next: 'B', current: 'B', trial: true, tries: -1, maxTries: 3 })],
  ['wrong values (switch without a trial)', JSON.stringify({ next: 'A', current: 'B', trial: false, tries: 0, maxTries: 3 })],
  ['wrong type', '[1,2,3]'],
  ['garbage', Buffer.from(image(7, 300))],
];

describe('a damaged boot environment never bricks the device', () => {
  for (const [kind, content] of CORRUPTIONS) {
    it(`${kind} → kept aside, rebuilt, the committed verified slot boots`, async () => {
      await committedB();
      writeFileSync(join(simDir(), 'bootenv.json'), content);
      lines = [];
      const r = await runOnce(offer(V13_FILE, V13));
      expect(r.outcome).toBe('up-to-date');
      expect(r.d.snapshot.running).toMatchObject({ slot: 'B', md5: md5(V13), version: '1.3.0' });
      expect(await readBootEnvFile(simDir())).toMatchObject({ next: 'B', current: 'B', trial: false });
      const aside = readdirSync(simDir()).filter((f) => f.startsWith('bootenv.json.damaged-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(simDir(), aside[0] ?? ''))).toEqual(Buffer.from(content));
      expect(ev('bootenv.recovered')[0]).toMatchObject({ level: 50, slot: 'B', verified: true });
      expect(r.d.snapshot.history.map((h) => h.event)).toContain('bootenv-recovered');
      expect(r.d.snapshot.lastError?.code).toBe('SLOT_BOOTENV_RECOVERED');
    });
  }

  it('the committed slot no longer verifies → the previous verified image boots', async () => {
    await committedB();
    poke('B');
    writeFileSync(join(simDir(), 'bootenv.json'), '{"next":"C"');
    const r = await runOnce(offer(V13_FILE, V13));
    expect(await readBootEnvFile(simDir())).toMatchObject({ current: 'A' });
    expect(r.d.snapshot.running).toMatchObject({ slot: 'A', md5: md5(FACTORY), version: '1.2.0' });
    expect(ev('bootenv.recovered')[0]).toMatchObject({ slot: 'A', verified: true });
  });

  it('damaged with a staged image: the committed slot boots, the verified staged image stays staged (env points at it again)', async () => {
    expect((await runOnce(offer(V13_FILE, V13))).outcome).toBe('staged');
    writeFileSync(join(simDir(), 'bootenv.json'), '');
    const r = await runOnce(offer(V13_FILE, V13));
    expect(r.outcome).toBe('staged');
    expect(r.d.snapshot.running).toMatchObject({ slot: 'A', md5: md5(FACTORY) });
    expect(r.d.snapshot.staged).toMatchObject({ slot: 'B', md5: md5(V13) });
    expect(await readBootEnvFile(simDir())).toMatchObject({ next: 'B', current: 'A', trial: true });
  });

  it('damaged with a changed staged image: the staged image is discarded at start', async () => {
    expect((await runOnce(offer(V13_FILE, V13))).outcome).toBe('staged');
    poke('B');
    writeFileSync(join(simDir(), 'bootenv.json'), 'garbage');
    const r = await runOnce(offer(FACTORY_FILE, FACTORY));
    expect(r.d.snapshot.running).toMatchObject({ slot: 'A', md5: md5(FACTORY) });
    expect(r.d.snapshot.staged).toBeNull();
    expect(r.d.snapshot.history.map((h) => h.event)).toContain('staged-discarded');
    expect(statSync(slot('B')).size).toBe(0);
    expect(await readBootEnvFile(simDir())).toMatchObject({ next: 'A', current: 'A', trial: false });
  });

  it('damaged while running: the last environment read is written back', async () => {
    await committedB();
    const { openSimPlatform } = await import('../../platform/sim/index.ts');
    const p = await openSimPlatform(simDir());
    await p.boot();
    writeFileSync(join(simDir(), 'bootenv.json'), '{"next":');
    expect(await p.bootEnv.read()).toEqual({ next: 'B', current: 'B', trial: false });
    expect(await readBootEnvFile(simDir())).toMatchObject({ next: 'B', current: 'B' });
  });
});
