/**
 * MD5 + SHA-256 of a byte stream, computed in a child process (`cpe-agent digest`, reading its
 * stdin) so that the daemon itself never loads node:crypto while it is idle: the boot checks
 * (slot read-backs, the factory image) and a configuration file's MD5 are the only hashing the
 * idle daemon does, and node:crypto costs +2.6 MiB RSS for the rest of its life (README
 * "Footprint"). The child hashes with the same OpenSSL (ARMv8 SHA-2 instructions included); the
 * bytes reach it through a pipe, read by the daemon exactly as before (the platform's reader).
 *
 * - `prepare()` starts a child ahead of the first digest, so its start-up overlaps the daemon's
 *   own (boot: config, state, boot environment) instead of delaying the first DISCOVER; an
 *   unused spare is ended after SPARE_MS.
 * - A child that cannot start, dies, answers nonsense or stalls (STALL_MS without progress) is
 *   not fatal, and never keeps the boot waiting: the digest is made again in-process from a
 *   fresh stream (correct, only heavier), with a warning. An error of the
 *   source itself (the slot cannot be read) is the caller's, as in-process.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log.ts';
import { digestStream, isMd5Hex, isSha256Hex, type Digests } from './hashing-sink.ts';

/** Digests of the bytes `open()` yields; `open` may be called again (a fallback re-reads). */
export type StreamDigester = (open: () => AsyncIterable<Uint8Array>) => Promise<Digests>;

export const inProcessDigester: StreamDigester = (open) => digestStream(open());

/** an unused spare child is ended after this */
export const SPARE_MS = 10_000;
/** a child that takes no bytes and gives no answer for this long is killed (then: in-process) */
export const STALL_MS = 30_000;
const STDERR_MAX = 2048;

type Proc = ChildProcessByStdio<Writable, Readable, Readable>;
interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: Error;
}
/** a child and its end, watched from its spawn on (a spare may die before it is used) */
interface Child {
  proc: Proc;
  ended: Promise<Ended>;
  out: string;
  err: string;
}

/** The source failed (not the child): rethrown as it is. */
class SourceError {
  readonly cause: unknown;
  constructor(cause: unknown) {
    this.cause = cause;
  }
}

function parseAnswer(out: string): Digests | undefined {
  try {
    const v = JSON.parse(out) as Partial<Digests>;
    if (typeof v.bytes === 'number' && typeof v.md5 === 'string' && isMd5Hex(v.md5) && typeof v.sha256 === 'string' && isSha256Hex(v.sha256)) {
      return { bytes: v.bytes, md5: v.md5, sha256: v.sha256 };
    }
  } catch {
    // not JSON
  }
  return undefined;
}

export class ChildDigester {
  private readonly command: readonly string[];
  /** where a failed child is reported (set once the caller has its logger) */
  log: Logger | undefined;
  private readonly spareMs: number;
  private readonly stallMs: number;
  private spare: { child: Child; timer: NodeJS.Timeout } | undefined;
  private readonly children = new Set<Proc>();
  private closed = false;

  /** `command`: this program's own command line (runtime-flags.ts selfCommand()); `digest` is appended */
  constructor(command: readonly string[], opts: { log?: Logger; spareMs?: number; stallMs?: number } = {}) {
    if (command.length === 0) throw new TypeError('ChildDigester: empty command');
    this.command = command;
    this.log = opts.log;
    this.spareMs = opts.spareMs ?? SPARE_MS;
    this.stallMs = opts.stallMs ?? STALL_MS;
  }

  /** Starts a child now for the next digest (no-op if one waits already). */
  prepare(): void {
    if (this.closed || this.spare) return;
    const child = this.spawnChild();
    const timer = setTimeout(() => {
      if (this.spare?.child === child) this.spare = undefined;
      child.proc.stdin.end();
    }, this.spareMs);
    timer.unref();
    this.spare = { child, timer };
  }

  /** Ends a waiting spare and kills any child still hashing. */
  close(): void {
    this.closed = true;
    if (this.spare) clearTimeout(this.spare.timer);
    this.spare = undefined;
    for (const c of this.children) c.kill('SIGKILL');
  }

  readonly digest: StreamDigester = async (open) => {
    try {
      return await this.inChild(open);
    } catch (e) {
      if (e instanceof SourceError) throw e.cause;
      this.log?.warn({ event: 'digest.child-failed', err: e instanceof Error ? e.message : String(e) }, `digest child failed (${e instanceof Error ? e.message : String(e)}): hashing in-process`);
      return digestStream(open());
    }
  };

  private spawnChild(): Child {
    const [file, ...args] = this.command;
    const proc = spawn(file ?? '', [...args, 'digest'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(proc);
    // a child gone early: its stdin's EPIPE is reported by the digest, never thrown here
    proc.stdin.on('error', () => undefined);
    const child: Child = {
      proc,
      out: '',
      err: '',
      ended: new Promise<Ended>((resolve) => {
        proc.once('error', (e) => resolve({ code: null, signal: null, spawnError: e }));
        proc.once('close', (code, signal) => resolve({ code, signal }));
      }),
    };
    void child.ended.then(() => this.children.delete(proc));
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (child.out += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (child.err = (child.err + d).slice(-STDERR_MAX)));
    return child;
  }

  private async inChild(open: () => AsyncIterable<Uint8Array>): Promise<Digests> {
    if (this.closed) throw new Error('digester closed');
    let child: Child;
    if (this.spare) {
      clearTimeout(this.spare.timer);
      child = this.spare.child;
      this.spare = undefined;
    } else {
      child = this.spawnChild();
    }
    const { proc } = child;
    // the watchdog: each chunk taken re-arms it; a stalled child is killed, its end then says so
    let stalled = false;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        proc.kill('SIGKILL');
      }, this.stallMs);
    };
    arm();
    try {
      return await this.feed(child, open, arm, () => stalled);
    } finally {
      clearTimeout(watchdog);
    }
  }

  private async feed(child: Child, open: () => AsyncIterable<Uint8Array>, progress: () => void, stalled: () => boolean): Promise<Digests> {
    const { proc, ended } = child;
    const source = open()[Symbol.asyncIterator]();
    let written = 0;
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await source.next();
      } catch (e) {
        proc.kill('SIGKILL');
        throw new SourceError(e);
      }
      if (next.done) break;
      written += next.value.length;
      // the slot readers reuse one buffer: a chunk is handed to the kernel before the next is read
      const sent = await new Promise<boolean>((resolve) => proc.stdin.write(next.value, (e) => resolve(!e)));
      progress();
      if (!sent) {
        await Promise.resolve(source.return?.()).catch(() => undefined); // the child is gone: its end says why
        break;
      }
    }
    proc.stdin.end();
    const r = await ended;
    if (stalled()) throw new Error(`no progress for ${this.stallMs} ms: killed`);
    if (r.spawnError) throw new Error(`cannot start ${this.command[0] ?? ''}: ${r.spawnError.message}`);
    const last = child.err.trim().split('\n').pop() ?? '';
    if (r.code !== 0) throw new Error(`exit ${r.code ?? r.signal ?? '?'}${last ? `: ${last}` : ''}`);
    const d = parseAnswer(child.out.trim());
    if (!d) throw new Error(`unexpected answer ${JSON.stringify(child.out.slice(0, 80))}`);
    if (d.bytes !== written) throw new Error(`hashed ${d.bytes} bytes of ${written}`);
    return d;
  }
}
