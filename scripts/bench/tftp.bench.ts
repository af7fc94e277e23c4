/**
 * TFTP throughput: our client (scripts/lab/tftp-get.ts: the agent's Md5Sink, MD5 over every
 * byte as stage() hashes the stream, into a null sink) vs curl (`--tftp-blksize N -o /dev/null`) downloading the same 64 MiB file from
 * the same tftpd-hpa, in a lab of two namespaces joined by a veth pair. Each run is
 * repeated; the table shows medians of the transfer time (curl's time_total, our
 * elapsedMs: both exclude process start-up). Goal: ours/curl >= 1.0 (reported, not
 * asserted). curl only writes to /dev/null, so a last column shows ours with a plain null
 * sink too (no hashing) for a like-for-like protocol comparison. The CPU columns (user+sys,
 * medians) are load-independent: ours excludes module loading, curl's includes its start-up. Namespaces cpt-b*, addresses 198.18.40.0/24 (inside 198.18.32.0/20).
 *
 *   node scripts/bench/tftp.bench.ts [--runs N] [--mib N]
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { labTag, Netns } from '../lab/netns.ts';
import { startTftpd } from '../lab/tftpd.ts';

const { values } = parseArgs({ options: { runs: { type: 'string' }, mib: { type: 'string' } } });
const RUNS = Number(values.runs ?? 5);
const MIB = Number(values.mib ?? 64);
const SERVER = '198.18.40.1';
const CLIENT = '198.18.40.2';
const GET = fileURLToPath(new URL('../lab/tftp-get.ts', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
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
  const tftpd = await startTftpd(net, srv, { root, address: SERVER });

  const rows: string[][] = [];
  for (const blksize of [1468, 8192]) {
    const ours: number[] = [];
    const oursPlain: number[] = [];
    const curl: number[] = [];
    const oursCpu: number[] = [];
    const curlCpu: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await net.exec(cli, [process.execPath, GET, '--server', SERVER, '--file', 'image.bin', '--blksize', String(blksize), '--quiet']);
      const res = JSON.parse(r.stdout.trim()) as { ok: boolean; md5?: string; bytes?: number; elapsedMs?: number; cpuMs?: number; code?: string };
      if (!res.ok || res.md5 !== md5) throw new Error(`our client failed: ${r.stdout.trim()}`);
      ours.push(res.elapsedMs ?? 0);
      oursCpu.push(res.cpuMs ?? NaN);
      const plain = await net.exec(cli, [process.execPath, GET, '--server', SERVER, '--file', 'image.bin', '--blksize', String(blksize), '--quiet', '--no-hash']);
      const resN = JSON.parse(plain.stdout.trim()) as { ok: boolean; bytes?: number; elapsedMs?: number };
      if (!resN.ok || resN.bytes !== size) throw new Error(`our client failed: ${plain.stdout.trim()}`);
      oursPlain.push(resN.elapsedMs ?? 0);
      const c = await net.exec(cli, [
        'bash',
        '-c',
        `TIMEFORMAT='%U %S'; time curl -sS --tftp-blksize ${blksize} -o /dev/null -w '%{time_total} %{size_download}' tftp://${SERVER}/image.bin`,
      ]);
      const [t, n] = c.stdout.trim().split(' ').map(Number);
      if (n !== size) throw new Error(`curl got ${n} bytes of ${size}`);
      curl.push((t ?? 0) * 1000);
      const [cu, cs] = c.stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? [];
      curlCpu.push(((cu ?? NaN) + (cs ?? NaN)) * 1000);
    }
    const mbOurs = size / 1e6 / (median(ours) / 1000);
    const mbPlain = size / 1e6 / (median(oursPlain) / 1000);
    const mbCurl = size / 1e6 / (median(curl) / 1000);
    rows.push([
      `${MIB} MiB, blksize ${blksize}`,
      `${mbOurs.toFixed(1)} MB/s`,
      `${mbCurl.toFixed(1)} MB/s`,
      `${(mbOurs / mbCurl).toFixed(2)}x`,
      '>= 1.0x',
      `${mbPlain.toFixed(1)} MB/s (${(mbPlain / mbCurl).toFixed(2)}x)`,
      `${median(oursCpu).toFixed(0)} / ${median(curlCpu).toFixed(0)}`,
    ]);
  }
  await tftpd.stop();

  const head = ['tftpd-hpa download', 'ours (MD5)', 'curl', 'ours/curl', 'goal', 'ours, no hash (like curl)', 'CPU ms ours/curl'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write(`(median of ${RUNS} runs each; transfer time only, process start-up excluded)\n`);
} finally {
  await net.destroy();
  rmSync(root, { recursive: true, force: true });
}
