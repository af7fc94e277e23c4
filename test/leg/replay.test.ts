/**
 * Replay resumption: an interrupted replay (stopped, cut short, or killed between batches)
 * followed by a replay of the whole capture reports every event exactly once, in the same
 * order as one uninterrupted run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { memorySink, type LegEvent } from '../../agent/leg/events.ts';
import { replayFile } from '../../agent/leg/sources/replay.ts';
import type { LegConfigInput } from '../../agent/leg/config.ts';
import { cfg } from './helpers.ts';
import { dhcpMix, writePcap, type MixStats } from '../../scripts/bench/gen-dhcp-capture.ts';

let dir: string;
let full: string;
let half: string;
let expected: LegEvent[];
const C: LegConfigInput = { cable: true, policy: { defaultPackage: 'basic' }, batch: { maxTransactions: 37, maxDelayMs: 100 } };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'leg-replay-'));
  const stats: MixStats = { messages: 0, acks: 0, releases: 0, subscribers: 0, cpes: 0 };
  // renewals every 1800 s; one CPE in three has a 1000 s lease and expires before it renews
  const records = [...dhcpMix(3000, 150, stats, 7, (n) => (n % 3 === 0 ? 1000 : 3600))];
  full = join(dir, 'full.pcap');
  half = join(dir, 'half.pcap');
  writePcap(full, records);
  writePcap(half, records.slice(0, 1234));
  expected = (await run([full])).events;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(files: string[], stateDir?: string, opts: { stopAfterChunks?: number; chunkSize?: number } = {}): Promise<{ events: LegEvent[]; store: LegStore }> {
  const sink = memorySink();
  const store = new LegStore(stateDir);
  const engine = new LegEngine(cfg(C), store, sink);
  for (const f of files) {
    let chunks = 0;
    await replayFile(engine, f, {
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      shouldStop: () => opts.stopAfterChunks !== undefined && ++chunks >= opts.stopAfterChunks,
    });
  }
  store.close();
  return { events: sink.events, store };
}

describe('replay restart', () => {
  it('the uninterrupted run has every kind of event', () => {
    const kinds = new Set(expected.map((e) => e.event));
    expect([...kinds].sort()).toEqual(['auto-logout', 'extend', 'logon', 'logout', 'rejected']);
    expect(expected.length).toBeGreaterThan(500);
  });

  it('half the capture, then the whole: the events equal one uninterrupted run', async () => {
    const sd = join(dir, 'state-half');
    const a = await run([half], sd);
    const b = await run([full], sd);
    expect(a.events.length).toBeGreaterThan(0);
    expect(b.events.length).toBeGreaterThan(0);
    expect([...a.events, ...b.events]).toEqual(expected);
  });

  it('any read size gives the same events (read buffers reused; records longer than half a buffer grow it)', async () => {
    for (const chunkSize of [1, 64, 333, 4096]) expect((await run([full], undefined, { chunkSize })).events).toEqual(expected);
  });

  it('stopped mid-file (signal), then restarted', async () => {
    const sd = join(dir, 'state-stop');
    const a = await run([full], sd, { stopAfterChunks: 3, chunkSize: 64 * 1024 });
    const b = await run([full], sd);
    expect(a.events.length).toBeGreaterThan(0);
    expect([...a.events, ...b.events]).toEqual(expected);
  });

  it('killed between batches (a commit never happens): the uncommitted batch was never reported and is redone', async () => {
    const sd = join(dir, 'state-crash');
    const sink = memorySink();
    const store = new LegStore(sd);
    const commit = store.commit.bind(store);
    let commits = 0;
    store.commit = () => {
      if (++commits === 20) throw new Error('power cut');
      commit();
    };
    const engine = new LegEngine(cfg(C), store, sink);
    await expect(replayFile(engine, full)).rejects.toThrow('power cut');
    store.close();
    const b = await run([full], sd);
    expect(sink.events.length).toBeGreaterThan(0);
    expect([...sink.events, ...b.events]).toEqual(expected);
  });

  it('replaying the same capture again reports nothing new, also after another capture', async () => {
    const sd = join(dir, 'state-again');
    await run([full], sd);
    expect((await run([full], sd)).events).toEqual([]);
    const other = join(dir, 'other.pcap');
    writePcap(other, dhcpMix(50, 5, { messages: 0, acks: 0, releases: 0, subscribers: 0, cpes: 0 }, 99));
    await run([other], sd);
    expect((await run([full], sd)).events).toEqual([]);
  });
});
