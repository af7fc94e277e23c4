/**
 * Network-namespace primitives for the lab: every namespace, veth pair and process a lab
 * creates is tracked by a `Netns` object and removed by `destroy()`. Addresses used inside
 * must come from 198.18.0.0/15 (RFC 2544 benchmarking range); nothing here ever routes to
 * the host's own networks.
 */
import { spawn, execFile, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const pexecFile = promisify(execFile);

export async function run(argv: string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty command');
  try {
    const p = pexecFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
    if (opts.input !== undefined) {
      p.child.stdin?.end(opts.input);
    }
    const { stdout, stderr } = await p;
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number | string };
    if (opts.allowFail) return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : 1 };
    throw new Error(`${argv.join(' ')} failed: ${(err.stderr ?? String(e)).trim()}`, { cause: e });
  }
}

/** A short random tag so parallel labs never collide on names. */
export function labTag(): string {
  return Math.random().toString(36).slice(2, 7);
}

export class Netns {
  readonly namespaces: string[] = [];
  readonly children: ChildProcess[] = [];
  private destroyed = false;

  /** Creates a namespace with loopback up; the name is used as given (keep it short). */
  async add(name: string): Promise<string> {
    await run(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    await this.exec(name, ['ip', 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A veth pair: `ifA` in namespace `nsA`, `ifB` in `nsB`; both brought up. */
  async veth(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
    const tmpA = `v${labTag()}a`;
    const tmpB = `v${labTag()}b`;
    await run(['ip', 'link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    await run(['ip', 'link', 'set', tmpA, 'netns', nsA]);
    await run(['ip', 'link', 'set', tmpB, 'netns', nsB]);
    await this.exec(nsA, ['ip', 'link', 'set', tmpA, 'name', ifA]);
    await this.exec(nsB, ['ip', 'link', 'set', tmpB, 'name', ifB]);
    await this.exec(nsA, ['ip', 'link', 'set', ifA, 'up']);
    await this.exec(nsB, ['ip', 'link', 'set', ifB, 'up']);
  }

  /** A bridge in `ns` (for several clients on one segment). */
  async bridge(ns: string, name: string, members: string[]): Promise<void> {
    await this.exec(ns, ['ip', 'link', 'add', name, 'type', 'bridge']);
    await this.exec(ns, ['ip', 'link', 'set', name, 'up']);
    for (const m of members) await this.exec(ns, ['ip', 'link', 'set', m, 'master', name]);
  }

  async addr(ns: string, ifname: string, cidr: string): Promise<void> {
    await this.exec(ns, ['ip', 'addr', 'add', cidr, 'dev', ifname]);
  }

  exec(ns: string, argv: string[], opts: { input?: string; allowFail?: boolean } = {}): ReturnType<typeof run> {
    return run(['ip', 'netns', 'exec', ns, ...argv], opts);
  }

  /** Starts a long-running process inside `ns`; it is killed by destroy(). */
  spawn(ns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.push(child);
    return child;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        await Promise.race([new Promise((r) => c.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }
    }
    for (const ns of this.namespaces.reverse()) {
      // Kill anything still running inside (daemons that forked), then delete.
      const pids = await run(['ip', 'netns', 'pids', ns], { allowFail: true });
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await run(['ip', 'netns', 'del', ns], { allowFail: true });
    }
  }
}

/** Waits until `predicate` is true, polling; throws with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, stepMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Collects a child's stdout+stderr into a string (for logs and assertions). */
export function collectOutput(child: ChildProcess): { text: () => string } {
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => (buf += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (buf += d.toString()));
  return { text: () => buf };
}
