/**
 * LEG bench: replay of a generated capture (≥ 10^6 DHCP messages, the realistic mix of
 * scripts/bench/gen-dhcp-capture.ts: relayed logons with option 82, renewals, releases,
 * 10^5 cable subscribers) on one core, against tshark decoding the same file
 * (`tshark -r FILE -Y dhcp -T fields -e dhcp.ip.your`). Reported, never asserted.
 *
 *   node scripts/bench/leg.bench.ts [MESSAGES] [SUBSCRIBERS]
 *
 * Goals: ≥ 10× tshark, ≥ 200,000 ACK/s. Two LEG runs: the in-memory database (replay
 * without --state-dir) and the persistent one (node:sqlite, WAL, synchronous=FULL, one
 * commit per batch of 5000 transactions: the durability window is one batch, and events of
 * a batch are written only after its commit).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ackOnly, dhcpMix, writePcap, type MixStats } from './gen-dhcp-capture.ts';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { parseConfig } from '../../agent/leg/config.ts';
import { replayFile } from '../../agent/leg/sources/replay.ts';
import type { EventSink } from '../../agent/leg/events.ts';

/** CPU seconds (user+system) of waited-for children, from /proc/self/stat (cutime, cstime). */
function childCpuSeconds(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); cutime and cstime are fields 16 and 17
  return (Number(rest[13]) + Number(rest[14])) / 100;
}

// Memory per subscriber needs a settled heap: re-run this file with --expose-gc.
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, process.argv[1] ?? '', ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const MESSAGES = Number(process.argv[2] ?? 1_000_000);
const SUBSCRIBERS = Number(process.argv[3] ?? 100_000);

const dir = mkdtempSync(join(tmpdir(), 'leg-bench-'));
try {
  const file = join(dir, 'mix.pcap');
  const stats: MixStats = { messages: 0, acks: 0, releases: 0, subscribers: 0, cpes: 0 };
  let t = performance.now();
  writePcap(file, dhcpMix(MESSAGES, SUBSCRIBERS, stats));
  const genS = (performance.now() - t) / 1000;
  const mb = statSync(file).size / 1e6;
  process.stdout.write(
    `capture: ${stats.messages} DHCP messages (${stats.acks} ACK, ${stats.releases} RELEASE), ${stats.subscribers} subscribers, ${stats.cpes} CPEs, ${mb.toFixed(0)} MB, generated in ${genS.toFixed(1)} s\n`,
  );

  async function ours(stateDir?: string, capture = file): Promise<{ s: number; cpu: number; events: number; heapMB: number; subs: number; maps: number }> {
    let events = 0;
    const sink: EventSink = {
      write: (s) => {
        for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) events++;
      },
      close: () => undefined,
    };
    const cfg = parseConfig({ cable: true, policy: { defaultPackage: 'basic' }, logFailures: false, ...(stateDir ? { stateDir } : {}) });
    // JS heap and array buffers: the store's tables keep their indexes in typed arrays
    const memUsed = (): number => {
      const u = process.memoryUsage();
      return u.heapUsed + u.arrayBuffers;
    };
    gc?.();
    const heap0 = memUsed();
    const store = new LegStore(stateDir);
    const engine = new LegEngine(cfg, store, sink);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await replayFile(engine, capture);
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    gc?.();
    const heapMB = (memUsed() - heap0) / 1e6;
    const res = { s, cpu, events, heapMB, subs: store.subscriberCount, maps: store.activeMappings };
    store.close();
    return res;
  }

  const mem = await ours();
  const disk = await ours(join(dir, 'state'));

  // The same ACKs alone (300k logons and renewals): the ACK rate without the ignored traffic.
  const ackFile = join(dir, 'acks.pcap');
  const ackStats: MixStats = { messages: 0, acks: 0, releases: 0, subscribers: 0, cpes: 0 };
  const acksWritten = writePcap(ackFile, ackOnly(dhcpMix(Math.round(MESSAGES / 0.3), SUBSCRIBERS, ackStats), ackStats));
  const ackRun = await ours(undefined, ackFile);

  t = performance.now();
  const cc0 = childCpuSeconds();
  const ts = spawnSync('tshark', ['-r', file, '-Y', 'dhcp', '-T', 'fields', '-e', 'dhcp.ip.your'], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  const tsharkWall = (performance.now() - t) / 1000;
  const tsharkS = childCpuSeconds() - cc0;
  const tsharkOk = ts.status === 0;

  // Rates use CPU time (user+system) of the one process: the machine may be shared, and
  // "per core" is the question. Wall-clock time is shown beside it.
  const row = (name: string, cpu: number, wall: number, goal: string) => {
    const ratio = tsharkOk ? `${(tsharkS / cpu).toFixed(1)}×` : 'n/a';
    const n = (v: number) => Math.round(v).toLocaleString('en');
    return `| ${name.padEnd(36)} | ${cpu.toFixed(2).padStart(7)} s | ${wall.toFixed(2).padStart(7)} s | ${n(stats.messages / cpu).padStart(9)} | ${n(stats.acks / cpu).padStart(9)} | ${ratio.padStart(9)} | ${goal} |`;
  };
  process.stdout.write(`\n| ${'run'.padEnd(36)} | ${'CPU'.padStart(9)} | ${'wall'.padStart(9)} | ${'msg/s'.padStart(9)} | ${'ACK/s'.padStart(9)} | vs tshark | goal |\n`);
  process.stdout.write(`|${'-'.repeat(38)}|${'-'.repeat(11)}|${'-'.repeat(11)}|${'-'.repeat(11)}|${'-'.repeat(11)}|${'-'.repeat(11)}|------|\n`);
  process.stdout.write(row('leg replay (temporary db)', mem.cpu, mem.s, '≥ 10× tshark, ≥ 200,000 ACK/s') + '\n');
  process.stdout.write(row('leg replay --state-dir (sqlite, FULL)', disk.cpu, disk.s, '≥ 10× tshark, ≥ 200,000 ACK/s') + '\n');
  process.stdout.write(
    `| ${'leg replay, ACKs only (temporary db)'.padEnd(36)} | ${ackRun.cpu.toFixed(2).padStart(7)} s | ${ackRun.s.toFixed(2).padStart(7)} s | ${Math.round(acksWritten / ackRun.cpu).toLocaleString('en').padStart(9)} | ${Math.round(acksWritten / ackRun.cpu).toLocaleString('en').padStart(9)} | ${'-'.padStart(9)} | ≥ 200,000 ACK/s (${acksWritten} ACKs) |\n`,
  );
  process.stdout.write(tsharkOk ? row('tshark -Y dhcp -T fields dhcp.ip.your', tsharkS, tsharkWall, 'reference') + '\n' : `tshark failed: ${ts.stderr.toString().slice(0, 200)}\n`);
  process.stdout.write(
    `\nevents: ${mem.events} (in-memory) / ${disk.events} (sqlite); subscribers ${mem.subs}, active IP mappings ${mem.maps}; ` +
      `JS heap + array buffers growth ${mem.heapMB.toFixed(0)} MB ≈ ${Math.round((mem.heapMB * 1e6) / Math.max(1, mem.subs))} B per subscriber (with its ${(mem.maps / Math.max(1, mem.subs)).toFixed(1)} active IP mappings, after GC)\n`,
  );
  const goalAck = Math.round(acksWritten / ackRun.cpu) >= 200_000 ? 'met' : 'NOT met';
  const goalTshark = tsharkOk && tsharkS / mem.cpu >= 10 ? 'met' : 'NOT met';
  process.stdout.write(`goals: ≥ 200,000 ACK/s (ACK-only run) ${goalAck}; ≥ 10× tshark (mixed run, temporary db) ${goalTshark}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
