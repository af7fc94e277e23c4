/**
 * TFTP servers for the lab, each run inside a namespace of a `Netns`:
 * - `startTftpd`: tftpd-hpa (`in.tftpd -L`, foreground), the server ISPs actually run.
 * - `startAtftpd`: atftpd 0.8 (Debian `atftpd`, unpacked into .lab/atftpd by
 *   scripts/setup.sh because its package conflicts with tftpd-hpa's), a second real server,
 *   which implements RFC 7440 windowsize (tftpd-hpa 5.2 does not).
 * - `startNpmTftpServer`: the npm `tftp` package's server (scripts/lab/tftp-npm-server.ts),
 *   a third peer, also with windowsize.
 * - `startLossyRelay`: scripts/lab/tftp-lossy-relay.ts, a seeded lossy/duplicating relay in
 *   front of a server (this kernel has no netem and no iptables).
 * All resolve once the UDP port is bound and give a `stop()`; tftpd's also kills the
 * per-transfer processes tftpd-hpa forks (so "server killed mid-transfer" is real).
 */
import { readFileSync, statSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { collectOutput, run, waitFor, type Netns } from './netns.ts';

export interface TftpdOptions {
  /** directory served (chrooted with -s); must be readable by `user` */
  root: string;
  /** local address inside the namespace (already configured) */
  address: string;
  port?: number;
  /** -B: the largest block size the server grants */
  blksizeMax?: number;
  /** user the server drops to (default nobody, as tftpd-hpa) */
  user?: string;
  extraArgs?: string[];
  /** run the server (and its forks) on these CPUs only (`taskset -c`), e.g. "0" for benchmarks */
  cpus?: string;
}

export interface RunningTftpd {
  stop(): Promise<void>;
  /** stdout+stderr of the server so far (tftpd-hpa logs to syslog; little here) */
  output(): string;
  readonly port: number;
}

/** Is something listening on UDP `address:port` inside `ns`? */
async function udpBound(netns: Netns, ns: string, address: string, port: number): Promise<boolean> {
  const r = await netns.exec(ns, ['ss', '-ulnH'], { allowFail: true });
  return r.stdout.split('\n').some((l) => l.includes(`${address}:${port} `));
}

/** PIDs in `ns` of processes named `comm` whose parent is `ppid` (a daemon's forks). */
async function forksOf(ns: string, comm: string, ppid: number): Promise<number[]> {
  const out = await run(['ip', 'netns', 'pids', ns], { allowFail: true });
  const pids: number[] = [];
  for (const p of out.stdout.split(/\s+/).filter(Boolean)) {
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === comm && parent === ppid) pids.push(Number(p));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** `taskset -c CPUS` in front of a command (it execs: the PID stays the server's). */
function pinned(cpus: string | undefined): string[] {
  return cpus === undefined ? [] : ['taskset', '-c', cpus];
}

export async function startTftpd(netns: Netns, ns: string, opts: TftpdOptions): Promise<RunningTftpd> {
  const port = opts.port ?? 69;
  if (!opts.user && (statSync(opts.root).mode & 0o005) !== 0o005) {
    // tftpd-hpa drops to `nobody`: a 0700 temp dir would make every file "Access violation".
    throw new Error(`tftpd root ${opts.root} must be world-readable and searchable (chmod 755): the server runs as nobody`);
  }
  const argv = [...pinned(opts.cpus), 'in.tftpd', '-L', '-s', opts.root, '-a', `${opts.address}:${port}`, '-u', opts.user ?? 'nobody', '-v', '-v'];
  if (opts.blksizeMax !== undefined) argv.push('-B', String(opts.blksizeMax));
  argv.push(...(opts.extraArgs ?? []));
  const child = netns.spawn(ns, argv);
  const out = collectOutput(child);
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(async () => {
    if (exited) throw new Error(`in.tftpd exited at start: ${out.text().trim()}`);
    return udpBound(netns, ns, opts.address, port);
  }, `in.tftpd on ${opts.address}:${port} in ${ns}`);
  let stopped = false;
  return {
    port,
    output: () => out.text(),
    async stop() {
      if (stopped) return;
      stopped = true;
      // tftpd-hpa serves each transfer in a forked child: find this server's, kill them too
      // (not those of another tftpd in the same namespace).
      const forks = child.pid === undefined ? [] : await forksOf(ns, 'in.tftpd', child.pid);
      await stopChild(child);
      for (const pid of forks) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    },
  };
}

/** Where scripts/setup.sh unpacks atftpd. */
export const ATFTPD = fileURLToPath(new URL('../../.lab/atftpd/usr/sbin/atftpd', import.meta.url));

export interface AtftpdOptions {
  /** directory served; must be readable by nobody */
  root: string;
  address: string;
  port?: number;
  cpus?: string;
  extraArgs?: string[];
}

/**
 * atftpd in the foreground (`--daemon --no-fork`: one process, a thread per transfer),
 * logging to stdout. It grants RFC 7440 windowsize as asked.
 */
export async function startAtftpd(netns: Netns, ns: string, opts: AtftpdOptions): Promise<RunningTftpd> {
  const port = opts.port ?? 69;
  if ((statSync(opts.root).mode & 0o005) !== 0o005) throw new Error(`atftpd root ${opts.root} must be world-readable and searchable (chmod 755)`);
  const argv = [
    ...pinned(opts.cpus),
    ATFTPD, '--daemon', '--no-fork', '--port', String(port), '--bind-address', opts.address,
    '--user', 'nobody', '--group', 'nogroup', '--logfile', '-', '--verbose=5',
    ...(opts.extraArgs ?? []), opts.root,
  ];
  const child = netns.spawn(ns, argv);
  const out = collectOutput(child);
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(async () => {
    if (exited) throw new Error(`atftpd exited at start: ${out.text().trim()}`);
    return udpBound(netns, ns, opts.address, port);
  }, `atftpd on ${opts.address}:${port} in ${ns}`);
  return { port, output: () => out.text(), stop: () => stopChild(child) };
}

export interface NpmTftpOptions {
  root: string;
  address: string;
  port?: number;
  /** the largest window the server grants (RFC 7440) */
  windowsize?: number;
  /** the largest block size the server grants */
  blksizeMax?: number;
}

/** The npm `tftp` server (read-only) in `ns`, run by the shipped Node. */
export async function startNpmTftpServer(netns: Netns, ns: string, opts: NpmTftpOptions): Promise<RunningTftpd> {
  const port = opts.port ?? 69;
  const script = fileURLToPath(new URL('./tftp-npm-server.ts', import.meta.url));
  const child = netns.spawn(ns, [
    process.execPath,
    script,
    opts.root,
    opts.address,
    String(port),
    String(opts.windowsize ?? 4),
    String(opts.blksizeMax ?? 65464),
  ]);
  const out = collectOutput(child);
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(() => {
    if (exited) throw new Error(`npm tftp server exited at start: ${out.text().trim()}`);
    return out.text().includes('listening');
  }, `npm tftp server on ${opts.address}:${port} in ${ns}`);
  return {
    port,
    output: () => out.text(),
    stop: () => stopChild(child),
  };
}

export interface LossyRelayOptions {
  /** address and port the client talks to */
  address: string;
  port: number;
  /** the real server behind it */
  server: string;
  serverPort?: number;
  /** probability of dropping / duplicating each datagram, each way */
  loss: number;
  dup: number;
  seed?: number;
}

export interface RunningRelay {
  /** stops the relay and returns its counters */
  stop(): Promise<{ forwarded: number; dropped: number; duplicated: number }>;
}

export async function startLossyRelay(netns: Netns, ns: string, opts: LossyRelayOptions): Promise<RunningRelay> {
  const script = fileURLToPath(new URL('./tftp-lossy-relay.ts', import.meta.url));
  const args = [opts.address, opts.port, opts.server, opts.serverPort ?? 69, opts.loss, opts.dup, opts.seed ?? 1].map(String);
  const child = netns.spawn(ns, [process.execPath, script, ...args]);
  const out = collectOutput(child);
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(() => {
    if (exited) throw new Error(`lossy relay exited at start: ${out.text().trim()}`);
    return out.text().includes('listening');
  }, `lossy relay on ${opts.address}:${opts.port} in ${ns}`);
  return {
    async stop() {
      await stopChild(child);
      const line = out.text().split('\n').find((l) => l.startsWith('{'));
      return line ? (JSON.parse(line) as { forwarded: number; dropped: number; duplicated: number }) : { forwarded: 0, dropped: 0, duplicated: 0 };
    },
  };
}
