/**
 * SNMP: our standalone agent (agent/snmp, npm net-snmp) vs Net-SNMP snmpd 5.9 on the same
 * machine, both on 127.0.0.1.
 *   - `snmpbulkwalk -v2c -Cr25` of the system group (both serve it), N runs each, interleaved (ours, snmpd, ours, …), medians: wall time
 *     (dominated by the tool's own start-up, the same for both) and, to see the agents
 *     themselves, an in-process bulk walk with npm net-snmp (session.subtree, 25 per PDU);
 *   - the agent runs with the device V8 flags (agent/runtime-flags.ts), as the SEA ships it;
 *   - our enterprise subtree (26 objects) vs snmpd's snmp group (1.3.6.1.2.1.11, 29 objects),
 *     the same two ways;
 *   - RSS of the agent process with SNMP started vs not (status model loaded in both), run with
 *     the device's V8 flags (scripts/v8-flags.ts), idle and after RSS_WALKS bulk walks: medians
 *     of RSS_ROUNDS interleaved on/off pairs (the real daemon: footprint.bench.ts).
 * Goal: ours ≤ 1.5 × snmpd's time; RSS + ≤ 4 MiB. Reported, not asserted.
 * The LEG table walk of 10⁵ subscribers: scripts/bench/leg-snmp.bench.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import snmp from 'net-snmp';
import { startSnmpd } from '../lab/snmpd.ts';
import { snmpTools } from '../lab/snmp-tools.ts';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { V8_FLAGS } from '../v8-flags.ts';

// The agent process runs from an esbuild bundle, like dist/cpe-agent (type stripping of the
// .ts sources would add tens of MiB to both RSS figures).
const SRC = new URL('./snmp-agent.ts', import.meta.url).pathname;
const bundleDir = await mkdtemp(join(tmpdir(), 'snmp-bench-'));
const AGENT = join(bundleDir, 'snmp-agent.cjs');
await build({ entryPoints: [SRC], outfile: AGENT, bundle: true, platform: 'node', target: 'node24', format: 'cjs', logLevel: 'warning' });
const CLI_RUNS = 30;
const WALKS = 300;
const RSS_ROUNDS = 3;
const RSS_WALKS = 500;

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

/** `flags`: the device's V8 flags, as the shipped single executable runs the agent */
function startAgent(port: number, mode: 'on' | 'off', flags: readonly string[] = []): Promise<{ rss(): Promise<number>; stop(): void }> {
  const c = spawn(process.execPath, [...flags, AGENT, String(port), mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: c.stdout });
  const next = (): Promise<string> => new Promise((r) => lines.once('line', r));
  return next().then(() => ({
    async rss() {
      const p = next();
      c.stdin.write('rss\n');
      return Number(await p);
    },
    stop: () => c.kill('SIGTERM'),
  }));
}

if (spawnSync('which', ['snmpd']).status !== 0) {
  console.log('snmp bench: snmpd missing (scripts/setup.sh installs it)');
  process.exit(1);
}
const tools = await snmpTools();
const sdPort = await freePort();
const ourPort = await freePort();
const snmpd = await startSnmpd({ port: sdPort, read: 'bench-ro', write: 'bench-rw' });
const agent = await startAgent(ourPort, 'on', V8_FLAGS);

/** one snmpbulkwalk of each agent in turn, CLI_RUNS times (interleaved: load drift hits both): medians */
const cliWalks = async (a: [number, string], b: [number, string]): Promise<[{ ms: number; lines: number }, { ms: number; lines: number }]> => {
  const times: [number[], number[]] = [[], []];
  const lines = [0, 0];
  for (let i = 0; i < CLI_RUNS; i++) {
    for (const [k, [port, oid]] of [a, b].entries()) {
      const t0 = performance.now();
      const out = await tools.run('snmpbulkwalk', ['-v2c', '-c', 'bench-ro', '-Cr25', '-On', `127.0.0.1:${port}`, oid]);
      times[k]?.push(performance.now() - t0);
      lines[k] = out.trim().split('\n').length;
    }
  }
  const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
  return [
    { ms: med(times[0]), lines: lines[0] ?? 0 },
    { ms: med(times[1]), lines: lines[1] ?? 0 },
  ];
};
const libWalk = async (port: number, oid: string, walks = WALKS): Promise<{ ms: number; n: number }> => {
  const s = snmp.createSession('127.0.0.1', 'bench-ro', { port, version: snmp.Version2c, timeout: 2000, retries: 0 });
  const walk = (): Promise<number> =>
    new Promise((resolve, reject) => {
      let n = 0;
      (s as unknown as { subtree(o: string, m: number, feed: (v: unknown[]) => void, done: (e: Error | null) => void): void }).subtree(
        oid,
        25,
        (vbs) => void (n += vbs.length),
        (e) => (e ? reject(e) : resolve(n)),
      );
    });
  await walk();
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < walks; i++) n = await walk();
  const ms = (performance.now() - t0) / walks;
  s.close();
  return { ms, n };
};

try {
  const rows: string[][] = [];
  const add = (what: string, ours: number, ref: number, unit: string, goal: string): void => {
    const ratio = ours / ref;
    rows.push([what, `${ours.toFixed(2)} ${unit}`, `${ref.toFixed(2)} ${unit}`, `${ratio.toFixed(2)}×`, goal]);
  };
  const sysCli = await cliWalks([ourPort, '1.3.6.1.2.1.1'], [sdPort, '1.3.6.1.2.1.1']);
  const sysLib = [await libWalk(ourPort, '1.3.6.1.2.1.1'), await libWalk(sdPort, '1.3.6.1.2.1.1')];
  const subCli = await cliWalks([ourPort, '1.3.6.1.4.1.32473.1.1'], [sdPort, '1.3.6.1.2.1.11']);
  const subLib = [await libWalk(ourPort, '1.3.6.1.4.1.32473.1.1'), await libWalk(sdPort, '1.3.6.1.2.1.11')];
  add(`snmpbulkwalk system group (${sysCli[0]?.lines}/${sysCli[1]?.lines} objects), median of interleaved runs`, sysCli[0]?.ms ?? NaN, sysCli[1]?.ms ?? NaN, 'ms', '≤ 1.5×');
  add('bulk walk system group, npm client in-process', sysLib[0]?.ms ?? NaN, sysLib[1]?.ms ?? NaN, 'ms', '≤ 1.5×');
  add(`snmpbulkwalk our subtree (${subCli[0]?.lines}) vs snmpd snmp group (${subCli[1]?.lines})`, subCli[0]?.ms ?? NaN, subCli[1]?.ms ?? NaN, 'ms', '≤ 1.5×');
  add('bulk walk, same subtrees, npm client in-process', subLib[0]?.ms ?? NaN, subLib[1]?.ms ?? NaN, 'ms', '≤ 1.5×');
  // RSS: interleaved on/off pairs, each a fresh process with the device's V8 flags
  const idleOn: number[] = [];
  const idleOff: number[] = [];
  const walkedOn: number[] = [];
  const walkedOff: number[] = [];
  const restOn: number[] = [];
  const restOff: number[] = [];
  for (let r = 0; r < RSS_ROUNDS; r++) {
    const port = await freePort();
    const on = await startAgent(port, 'on', V8_FLAGS);
    const off = await startAgent(await freePort(), 'off', V8_FLAGS);
    await new Promise((res) => setTimeout(res, 1000));
    idleOn.push(await on.rss());
    idleOff.push(await off.rss());
    await libWalk(port, '1.3.6.1.4.1.32473.1.1', RSS_WALKS / 2);
    await libWalk(port, '1.3.6.1.2.1.1', RSS_WALKS / 2);
    walkedOn.push(await on.rss());
    walkedOff.push(await off.rss());
    // at rest: V8's memory reducer collects and shrinks the heap some 8 s after the allocation stops
    await new Promise((res) => setTimeout(res, 12_000));
    restOn.push(await on.rss());
    restOff.push(await off.rss());
    on.stop();
    off.stop();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const mib = (k: number): string => `${(k / 1024).toFixed(1)} MiB`;
  const [iOn, iOff, wOn, wOff, rOn, rOff] = [median(idleOn), median(idleOff), median(walkedOn), median(walkedOff), median(restOn), median(restOff)];
  rows.push([`agent process RSS, SNMP started (idle) vs not (${V8_FLAGS.join(' ')}; median of ${RSS_ROUNDS})`, mib(iOn), mib(iOff), `+${mib(iOn - iOff)}`, '≤ +4 MiB']);
  rows.push([`same, right after ${RSS_WALKS + 2} bulk walks`, mib(wOn), mib(wOff), `+${mib(wOn - wOff)}`, '≤ +4 MiB']);
  rows.push(['same, 12 s later (at rest)', mib(rOn), mib(rOff), `+${mib(rOn - rOff)}`, '≤ +4 MiB']);
  console.log('| measure | ours | reference (snmpd) | ratio | goal |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} finally {
  agent.stop();
  await snmpd.stop();
  await tools.cleanup();
  await rm(bundleDir, { recursive: true, force: true });
}
