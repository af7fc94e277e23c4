/**
 * Cost of policy.signature=require on staging: the same signed 64 MiB image, FTP → sim slot,
 * staged with the check (tail kept on the stream, payload SHA-256 on the read-back, Ed25519
 * verify) and without it (policy off), interleaved runs, median of stage()'s own elapsed time.
 * Goal: require ≤ 1.05 × off. Also the CPU time of the staging process (user + system, module
 * loading excluded), which a busy machine disturbs less than wall time. Reported, not asserted.
 */
import { createReadStream } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startFtpLab } from '../lab/ftp-lab.ts';
import { buildTrailer } from '../../agent/image/sign.ts';
import { generateKeyPair, parsePrivateKey } from '../../agent/image/keys.ts';

const FTP_GET = new URL('../lab/ftp-get.ts', import.meta.url).pathname;
const MiB = 1024 * 1024;
const RUNS = 7;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const lab = await startFtpLab({ prefix: 'cpf-bg', subnet: '198.18.105', files: { 'signed64.bin': 64 * MiB } });
try {
  process.env.CPF_FTP_PASSWORD = lab.password;
  const file = join(lab.root, 'signed64.bin');
  const sha = createHash('sha256');
  for await (const c of createReadStream(file)) sha.update(c as Buffer);
  const k = generateKeyPair();
  const { trailer } = buildTrailer({ payloadLength: 64 * MiB, payloadSha256: sha.digest('hex'), version: '9.0.0', models: ['BENCH'], signedAt: Math.floor(Date.now() / 1000), signers: [{ role: 'manufacturer', key: parsePrivateKey(k.privatePem) }] });
  await appendFile(file, trailer);
  const md5 = createHash('md5');
  for await (const c of createReadStream(file)) md5.update(c as Buffer);
  const want = md5.digest('hex');
  const sim = join(lab.work, 'sim');
  await lab.inClient([process.execPath, '-e', `import(${JSON.stringify(new URL('../../platform/sim/index.ts', import.meta.url).pathname)}).then((m) => m.openSimPlatform(${JSON.stringify(sim)}, { capacity: ${128 * MiB} }))`]);

  const cpu = { off: [] as number[], req: [] as number[] };
  const stageOnce = async (signed: boolean): Promise<number> => {
    await lab.inClient(['rm', '-f', join(sim, 'bootenv.json')]);
    const extra = signed ? ['--signature-key', k.publicText, '--model', 'BENCH'] : [];
    const o = await lab.inClient([process.execPath, FTP_GET, '--server', lab.server, '--user', lab.user, '--file', 'signed64.bin', '--sim', sim, '--md5', want, ...extra]);
    const r = JSON.parse(o.stdout.trim()) as { ok: boolean; elapsedMs: number; cpuMs: number; md5?: string; image?: { refusal: unknown; version: string } };
    (signed ? cpu.req : cpu.off).push(r.cpuMs);
    if (!r.ok || r.md5 !== want) throw new Error(`stage failed: ${o.stdout}`);
    if (signed && (r.image?.refusal !== null || r.image.version !== '9.0.0')) throw new Error(`signature not verified: ${o.stdout}`);
    return r.elapsedMs;
  };
  const off: number[] = [];
  const req: number[] = [];
  await stageOnce(false); // warm the page cache and vsftpd
  cpu.off.length = 0;
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      off.push(await stageOnce(false));
      req.push(await stageOnce(true));
    } else {
      req.push(await stageOnce(true));
      off.push(await stageOnce(false));
    }
  }
  const line = (a: string, b: string, c: string, d: string, e: string): void => void process.stdout.write(`${a.padEnd(34)} ${b.padStart(9)} ${c.padStart(9)} ${d.padStart(7)}  ${e}\n`);
  line('64 MiB signed image FTP → slot', 'require', 'off', 'ratio', 'goal');
  const ratio = median(req) / median(off);
  line('stage() time ms (median)', median(req).toFixed(0), median(off).toFixed(0), ratio.toFixed(3), `≤ 1.05 — ${ratio <= 1.05 ? 'met' : 'missed'}`);
  const cr = median(cpu.req) / median(cpu.off);
  line('  CPU time ms (median)', median(cpu.req).toFixed(0), median(cpu.off).toFixed(0), cr.toFixed(3), '');
  process.stdout.write(`(${RUNS} interleaved runs each; require: ${req.map((x) => x.toFixed(0)).join(' ')}; off: ${off.map((x) => x.toFixed(0)).join(' ')}; load average ${loadavg()[0]?.toFixed(1)})\n`);
} finally {
  await lab.destroy();
}
