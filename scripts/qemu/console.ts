/**
 * The QEMU modem (used by tests, make qemu-demo and the benches): starts qemu-system-aarch64 (the recipe of scripts/qemu/run.sh:
 * virt, Cortex-A53, 512 MiB, TCG, Debian's U-Boot) on a disk image, with a virtio NIC on a tap of
 * a lab namespace (scripts/qemu/lab.ts; QEMU then runs inside that namespace) or no NIC; the
 * serial console is a stream (also saved to a log file).
 *
 *   const q = startQemu({ disk, log, timeoutMs: 120_000, netns: lab.ns, netArgs: lab.qemuNetArgs() });
 *   const m = await q.waitFor(/MINI: slot=(\w)/, 60_000);   m[1]
 *   q.send('cpe-agent status');
 *   await q.kill();          SIGKILL to QEMU's process group: a power cut
 *   await q.exited           { code, signal } once QEMU is gone (power-off, kill, timeout)
 *
 * QEMU runs in its own process group; `timeoutMs` bounds every run (SIGKILL when it passes).
 * `killAllQemu()` (call it in afterEach/afterAll) kills whatever is still running, and a
 * process 'exit' hook does the same, so nothing outlives a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export const QEMU_BIN = 'qemu-system-aarch64';
export const UBOOT_BIN = '/usr/lib/u-boot/qemu_arm64/u-boot.bin';

export interface QemuOptions {
  disk: string;
  /** the serial console is also written here */
  log: string;
  /** hard bound of the whole run: SIGKILL after it */
  timeoutMs: number;
  /** network namespace to run QEMU in (where the tap is) */
  netns?: string;
  /** QEMU's NIC arguments (e.g. lab.qemuNetArgs()); none: `-nic none` */
  netArgs?: string[];
  memMb?: number;
  extraArgs?: string[];
}

export interface QemuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the run's timeout killed it */
  timedOut: boolean;
}

export interface QemuConsole {
  pid: number;
  /** the serial console as it arrives */
  stream: Readable;
  /** everything the console printed so far */
  output(): string;
  /**
   * Resolves with the first match of `re` in the console after the previous waitFor's match
   * (so successive waits see successive events); rejects when QEMU exits first or after
   * `timeoutMs`, with the console's tail in the message.
   */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** a line to the serial console (the guest's shell / getty) */
  send(line: string): void;
  /** SIGKILL to QEMU's process group (a power cut); resolves once it is gone */
  kill(): Promise<QemuExit>;
  exited: Promise<QemuExit>;
  /** ms since spawn */
  elapsed(): number;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

process.once('exit', () => {
  for (const c of running) killGroup(c);
});

/** Kills every QEMU this process started that still runs; resolves when they are gone. */
export async function killAllQemu(): Promise<void> {
  const all = [...running];
  await Promise.all(
    all.map((c) => {
      const gone = c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));
      killGroup(c);
      return gone;
    }),
  );
}

export function qemuArgv(o: QemuOptions): string[] {
  const argv = [
    QEMU_BIN, '-M', 'virt', '-cpu', 'cortex-a53', '-m', String(o.memMb ?? 512),
    '-bios', UBOOT_BIN,
    '-drive', `if=virtio,format=raw,file=${o.disk}`,
    ...(o.netArgs && o.netArgs.length > 0 ? o.netArgs : ['-nic', 'none']),
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
    ...(o.extraArgs ?? []),
  ];
  return o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv;
}

export function startQemu(o: QemuOptions): QemuConsole {
  const [cmd, ...args] = qemuArgv(o);
  if (!cmd) throw new Error('empty qemu argv');
  const t0 = performance.now();
  // detached: its own process group, so kill() reaches QEMU (ip netns exec execs it) and anything it forked
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  running.add(child);
  const stream = new PassThrough();
  const log: WriteStream = createWriteStream(o.log);
  let text = '';
  let cursor = 0;
  const waiters = new Set<() => void>();
  // one decoder per stream: a multi-byte character split across two chunks stays whole
  const onData = (utf8: StringDecoder) => (d: Buffer): void => {
    text += utf8.write(d);
    stream.write(d);
    log.write(d);
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', onData(new StringDecoder('utf8')));
  child.stderr?.on('data', onData(new StringDecoder('utf8')));
  child.stdin?.on('error', () => undefined); // a write after QEMU died
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, o.timeoutMs);
  const exited = new Promise<QemuExit>((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      stream.end();
      log.end();
      for (const w of [...waiters]) w();
      resolve({ code, signal, timedOut });
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      running.delete(child);
      text += `\n[qemu-console: spawn failed: ${e.message}]\n`;
      stream.end();
      log.end();
      for (const w of [...waiters]) w();
      resolve({ code: null, signal: null, timedOut: false });
    });
  });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null || !running.has(child);
  const tail = (): string => text.slice(-1500);

  return {
    pid: child.pid ?? 0,
    stream,
    output: () => text,
    elapsed: () => performance.now() - t0,
    waitFor(re, timeoutMs) {
      const flags = re.flags.includes('g') ? re.flags : `${re.flags}g`;
      return new Promise((resolve, reject) => {
        let t: NodeJS.Timeout | undefined;
        const check = (): void => {
          const g = new RegExp(re.source, flags);
          g.lastIndex = cursor;
          const m = g.exec(text);
          if (m) {
            cursor = m.index + m[0].length;
            finish();
            resolve(m);
          } else if (gone()) {
            finish();
            reject(new Error(`QEMU exited before ${re} appeared on the console; tail:\n${tail()}`));
          }
        };
        const finish = (): void => {
          waiters.delete(check);
          if (t) clearTimeout(t);
        };
        t = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} on the console; tail:\n${tail()}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    send(line) {
      if (!gone()) child.stdin?.write(`${line}\n`);
    },
    async kill() {
      killGroup(child);
      return exited;
    },
    exited,
  };
}
