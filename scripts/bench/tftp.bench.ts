/**
 * TFTP throughput, 64 MiB from a real server in a lab of two namespaces joined by a veth pair.
 *   ours:  scripts/lab/tftp-get.ts (the agent's TFTP client into its Md5Sink: MD5 over every
 *          byte, as stage() hashes the stream, into a null sink)
 *   curl:  `curl --tftp-blksize N -o /dev/null` (no hashing)
 *   floor: scripts/bench/tftp-floor.ts, the least a Node client can do per block (receive,
 *          ACK; nothing else): how much of a gap to curl is Node's per-datagram cost
 * Times are transfer times (curl's time_total, our elapsedMs): process start-up excluded.
 *
 * Placement is pinned, because in a lockstep exchange on one machine it decides the result:
 * the server runs on CPU 0; "same CPU" puts the client there too (each block costs a context
 * switch: CPU work per block decides), "other CPU" puts it on CPU 1 (each block costs a
 * cross-CPU wake-up, which is slow in a VM: wake-up latency decides). Unpinned, the scheduler
 * picks one or the other from run to run, and the spread swamps the comparison.
 *
 * Cases: tftpd-hpa 5.2 (lockstep; no RFC 7440) at blksize 1468 and 8192, both placements;
 * atftpd 0.8 with windowsize 16 for ours (RFC 7440) against curl, which has no windowsize.
 * Goal (tftpd-hpa, same blksize): ours/curl >= 1.0. Reported, not asserted. Namespaces
 * cpt-b*, addresses 198.18.40.0/24 (inside 198.18.32.0/20).
 *
 *   node scripts/bench/tftp.bench.ts [--runs N] [--mib N]
 * Each row also times ours under the modem's V8 flags (agent/runtime-flags.ts: --lite-mode, 16 MiB
 * old space), as the single executable runs it: tftp-get.ts bundled to JS first (lite mode has no
 * WebAssembly, which Node's TypeScript stripping needs).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { labTag, Netns } from '../lab/netns.ts';
import { startAtftpd, startTftpd } from '../lab/tftpd.ts';
import { buildSync } from 'esbuild';
import { DEVICE_FLAGS } from '../../agent/runtime-flags.ts';

const { values } = parseArgs({ options: { runs: { type: 'string' }, mib: { type: 'string' } } });
const RUNS = Number(values.runs ?? 3);
const MIB = Number(values.mib ?? 64);
const SERVER = '198.18.40.1';
const CLIENT = '198.18.40.2';
const ATFTPD_PORT = 4069;
const GET = fileURLToPath(new URL('../lab/tftp-get.ts', import.meta.url));
const FLOOR = fileURLToPath(new URL('./tftp-floor.ts', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

interface Case {
  label: string;
  port: number;
  blksize: number;
  /** windowsize for ours (1 = lockstep) */
  windowsize: number;
  /** client CPU (the server is on CPU 0); undefined = unpinned (one-CPU machine) */
  cpu: string | undefined;
  goal: string;
}

const net = new Netns();
const tag = labTag();
const srv = `cpt-bs${tag}`;
const cli = `cpt-bc${tag}`;
const root = mkdtempSync(join(tmpdir(), 'cpt-bench-'));

try {
  chmodSync(root, 0o755);
  const size = MIB * 1024 * 1024;
  const data = randomBytes(size);
  writeFileSync(join(root, 'image.bin'), data);
  chmodSync(join(root, 'image.bin'), 0o644);
  const md5 = createHash('md5').update(data).digest('hex');

  await net.add(srv);
  await net.add(cli);
  await net.veth(srv, 'eth0', cli, 'eth0');
  await net.addr(srv, 'eth0', `${SERVER}/24`);
  await net.addr(cli, 'eth0', `${CLIENT}/24`);
  const twoCpus = availableParallelism() >= 2;
  const serverCpu = twoCpus ? '0' : undefined;
  const tftpd = await startTftpd(net, srv, { root, address: SERVER, cpus: serverCpu });
  const atftpd = await startAtftpd(net, srv, { root, address: SERVER, port: ATFTPD_PORT, cpus: serverCpu });

  const placements: Array<[string, string | undefined]> = twoCpus ? [['same CPU', '0'], ['other CPU', '1']] : [['unpinned', undefined]];
  const cases: Case[] = [];
  for (const blksize of [1468, 8192]) {
    for (const [where, cpu] of placements) {
      cases.push({ label: `tftpd-hpa, blksize ${blksize}, ${where}`, port: 69, blksize, windowsize: 1, cpu, goal: '>= 1.0x' });
    }
  }
  for (const [where, cpu] of placements) {
    cases.push({ label: `atftpd, blksize 1468, ours windowsize 16, ${where}`, port: ATFTPD_PORT, blksize: 1468, windowsize: 16, cpu, goal: '' });
  }

  const getJs = join(root, 'tftp-get.mjs');
  buildSync({ entryPoints: [GET], bundle: true, platform: 'node', format: 'esm', outfile: getJs, logLevel: 'error', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  const pin = (cpu: string | undefined): string[] => (cpu === undefined ? [] : ['taskset', '-c', cpu]);
  const rows: string[][] = [];
  for (const c of cases) {
    const ours: number[] = [];
    const curl: number[] = [];
    const floor: number[] = [];
    const device: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const [flags, script, into] of [[[], GET, ours], [DEVICE_FLAGS, getJs, device]] as const) {
        const r = await net.exec(cli, [...pin(c.cpu), process.execPath, ...flags, script, '--server', SERVER, '--port', String(c.port), '--file', 'image.bin', '--blksize', String(c.blksize), '--windowsize', String(c.windowsize), '--quiet']);
        const res = JSON.parse(r.stdout.trim()) as { ok: boolean; md5?: string; elapsedMs?: number };
        if (!res.ok || res.md5 !== md5) throw new Error(`our client failed: ${r.stdout.trim()}`);
        into.push(res.elapsedMs ?? 0);
      }
      const f = await net.exec(cli, [...pin(c.cpu), process.execPath, FLOOR, SERVER, 'image.bin', String(c.blksize), String(c.port)]);
      const fr = JSON.parse(f.stdout.trim()) as { ok: boolean; bytes?: number; elapsedMs?: number };
      if (!fr.ok || fr.bytes !== size) throw new Error(`floor client failed: ${f.stdout.trim()}`);
      floor.push(fr.elapsedMs ?? 0);
      const k = await net.exec(cli, [...pin(c.cpu), 'curl', '-sS', '--tftp-blksize', String(c.blksize), '-o', '/dev/null', '-w', '%{time_total} %{size_download}', `tftp://${SERVER}:${c.port}/image.bin`]);
      const [t, n] = k.stdout.trim().split(' ').map(Number);
      if (n !== size) throw new Error(`curl got ${n} bytes of ${size}`);
      curl.push((t ?? 0) * 1000);
    }
    const mb = (ms: number): number => size / 1e6 / (ms / 1000);
    const o = mb(median(ours));
    const k = mb(median(curl));
    const f = mb(median(floor));
    const d = mb(median(device));
    rows.push([c.label, `${o.toFixed(1)} MB/s`, `${k.toFixed(1)} MB/s`, `${(o / k).toFixed(2)}x`, c.goal, `${f.toFixed(1)} MB/s (${(f / k).toFixed(2)}x)`, `${d.toFixed(1)} MB/s (${(d / o).toFixed(2)}x ours)`]);
  }
  await tftpd.stop();
  await atftpd.stop();

  const head = ['64 MiB download', 'ours (MD5)', 'curl', 'ours/curl', 'goal', 'Node floor (floor/curl)', 'ours, device V8 flags'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write(`(median of ${RUNS} runs each; transfer time only; server on CPU ${serverCpu ?? 'any'}; curl has no windowsize: lockstep in every row)\n`);
} finally {
  await net.destroy();
  rmSync(root, { recursive: true, force: true });
}
