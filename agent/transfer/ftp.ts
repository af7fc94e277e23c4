/**
 * FTP download (basic-ftp): passive mode, binary, SIZE before the first byte, streaming
 * into a ByteSink with backpressure, REST resume after a broken data or control connection
 * (bounded attempts with backoff), connect and idle timeouts, typed errors.
 *
 * Error codes: FTP_AUTH (530), FTP_FILE_NOT_FOUND (550), FTP_UNREACHABLE (refused,
 * unreachable or timed out while connecting, first attempt), FTP_TIMEOUT / FTP_CONNECTION_LOST
 * (resume budget exhausted: `resumeAttempts` failures in a row without progress; TIMEOUT when
 * the last failure was a timeout), FTP_ABORTED
 * (signal), FTP_INVALID_REQUEST, FTP_ERROR (any other server refusal). Errors thrown by the
 * sink or by onSize (SLOT_TOO_SMALL, SLOT_NO_SPACE …) pass through unchanged and are never
 * retried. The password never reaches a log line or an error message.
 */
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { AgentError, isAgentError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { RateMeter } from './progress.ts';
import type { ByteSink, Fetcher, TransferOptions, TransferRequest, TransferResult } from './types.ts';

export interface FtpFetcherOptions {
  log?: Logger;
  /** TCP connect + greeting + login; default 10 s */
  connectTimeoutMs?: number;
  /** no byte / no reply for this long → the connection is considered broken; default 30 s */
  idleTimeoutMs?: number;
  /** reconnect + REST attempts in a row without progress after a broken connection; default 5 */
  resumeAttempts?: number;
  /** first backoff before a resume, doubled each time, capped at 10 s; default 1 s */
  retryDelayMs?: number;
  now?: () => number;
}

const CONTROL_CHARS = /[\r\n\0]/;
/** Read buffers of the data connection (a pool per download, reused for every chunk). */
const READ_BUFFER = 256 * 1024;
const POOL_MAX = 4;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/** Failure of one attempt, classified. */
interface Failure {
  kind: 'auth' | 'not-found' | 'refused' | 'unreachable' | 'timeout' | 'transient';
  message: string;
  ftpCode?: number;
  sysCode?: string;
}

/** Replaces every occurrence of the secret in `text` (defence in depth). */
function scrub(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}

function classify(e: unknown, phase: 'connect' | 'session', timedOut: boolean, secret: string | undefined): Failure {
  const message = scrub(e instanceof Error ? e.message : String(e), secret);
  if (timedOut) return { kind: 'timeout', message: `timed out (${message})` };
  if (e instanceof FTPError) {
    const ftpCode = e.code;
    if (ftpCode === 530) return { kind: 'auth', message, ftpCode };
    if (ftpCode === 550) return { kind: 'not-found', message, ftpCode };
    if (ftpCode >= 500) return { kind: 'refused', message, ftpCode };
    return { kind: 'transient', message, ftpCode };
  }
  const raw = (e as { code?: unknown } | null)?.code;
  const sysCode = typeof raw === 'string' && /^E[A-Z]+$/.test(raw) ? raw : undefined;
  if (/timeout/i.test(message) || sysCode === 'ETIMEDOUT') return { kind: 'timeout', message, sysCode };
  if (phase === 'connect' && sysCode !== undefined && UNREACHABLE_CODES.has(sysCode)) return { kind: 'unreachable', message, sysCode };
  return { kind: 'transient', message, sysCode };
}

/**
 * The data connection's reader: basic-ftp creates the data socket through `_newSocket()`;
 * ours reads with `onread` into buffers from a small pool (no allocation per chunk: memory
 * flat in the file size), queues each filled buffer, hands the chunks to the sink strictly in
 * order and keeps the socket paused while the sink works (backpressure). A buffer goes back
 * to the pool only after the sink accepted its chunk, so a read that slips through a pause
 * (Node's stream machinery may restart reading) lands in another buffer, never over data in
 * use. basic-ftp still pipes the socket into a Writable to learn when the transfer ended;
 * with `onread` no data flows on that path, and any that did would fail the transfer.
 */
class DataReader {
  sinkError: unknown;
  private readonly sink: ByteSink;
  private readonly accepted: (n: number) => void;
  private readonly pool: Uint8Array[];
  private readonly queue: { buf: Uint8Array; n: number }[] = [];
  private pumping: Promise<void> | undefined;
  private stopped = false;

  constructor(sink: ByteSink, pool: Uint8Array[], accepted: (n: number) => void) {
    this.sink = sink;
    this.pool = pool;
    this.accepted = accepted;
  }

  newSocket(): Socket {
    const socket: Socket = new Socket({
      onread: {
        buffer: () => this.pool.pop() ?? Buffer.allocUnsafe(READ_BUFFER),
        callback: (n: number, buf: Uint8Array) => this.onData(socket, n, buf),
      },
    });
    return socket;
  }

  /** A Writable for basic-ftp's pipeline: receives nothing when `onread` is in use. */
  static endDetector(): Writable {
    return new Writable({ write: (_c, _e, cb) => cb(new Error('FTP data arrived outside the data reader')) });
  }

  private onData(socket: Socket, n: number, buf: Uint8Array): boolean {
    if (this.stopped) return false;
    if (this.pumping === undefined) {
      // Fast path: nothing queued and the sink takes the chunk synchronously (a hashing
      // sink over a buffered slot writer usually does): no promise, no pause/resume.
      let pending: Promise<void> | void;
      try {
        pending = this.sink.write(buf.subarray(0, n));
      } catch (e) {
        this.fail(socket, e, buf);
        return false;
      }
      if (!isThenable(pending)) {
        if (this.pool.length < POOL_MAX) this.pool.push(buf);
        this.accepted(n);
        return !this.stopped;
      }
      this.pumping = this.pump(socket, { buf, n, pending });
      return false;
    }
    this.queue.push({ buf, n });
    return false; // pause until the queue is drained
  }

  private fail(socket: Socket, e: unknown, buf: Uint8Array): void {
    this.sinkError ??= e;
    this.stopped = true;
    if (this.pool.length < POOL_MAX) this.pool.push(buf);
    socket.destroy(e instanceof Error ? e : new Error(String(e)));
  }

  /** Drains the queue in order; `first` is a chunk whose write is already under way. */
  private async pump(socket: Socket, first?: { buf: Uint8Array; n: number; pending: PromiseLike<void> }): Promise<void> {
    try {
      if (first) {
        const n = first.n;
        try {
          await first.pending;
        } catch (e) {
          this.fail(socket, e, first.buf);
          return;
        }
        if (this.pool.length < POOL_MAX) this.pool.push(first.buf);
        this.accepted(n);
      }
      for (let item = this.queue.shift(); item && !this.stopped; item = this.queue.shift()) {
        try {
          await this.sink.write(item.buf.subarray(0, item.n));
        } catch (e) {
          this.sinkError ??= e;
          this.stopped = true;
          socket.destroy(e instanceof Error ? e : new Error(String(e)));
          return;
        } finally {
          if (this.pool.length < POOL_MAX) this.pool.push(item.buf);
        }
        this.accepted(item.n);
      }
    } finally {
      this.pumping = undefined;
    }
    if (!this.stopped) socket.resume();
  }

  /** No chunk reaches the sink after this; resolves when the one in flight settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.pumping;
    this.queue.length = 0;
  }
}

function isThenable(v: unknown): v is PromiseLike<void> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function validate(req: TransferRequest): void {
  if (!req.server) throw new AgentError('FTP_INVALID_REQUEST', 'no FTP server given');
  if (!req.file) throw new AgentError('FTP_INVALID_REQUEST', 'no remote file name given');
  if (CONTROL_CHARS.test(req.file) || CONTROL_CHARS.test(req.server)) {
    throw new AgentError('FTP_INVALID_REQUEST', 'remote file or server name contains control characters', { file: JSON.stringify(req.file) });
  }
  if (req.user !== undefined && CONTROL_CHARS.test(req.user)) throw new AgentError('FTP_INVALID_REQUEST', 'FTP user name contains control characters');
  if (req.password !== undefined && CONTROL_CHARS.test(req.password)) {
    throw new AgentError('FTP_INVALID_REQUEST', 'FTP password contains control characters (not shown)');
  }
  if (req.port !== undefined && !(Number.isInteger(req.port) && req.port > 0 && req.port < 65536)) {
    throw new AgentError('FTP_INVALID_REQUEST', `invalid FTP port ${req.port}`);
  }
}

export function createFtpFetcher(config: FtpFetcherOptions = {}): Fetcher {
  const log = config.log ?? silentLogger();
  const connectTimeoutMs = config.connectTimeoutMs ?? 10_000;
  const idleTimeoutMs = config.idleTimeoutMs ?? 30_000;
  const resumeAttempts = config.resumeAttempts ?? 5;
  const retryDelayMs = config.retryDelayMs ?? 1000;
  const now = config.now ?? Date.now;

  return async function fetchFtp(req: TransferRequest, sink: ByteSink, opts: TransferOptions = {}): Promise<TransferResult> {
    validate(req);
    const port = req.port ?? 21;
    const user = req.user || 'anonymous';
    const password = req.password ?? (user === 'anonymous' ? 'anonymous@' : '');
    const secret = req.password || undefined;
    const where = { server: req.server, port, user, file: req.file };
    const started = now();
    const meter = new RateMeter();
    const readPool: Uint8Array[] = [];
    let delivered = 0;
    let total: number | undefined;
    let sizeReported = false;
    let failures = 0;
    let resumes = 0;
    let everConnected = false;

    const progress = (): void => {
      opts.onProgress?.({ bytes: delivered, total, rate: meter.sample(delivered, now()) });
    };

    log.info(where, `ftp: fetching ${req.file} from ${req.server}:${port}`);
    for (;;) {
      if (opts.signal?.aborted) throw abortError(opts.signal, delivered);
      const client = new Client(idleTimeoutMs);
      let phase: 'connect' | 'session' = 'connect';
      let timedOut = false;
      let reader: DataReader | undefined;
      const deliveredBefore = delivered;
      const onAbort = (): void => client.close();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const timer = setTimeout(() => {
          timedOut = true;
          client.close();
        }, connectTimeoutMs);
        try {
          await client.access({ host: req.server, port, user, password });
        } finally {
          clearTimeout(timer);
        }
        phase = 'session';
        everConnected = true;

        let size: number | undefined;
        try {
          size = await client.size(req.file);
        } catch (e) {
          // SIZE is optional (RFC 3659); a missing file shows up again at RETR as 550.
          if (!(e instanceof FTPError)) throw e;
          log.debug({ ...where, reply: scrub(e.message, secret) }, 'ftp: SIZE not answered, size unknown');
        }
        if (size !== undefined) {
          if (total !== undefined && size !== total) {
            throw new AgentError('FTP_ERROR', `remote file changed size during the transfer (${total} → ${size} bytes)`, { ...where, before: total, after: size });
          }
          total = size;
          if (!sizeReported) {
            sizeReported = true;
            log.info({ ...where, size }, `ftp: SIZE ${size}`);
            opts.onSize?.(size); // may throw (SLOT_TOO_SMALL): nothing was written yet
          }
        }
        if (total !== undefined && delivered === total && delivered > 0) break; // all bytes arrived before the break

        if (delivered > 0) log.warn({ ...where, offset: delivered, attempt: resumes }, `ftp: resuming with REST ${delivered}`);
        meter.rebase(delivered, now());
        const r = new DataReader(sink, readPool, (n) => {
          delivered += n;
          progress();
        });
        reader = r;
        client.ftp._newSocket = () => r.newSocket();
        await client.downloadTo(DataReader.endDetector(), req.file, delivered);
        await r.stop();
        if (total !== undefined && delivered < total) {
          throw new Error(`data connection closed after ${delivered} of ${total} bytes`);
        }
        if (total !== undefined && delivered > total) {
          throw new AgentError('FTP_ERROR', `server sent ${delivered} bytes, SIZE announced ${total}`, { ...where, bytes: delivered, total });
        }
        break;
      } catch (e) {
        await reader?.stop();
        if (reader?.sinkError !== undefined) throw reader.sinkError;
        if (isAgentError(e)) throw e;
        if (opts.signal?.aborted) throw abortError(opts.signal, delivered);
        const f = classify(e, phase, timedOut, secret);
        const detail = { ...where, bytes: delivered, total, ftpCode: f.ftpCode, cause: f.sysCode };
        if (f.kind === 'auth') throw new AgentError('FTP_AUTH', `FTP login refused for user ${user}: ${f.message}`, detail);
        if (f.kind === 'not-found') throw new AgentError('FTP_FILE_NOT_FOUND', `FTP server has no file ${req.file}: ${f.message}`, detail);
        if (f.kind === 'refused') throw new AgentError('FTP_ERROR', `FTP server refused: ${f.message}`, detail);
        if (!everConnected && (f.kind === 'unreachable' || f.kind === 'timeout')) {
          throw new AgentError('FTP_UNREACHABLE', `FTP server ${req.server}:${port} unreachable: ${f.message}`, detail);
        }
        // The budget counts failures in a row: an attempt that moved data earns a fresh budget.
        failures = delivered > deliveredBefore ? 1 : failures + 1;
        resumes++;
        if (failures > resumeAttempts) {
          const code = f.kind === 'timeout' ? 'FTP_TIMEOUT' : 'FTP_CONNECTION_LOST';
          throw new AgentError(code, `FTP transfer broken after ${delivered} bytes, ${resumeAttempts} resume attempts used: ${f.message}`, detail);
        }
        const delay = Math.min(retryDelayMs * 2 ** (failures - 1), 10_000);
        log.warn({ ...detail, attempt: failures, of: resumeAttempts, retryInMs: delay, error: f.message }, `ftp: connection broken at ${delivered} bytes (${f.kind}); retrying`);
        await sleep(delay, opts.signal);
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        client.close();
      }
    }
    const elapsedMs = now() - started;
    opts.onProgress?.({ bytes: delivered, total, rate: elapsedMs > 0 ? (delivered * 1000) / elapsedMs : 0 });
    log.info({ ...where, bytes: delivered, elapsedMs, resumes }, `ftp: done, ${delivered} bytes`);
    return total === undefined ? { bytes: delivered, elapsedMs } : { bytes: delivered, total, elapsedMs };
  };
}

function abortError(signal: AbortSignal, bytes: number): AgentError {
  if (isAgentError(signal.reason)) return signal.reason;
  return new AgentError('FTP_ABORTED', 'FTP transfer aborted', { bytes });
}

/** The default FTP fetcher (no logging, default timeouts). */
export const fetchFtp: Fetcher = createFtpFetcher();
