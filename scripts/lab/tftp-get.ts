/**
 * Lab client for TFTP tests and benches, run inside a client namespace
 * (`ip netns exec NS node scripts/lab/tftp-get.ts …`): fetches one file with our TFTP
 * fetcher into the agent's Md5Sink (as stage() hashes the stream; --sha256: HashingSink, MD5 +
 * SHA-256) over a null sink
 * and prints ONE JSON line on stdout:
 *   {"ok":true,"bytes":…,"total":…,"elapsedMs":…,"md5":"…","writes":…,"order":["size","write",…],
 *    "negotiated":{blksize,windowsize,…},"complete":{retransmits,…},"cpuMs":…,"maxRssKiB":…}
 *   (cpuMs: user+system CPU of the transfer, all threads, module loading excluded)
 *   {"ok":false,"code":"TFTP_TIMEOUT","message":"…","details":{…},"bytesWritten":…,…}
 * Logs (JSON, debug) go to stderr, and so do progress lines ({"progress":bytes}).
 *
 *   node scripts/lab/tftp-get.ts --server IP --file NAME [--port N] [--blksize N]
 *     [--windowsize N] [--timeout S] [--retries N] [--no-options] [--no-tsize]
 *     [--max-size BYTES] [--slow-sink-ms MS] [--abort-after BYTES] [--progress-ms MS]
 *     [--quiet] (info logs only) [--no-hash] (a plain null sink, for benchmarks)
 *     [--sha256]
 */
import { parseArgs } from 'node:util';
import { AgentError, isAgentError } from '../../agent/errors.ts';
import { createLogger } from '../../agent/log.ts';
import { createTftpFetcher } from '../../agent/transfer/tftp-socket.ts';
import { HashingSink, Md5Sink, type Md5Digest } from '../../agent/transfer/hashing-sink.ts';
import type { ByteSink } from '../../agent/transfer/types.ts';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    port: { type: 'string' },
    file: { type: 'string' },
    blksize: { type: 'string' },
    windowsize: { type: 'string' },
    timeout: { type: 'string' },
    retries: { type: 'string' },
    'no-options': { type: 'boolean' },
    'no-tsize': { type: 'boolean' },
    'max-size': { type: 'string' },
    'slow-sink-ms': { type: 'string' },
    'abort-after': { type: 'string' },
    'progress-ms': { type: 'string' },
    quiet: { type: 'boolean' },
    'no-hash': { type: 'boolean' },
    sha256: { type: 'boolean' },
  },
});

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

// Keep the fetcher's structured log lines: they tell what was negotiated.
const records: Array<Record<string, unknown>> = [];
const log = createLogger({
  format: 'json',
  level: values.quiet ? 'info' : 'debug',
  destination: {
    write(s: string) {
      try {
        records.push(JSON.parse(s) as Record<string, unknown>);
      } catch {
        /* not JSON */
      }
      process.stderr.write(s);
    },
  },
});

const fetcher = createTftpFetcher({
  log,
  blksize: num(values.blksize),
  windowsize: num(values.windowsize),
  timeout: num(values.timeout),
  retries: num(values.retries),
  options: !values['no-options'],
  tsize: !values['no-tsize'],
  progressIntervalMs: num(values['progress-ms']) ?? 250,
});

const order: string[] = [];
let bytesWritten = 0;
let writes = 0;
const slowMs = num(values['slow-sink-ms']) ?? 0;
const abortAfter = num(values['abort-after']);
const maxSize = num(values['max-size']);
const ac = new AbortController();
const hashing = !values['no-hash'];

const counting: ByteSink = {
  write(chunk: Uint8Array): Promise<void> | void {
    if (writes === 0) order.push('write');
    writes++;
    bytesWritten += chunk.length;
    if (abortAfter !== undefined && bytesWritten >= abortAfter) ac.abort();
    if (slowMs > 0) return new Promise((r) => setTimeout(r, slowMs));
  },
};
const hasher = !hashing ? undefined : values.sha256 ? new HashingSink(counting) : new Md5Sink(counting);
const digest = (): (Md5Digest & { sha256?: string }) | undefined => hasher?.digest();
const sink: ByteSink = hasher ?? counting;

function pick(msg: string): Record<string, unknown> | undefined {
  const r = records.find((x) => x.msg === msg);
  if (!r) return undefined;
  const { level: _l, time: _t, msg: _m, tftp: _tf, file: _f, ...rest } = r;
  return rest;
}

const started = performance.now();
const cpu0 = process.cpuUsage();
let out: Record<string, unknown>;
try {
  const r = await fetcher(
    { protocol: 'tftp', server: values.server ?? '', port: num(values.port), file: values.file ?? '' },
    sink,
    {
      signal: ac.signal,
      onSize(total) {
        order.push('size');
        if (maxSize !== undefined && total > maxSize) {
          throw new AgentError('SLOT_TOO_SMALL', `image of ${total} bytes does not fit the ${maxSize}-byte slot`, { total, maxSize });
        }
      },
      onProgress(p) {
        process.stderr.write(`${JSON.stringify({ progress: p.bytes, total: p.total, rate: Math.round(p.rate) })}\n`);
      },
    },
  );
  const d = digest();
  out = {
    ok: true,
    ...r,
    ...(d && { md5: d.md5, sha256: d.sha256 }),
    writes,
    order: order.slice(0, 2),
    mbps: r.bytes / 1e6 / (r.elapsedMs / 1000),
    negotiated: pick('options negotiated'),
    complete: pick('TFTP transfer complete'),
  };
} catch (e) {
  out = isAgentError(e)
    ? { ok: false, code: e.code, message: e.message, details: e.details }
    : { ok: false, code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
  const d = digest();
  Object.assign(out, { bytesWritten, writes, order: order.slice(0, 2), ...(d && { md5Partial: d.md5 }), elapsedMs: Math.round(performance.now() - started) });
}
const cpu = process.cpuUsage(cpu0);
out.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
out.maxRssKiB = process.resourceUsage().maxRSS;
out.fallback = records.some((x) => typeof x.msg === 'string' && /plain RFC 1350/.test(x.msg));
process.stdout.write(`${JSON.stringify(out)}\n`);
// The socket dallies (unref'd) for a late repeat of the last block; do not wait for it.
process.exit(0);
