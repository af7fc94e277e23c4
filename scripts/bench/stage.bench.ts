/**
 * Download → staged and verified, 64 MiB over FTP into the sim slot (the ACK-less part of
 * an upgrade), and the memory profile of staging.
 *   ours: scripts/lab/ftp-get.ts --sim (stage(): stream into slot B with MD5 on the stream,
 *         fsync, read-back MD5 + SHA-256, boot env switch)
 *   reference: curl | tee >(md5sum) | dd of=slot conv=fsync, then md5sum slot (read-back)
 * Goal: ours ≤ 1.1 × the reference's time. Peak RSS of a staging process (VmHWM via
 * process.resourceUsage().maxRSS) for 64 MiB and 256 MiB images vs the same process idle:
 * flat in image size, ≤ idle + 16 MiB. Reported, not asserted.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startFtpLab } from '../lab/ftp-lab.ts';

const FTP_GET = new URL('../lab/ftp-get.ts', import.meta.url).pathname;
const MiB = 1024 * 1024;
const RUNS = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const lab = await startFtpLab({ prefix: 'cpf-bs', subnet: '198.18.51', files: { 'img64.bin': 64 * MiB, 'img256.bin': 256 * MiB } });
try {
  process.env.CPF_FTP_PASSWORD = lab.password;
  const md5Of = async (name: string): Promise<string> => (await lab.inClient(['md5sum', join(lab.root, name)])).stdout.split(' ')[0] ?? '';
  const md5 = { 'img64.bin': await md5Of('img64.bin'), 'img256.bin': await md5Of('img256.bin') };
  const sim = join(lab.work, 'sim');
  const refDir = join(lab.work, 'ref');
  await lab.inClient(['mkdir', '-p', refDir]);

  const stageOnce = async (file: 'img64.bin' | 'img256.bin'): Promise<{ wallMs: number; elapsedMs: number; maxRssKiB: number }> => {
    // Reset the boot env so slot B is the inactive target again.
    await lab.inClient(['rm', '-f', join(sim, 'bootenv.json')]);
    const o = await lab.inClient([process.execPath, FTP_GET, '--server', lab.server, '--user', lab.user, '--file', file, '--sim', sim, '--md5', md5[file]]);
    const r = JSON.parse(o.stdout.trim()) as { ok: boolean; elapsedMs: number; maxRssKiB: number; md5?: string };
    if (!r.ok || r.md5 !== md5[file]) throw new Error(`stage failed: ${o.stdout}`);
    return { wallMs: o.wallMs, elapsedMs: r.elapsedMs, maxRssKiB: r.maxRssKiB };
  };
  // Create the sim platform with a 512 MiB slot capacity.
  await lab.inClient([process.execPath, '-e', `import(${JSON.stringify(new URL('../../platform/sim/index.ts', import.meta.url).pathname)}).then((m) => m.openSimPlatform(${JSON.stringify(sim)}, { capacity: ${512 * MiB} }))`]);

  const ours: number[] = [];
  const oursWall: number[] = [];
  const ref: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = await stageOnce('img64.bin');
    ours.push(s.elapsedMs);
    oursWall.push(s.wallMs);
    const r = await lab.inClient([
      'bash',
      '-c',
      `set -o pipefail; curl -s --netrc-file ${lab.work}/netrc ftp://${lab.server}/img64.bin | tee >(md5sum > ${refDir}/stream.md5) | dd of=${refDir}/slot bs=1M conv=fsync status=none && md5sum ${refDir}/slot`,
    ]);
    if (!r.stdout.startsWith(md5['img64.bin'])) throw new Error(`reference read-back mismatch: ${r.stdout}`);
    ref.push(r.wallMs);
  }

  const idle = JSON.parse((await lab.inClient([process.execPath, FTP_GET, '--idle', '--sim', sim])).stdout.trim()) as { maxRssKiB: number };
  const rss64 = (await stageOnce('img64.bin')).maxRssKiB;
  const rss256 = (await stageOnce('img256.bin')).maxRssKiB;

  const line = (a: string, b: string, c: string, d: string, e: string): void => void process.stdout.write(`${a.padEnd(30)} ${b.padStart(9)} ${c.padStart(11)} ${d.padStart(7)}  ${e}\n`);
  line('64 MiB FTP → slot, verified', 'ours', 'reference', 'ratio', 'goal');
  line('time ms (median)', median(ours).toFixed(0), median(ref).toFixed(0), (median(ours) / median(ref)).toFixed(2), '≤ 1.10 (ours stage() elapsed vs reference wall)');
  line('  ours incl. process start', median(oursWall).toFixed(0), median(ref).toFixed(0), (median(oursWall) / median(ref)).toFixed(2), '');
  const mib = (k: number): string => (k / 1024).toFixed(1);
  line('peak RSS MiB', 'staging', 'idle', 'delta', 'goal: flat, ≤ idle + 16 MiB');
  line('  64 MiB image', mib(rss64), mib(idle.maxRssKiB), mib(rss64 - idle.maxRssKiB), '');
  line('  256 MiB image', mib(rss256), mib(idle.maxRssKiB), mib(rss256 - idle.maxRssKiB), rss256 - idle.maxRssKiB <= 16 * 1024 ? 'met' : 'NOT met');
  process.stdout.write(`(${RUNS} interleaved runs; load average ${loadavg()[0]?.toFixed(1)}; reference = curl | tee >(md5sum) | dd conv=fsync; md5sum slot)\n`);
} finally {
  await lab.destroy();
}
