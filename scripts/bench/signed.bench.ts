/**
 * Cost of policy.signature=require on staging: the same signed 64 MiB image, FTP → sim slot,
 * staged with the check (trailer and payload SHA-256 taken on the read-back, Ed25519
 * verify) and without it (policy off), interleaved runs, median of stage()'s own elapsed time.
 * Goal: require ≤ 1.05 × off. Also the CPU time of the staging process (user + system, module
 * loading excluded), which a busy machine disturbs less than wall time. Then the same without the
 * network: stage() in this process from a memory fetcher (64 KiB chunks) into a sim slot, which
 * isolates the check's own work. Reported, not asserted.
 */
import { createReadStream } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { stage } from '../../agent/upgrade/stage.ts';
import { imageCheckFactory } from '../../agent/image/policy.ts';
import { openSimPlatform } from '../../platform/sim/index.ts';
import type { Fetcher } from '../../agent/transfer/types.ts';
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

  // In process, no network: the check's own cost.
  const image = new Uint8Array(await readFile(file));
  const memFetcher: Fetcher = async (_r, sink, o = {}) => {
    o.onSize?.(image.length);
    for (let off = 0; off < image.length; off += 65536) await sink.write(image.subarray(off, off + 65536));
    return { bytes: image.length, total: image.length, elapsedMs: 0 };
  };
  const tmp = await mkdtemp(join(tmpdir(), 'cpf-bg-mem-'));
  const mem = { off: [] as number[], req: [] as number[] };
  try {
    const p = await openSimPlatform(tmp, { capacity: 128 * MiB });
    const factory = imageCheckFactory({ mode: 'require', trustedKeys: { manufacturer: [k.publicText], coSigner: [] }, model: 'BENCH', allowDowngrade: false });
    const once = async (signed: boolean): Promise<number> => {
      await rm(join(tmp, 'bootenv.json'), { force: true });
      const verifyImage = signed ? factory({ version: null, signedAt: null }) : undefined;
      const t0 = performance.now();
      const r = await stage({ fetcher: memFetcher, request: { protocol: 'ftp', server: 'mem', file: 'signed64.bin' }, md5: want, slots: p.slots, bootEnv: p.bootEnv }, verifyImage ? { verifyImage } : {});
      if (signed && r.image?.refusal !== null) throw new Error('not verified');
      return performance.now() - t0;
    };
    await once(false);
    for (let i = 0; i < RUNS; i++) {
      mem.off.push(await once(false));
      mem.req.push(await once(true));
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const mr = median(mem.req) / median(mem.off);
  line('  in process, memory → slot, ms', median(mem.req).toFixed(0), median(mem.off).toFixed(0), mr.toFixed(3), `≤ 1.05 — ${mr <= 1.05 ? 'met' : 'missed'}`);
  process.stdout.write(`(${RUNS} interleaved runs each; require: ${req.map((x) => x.toFixed(0)).join(' ')}; off: ${off.map((x) => x.toFixed(0)).join(' ')}; load average ${loadavg()[0]?.toFixed(1)})\n`);
} finally {
  await lab.destroy();
}
