/**
 * The LEG's SNMP face at 10⁵ subscribers (goal: table walk ≥ 5,000 rows/s).
 *
 * A state dir is filled through the LEG store (10⁵ cable subscribers named by their modem MAC,
 * one active IP each), then `cpe-agent leg run` (dist/, as shipped) serves it:
 *   - standalone on 127.0.0.1: `snmpbulkwalk -v2c -Cr50` of cpeLegSubscriberTable (4 columns)
 *     and of cpeLegMappingTable (3 columns);
 *   - as an AgentX subagent of Net-SNMP snmpd (`master agentx`): the same walks through snmpd.
 * A row is one subscriber (or mapping) with all its columns; rows/s = rows / wall time of the
 * walk (the tool's start-up and printing included). Median of RUNS walks each. Reported, not
 * asserted. Env: LEG_BENCH_SUBSCRIBERS (default 100000), LEG_BENCH_RUNS (default 3).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { LegStore } from '../../agent/leg/store.ts';
import { startSnmpd } from '../lab/snmpd.ts';
import { snmpTools } from '../lab/snmp-tools.ts';
import { startLegRun, type LegRun } from '../lab/leg-run.ts';

const N = Number(process.env.LEG_BENCH_SUBSCRIBERS ?? 100_000);
const RUNS = Number(process.env.LEG_BENCH_RUNS ?? 3);
const ROOT = new URL('../../', import.meta.url).pathname;
const AGENT = join(ROOT, 'dist/cpe-agent');
const LEG = '1.3.6.1.4.1.32473.1.1.5';

if (spawnSync('which', ['snmpd']).status !== 0 || spawnSync('which', ['snmpbulkwalk']).status !== 0) {
  console.log('leg-snmp bench: snmpd / snmpbulkwalk missing (scripts/setup.sh installs them)');
  process.exit(1);
}
if (!existsSync(AGENT)) {
  const b = spawnSync(process.execPath, [join(ROOT, 'scripts/build.ts')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

const dir = await mkdtemp(join(tmpdir(), 'leg-snmp-bench-'));
const stateDir = join(dir, 'state');
const tools = await snmpTools();

// --- the store: N cable subscribers, one mapping each
const t0 = performance.now();
const store = new LegStore(stateDir);
const T = Date.UTC(2026, 11, 3);
const hex = (n: number): string => n.toString(16).padStart(2, '0');
for (let i = 0; i < N; i++) {
  const mac = `02:00:${hex((i >>> 24) & 255)}:${hex((i >>> 16) & 255)}:${hex((i >>> 8) & 255)}:${hex(i & 255)}`;
  const ip = `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
  store.applyLogon({ kind: 'logon', subscriber: mac, ip, modem: false, leaseSeconds: 86_400, expiresAt: T + 86_400_000, package: i % 3 ? 'gold' : 'silver', time: T + i, chaddr: `0a:00:${mac.slice(6)}`, xid: i, transaction: 'initial' });
  store.count('events.logon');
}
store.commit();
store.close();
const fillMs = performance.now() - t0;

/** One snmpbulkwalk: wall time and lines printed (streamed: the output is ~40 MB). */
function walk(port: number, community: string, oid: string): Promise<{ ms: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const c = spawn('snmpbulkwalk', ['-v2c', '-c', community, '-t', '10', '-r', '0', '-Cr50', '-OQn', `127.0.0.1:${port}`, oid], { env: tools.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let err = '';
    c.stdout.on('data', (d: Buffer) => {
      for (const b of d) if (b === 10) lines++;
    });
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => (code === 0 ? resolve({ ms: performance.now() - start, lines }) : reject(new Error(`snmpbulkwalk exited ${code}: ${err}`))));
  });
}

async function measure(port: number, community: string, oid: string, columns: number): Promise<{ ms: number; rows: number }> {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await walk(port, community, oid);
    times.push(r.ms);
    rows = Math.floor(r.lines / columns);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] ?? NaN, rows };
}

const table: string[][] = [];
const report = (what: string, m: { ms: number; rows: number }, columns: number): void => {
  const rps = (m.rows / m.ms) * 1000;
  table.push([what, `${m.rows}`, `${(m.ms / 1000).toFixed(2)} s`, `${Math.round(rps)} rows/s (${Math.round(rps * columns)} values/s)`, '≥ 5,000 rows/s', rps >= 5000 ? 'met' : 'MISSED']);
};

let leg: LegRun | undefined;
let snmpd: Awaited<ReturnType<typeof startSnmpd>> | undefined;
try {
  const port = await freePort();
  leg = await startLegRun(AGENT, { dir, stateDir, name: 'standalone', config: { cable: true, autoLogout: false, snmp: { listen: { address: '127.0.0.1', port }, community: { read: 'bench-ro' } } } });
  report('standalone: snmpbulkwalk cpeLegSubscriberTable', await measure(port, 'bench-ro', `${LEG}.2`, 4), 4);
  report('standalone: snmpbulkwalk cpeLegMappingTable', await measure(port, 'bench-ro', `${LEG}.3`, 3), 3);
  await leg.stop();
  leg = undefined;

  const sdPort = await freePort();
  snmpd = await startSnmpd({ port: sdPort, read: 'bench-ro', write: 'bench-rw-x' });
  leg = await startLegRun(AGENT, { dir, stateDir, name: 'agentx', config: { cable: true, autoLogout: false, snmp: { mode: 'agentx', agentx: { master: snmpd.agentxSocket } } } });
  report('AgentX via snmpd: snmpbulkwalk cpeLegSubscriberTable', await measure(sdPort, 'bench-ro', `${LEG}.2`, 4), 4);
  report('AgentX via snmpd: snmpbulkwalk cpeLegMappingTable', await measure(sdPort, 'bench-ro', `${LEG}.3`, 3), 3);

  console.log(`store: ${N} subscribers + ${N} mappings written in ${(fillMs / 1000).toFixed(1)} s; median of ${RUNS} walks each`);
  console.log('| walk | rows | time | rate | goal | |\n|---|---|---|---|---|---|');
  for (const r of table) console.log(`| ${r.join(' | ')} |`);
} finally {
  await leg?.stop();
  await snmpd?.stop();
  await tools.cleanup();
  await rm(dir, { recursive: true, force: true });
}
