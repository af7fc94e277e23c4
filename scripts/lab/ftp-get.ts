/**
 * Lab client for FTP tests and benches, run inside a client namespace
 * (`ip netns exec NS node scripts/lab/ftp-get.ts …`): fetches one file with our FTP
 * fetcher into an MD5 sink (as stage() hashes the stream; --sha256: MD5 + SHA-256; output
 * discarded) or stages it into a sim platform
 * directory, and prints one JSON line with the outcome. The password comes from the
 * environment (CPF_FTP_PASSWORD), never from argv. Logs (JSON, debug) go to stderr.
 *
 *   node scripts/lab/ftp-get.ts --server IP --file NAME [--user U] [--port N]
 *     [--sim DIR --md5 HEX] [--connect-timeout MS] [--idle-timeout MS]
 *     [--resume-attempts N] [--retry-delay MS] [--progress-ms MS] [--sha256]
 *     [--abort-after BYTES]   (abort the transfer through its AbortSignal once past BYTES)
 *     [--signature-key ed25519:… --model VC]   (with --sim: policy.signature=require, agent/image)
 *   node scripts/lab/ftp-get.ts --idle [--sim DIR]   (load everything, transfer nothing: idle RSS)
 *
 * Every result carries maxRssKiB (peak resident set of this process) and cpuMs (user+system
 * CPU of the work, all threads, module loading excluded).
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../../agent/log.ts';
import { isAgentError } from '../../agent/errors.ts';
import { createFtpFetcher } from '../../agent/transfer/ftp.ts';
import { HashingSink, Md5Sink } from '../../agent/transfer/hashing-sink.ts';
import { createProgressRenderer } from '../../agent/transfer/progress.ts';
import { openSimPlatform } from '../../platform/sim/index.ts';
import { stage } from '../../agent/upgrade/stage.ts';
import { imageCheckFactory } from '../../agent/image/policy.ts';
import type { TransferProgress, TransferRequest } from '../../agent/transfer/types.ts';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    port: { type: 'string' },
    user: { type: 'string' },
    file: { type: 'string' },
    sim: { type: 'string' },
    md5: { type: 'string' },
    'connect-timeout': { type: 'string' },
    'idle-timeout': { type: 'string' },
    'resume-attempts': { type: 'string' },
    'retry-delay': { type: 'string' },
    'progress-ms': { type: 'string' },
    idle: { type: 'boolean' },
    sha256: { type: 'boolean' },
    'abort-after': { type: 'string' },
    'signature-key': { type: 'string' },
    model: { type: 'string' },
  },
});

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const log = createLogger({ format: 'json', level: 'debug' });
const fetcher = createFtpFetcher({
  log,
  connectTimeoutMs: num(values['connect-timeout']),
  idleTimeoutMs: num(values['idle-timeout']),
  resumeAttempts: num(values['resume-attempts']),
  retryDelayMs: num(values['retry-delay']),
});
const req: TransferRequest = {
  protocol: 'ftp',
  server: values.server ?? '',
  port: num(values.port),
  file: values.file ?? '',
  user: values.user,
  password: process.env.CPF_FTP_PASSWORD,
};
const progressMs = num(values['progress-ms']);
const renderer = progressMs === undefined ? undefined : createProgressRenderer({ label: 'ftp', log, intervalMs: progressMs, stream: process.stderr });

async function main(): Promise<Record<string, unknown>> {
  const abortAfter = num(values['abort-after']);
  const ac = new AbortController();
  const signal = ac.signal;
  const onProgress = (p: TransferProgress): void => {
    renderer?.update(p);
    if (abortAfter !== undefined && p.bytes > abortAfter && !signal.aborted) ac.abort();
  };
  if (values.idle) {
    if (values.sim) await openSimPlatform(values.sim, { log });
    return { ok: true };
  }
  if (values.sim) {
    const platform = await openSimPlatform(values.sim, { log });
    const key = values['signature-key'];
    const verifyImage = key
      ? imageCheckFactory({ mode: 'require', trustedKeys: { manufacturer: [key], coSigner: [] }, model: values.model ?? '', allowDowngrade: false }, log)({ version: null, signedAt: null })
      : undefined;
    const r = await stage(
      { fetcher, request: req, md5: values.md5 ?? '', slots: platform.slots, bootEnv: platform.bootEnv, log },
      { onProgress, signal, ...(verifyImage ? { verifyImage } : {}) },
    );
    return { ok: true, ...r };
  }
  const sink = values.sha256 ? new HashingSink() : new Md5Sink();
  const r = await fetcher(req, sink, { onProgress, signal });
  return { ok: true, ...r, ...sink.digest() };
}

const cpu0 = process.cpuUsage();
main().then(
  (r) => {
    const cpu = process.cpuUsage(cpu0);
    r.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
    process.stdout.write(JSON.stringify({ ...r, maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
  },
  (e: unknown) => {
    const out = isAgentError(e)
      ? { ok: false, code: e.code, message: e.message, details: e.details }
      : { ok: false, code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exitCode = 1;
  },
);
