/**
 * Real network backend: `ip` commands that work the same with iproute2 and busybox `ip`
 * (only `addr add/del/show`, `route replace/del/show`; plain-text output, no -json / -brief),
 * an atomic resolv.conf, and an ARP probe with busybox `arping -D` (exit 1 = someone answered;
 * iputils arping has the same -D/-I/-c/-w flags and exit code and can be configured instead).
 *
 * resolv.conf (like udhcpc's deconfig, but keeping the host's file): what was there before the
 * first write is kept beside it (`<file>.pre-cpe-agent`, same mode) and put back byte for
 * byte on RELEASE/expiry/NAK (removeLease) and on stop (restoreDns); when nothing was there,
 * ours is removed. A lease without DNS servers leaves the file alone (never an empty one).
 * Writes are atomic (temp + fsync + rename), except onto a bind-mounted file (`ip netns exec`
 * with /etc/netns/NAME/resolv.conf, containers), which cannot be renamed over: written in place.
 *
 * applyLease is idempotent (a renew with nothing changed runs only the read-only `show`
 * commands) and all-or-nothing: when a step fails, the steps already done are undone in
 * reverse order before the error is thrown. A new address in another subnet is added before
 * the old one is removed; in the same subnet the old one goes first, because the kernel
 * deletes secondaries together with their primary (found by the lab test).
 */
import { lstat, open, readFile, readlink, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { LeaseConfig, NetConfigurator } from '../types.ts';
import type { Exec } from './exec.ts';
import { execCommand } from './exec.ts';
import { AgentError } from '../../agent/errors.ts';
import { writeFileAtomic } from '../../agent/util/atomic-file.ts';
import { ipv4ToNumber, numberToIpv4, parseIpv4 } from '../../agent/util/bytes.ts';

export interface IpNetOptions {
  /** argv prefix of the ip tool: ['ip'] (default), ['busybox', 'ip'], or ['ip', 'netns', 'exec', NS, 'ip'] */
  ip?: string[];
  /** argv prefix of arping; default ['busybox', 'arping'] */
  arping?: string[];
  /** where DNS servers are written; default /etc/resolv.conf (the sim platform: the state dir) */
  resolvConf?: string;
  /** ARP probe: requests sent (default 2) and seconds to wait (default 2) */
  arpCount?: number;
  arpWaitSeconds?: number;
  exec?: Exec;
}

const BROADCAST_HOST = '255.255.255.255/32';
const RESOLV_OPTS = { code: 'NET_RESOLV_WRITE_FAILED', mode: 0o644 };

export function broadcastOf(address: string, prefixLength: number): string {
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return numberToIpv4((ipv4ToNumber(address) | (~mask >>> 0)) >>> 0);
}

/** True when the two address/prefix pairs share a network (the wider prefix decides). */
export function sameSubnet(a: { address: string; prefixLength: number }, b: { address: string; prefixLength: number }): boolean {
  const p = Math.min(a.prefixLength, b.prefixLength);
  const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return ((ipv4ToNumber(a.address) & mask) >>> 0) === ((ipv4ToNumber(b.address) & mask) >>> 0);
}

/** `inet A/P` entries of `ip addr show dev IF` (iproute2 and busybox print the same lines). */
export function parseInetAddrs(text: string): Array<{ address: string; prefixLength: number }> {
  const out: Array<{ address: string; prefixLength: number }> = [];
  for (const m of text.matchAll(/^\s*inet (\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/gm)) {
    out.push({ address: m[1] ?? '', prefixLength: m[2] === undefined ? 32 : Number(m[2]) });
  }
  return out;
}

/** Gateways of `default via G …` lines of `ip route show` for `iface`. */
export function parseDefaultRoutes(text: string, iface: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^default via (\d+\.\d+\.\d+\.\d+) dev (\S+)/.exec(line.trim());
    if (m && m[2] === iface && m[1]) out.push(m[1]);
  }
  return out;
}

/** First line of every resolv.conf the agent writes: `# written by cpe-agent for IF …`. */
const OURS = '# written by cpe-agent for ';

/** Suffix of the copy of what was in resolv.conf before the agent's first write. */
export const RESOLV_BACKUP_SUFFIX = '.pre-cpe-agent';

export function resolvConfText(lease: LeaseConfig): string {
  const lines = [`${OURS}${lease.iface} (DHCP lease ${lease.address}/${lease.prefixLength})`];
  if (lease.domain) lines.push(`search ${lease.domain}`);
  for (const d of lease.dns) lines.push(`nameserver ${d}`);
  return lines.join('\n') + '\n';
}

function checkIface(iface: string): string {
  if (!/^[A-Za-z0-9_.@:-]{1,15}$/.test(iface)) throw new AgentError('NET_IFACE_INVALID', `not an interface name: ${JSON.stringify(iface)}`);
  return iface;
}

function checkLease(l: LeaseConfig): void {
  checkIface(l.iface);
  parseIpv4(l.address);
  if (!Number.isInteger(l.prefixLength) || l.prefixLength < 1 || l.prefixLength > 32) {
    throw new AgentError('NET_LEASE_INVALID', `prefix length ${l.prefixLength} out of range`, { iface: l.iface });
  }
  for (const r of l.routers) parseIpv4(r);
  for (const d of l.dns) parseIpv4(d);
  if (l.domain !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(l.domain)) {
    throw new AgentError('NET_LEASE_INVALID', 'domain name has characters resolv.conf cannot hold', { iface: l.iface });
  }
}

/**
 * Where resolv.conf content really goes: embedded systems link /etc/resolv.conf to a tmpfs
 * (/tmp/resolv.conf, /var/run/…), often dangling at boot. Writing atomically *through* the
 * link keeps it (renaming over it would replace the link, or fail on a read-only /etc).
 */
export async function followLinks(path: string): Promise<string> {
  let p = path;
  for (let i = 0; i < 8; i++) {
    let st;
    try {
      st = await lstat(p);
    } catch {
      return p;
    }
    if (!st.isSymbolicLink()) return p;
    p = resolve(dirname(p), await readlink(p));
  }
  throw new AgentError('NET_RESOLV_WRITE_FAILED', `too many symbolic links at ${path}`);
}

/** Mount points of this mount namespace (/proc/self/mountinfo field 5, octal escapes undone). */
async function mountPoints(): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.split(' ')[4];
    if (f) out.add(f.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** Atomic replace, or in place (truncate, write, fsync) when `path` is itself a mount point. */
async function writeResolv(path: string, text: string, mode = 0o644): Promise<void> {
  if (!(await mountPoints()).has(resolve(path))) return writeFileAtomic(path, text, { ...RESOLV_OPTS, mode });
  try {
    const fh = await open(path, 'r+');
    try {
      await fh.truncate(0);
      await fh.write(text, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new AgentError('NET_RESOLV_WRITE_FAILED', `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`, { path }, { cause: e });
  }
}

async function unlinkIfThere(path: string): Promise<void> {
  await unlink(path).catch((e: unknown) => {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
  });
}

/**
 * The copy of the resolv.conf found before the agent's first write: a file beside it
 * (survives a crash or kill -9), or in memory when the target is a mount point (a sibling
 * file would land in the directory under the bind mount: the host's /etc).
 */
class ResolvBackup {
  private readonly mem = new Map<string, { text: string; mode: number }>();

  async read(target: string): Promise<{ text: string; mode: number } | undefined> {
    const m = this.mem.get(target);
    if (m) return m;
    const path = target + RESOLV_BACKUP_SUFFIX;
    const text = await readText(path);
    return text === undefined ? undefined : { text, mode: (await stat(path)).mode & 0o777 };
  }

  async save(target: string, text: string, mode: number): Promise<void> {
    if ((await mountPoints()).has(resolve(target))) this.mem.set(target, { text, mode });
    else await writeFileAtomic(target + RESOLV_BACKUP_SUFFIX, text, { ...RESOLV_OPTS, mode });
  }

  async drop(target: string): Promise<void> {
    this.mem.delete(target);
    await unlinkIfThere(target + RESOLV_BACKUP_SUFFIX);
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
    throw e;
  }
}

export class IpNet implements NetConfigurator {
  private readonly ipCmd: string[];
  private readonly arpingCmd: string[];
  readonly resolvConf: string;
  private readonly arpCount: number;
  private readonly arpWait: number;
  private readonly exec: Exec;
  private readonly backup = new ResolvBackup();

  constructor(opts: IpNetOptions = {}) {
    this.ipCmd = opts.ip ?? ['ip'];
    this.arpingCmd = opts.arping ?? ['busybox', 'arping'];
    this.resolvConf = opts.resolvConf ?? '/etc/resolv.conf';
    this.arpCount = opts.arpCount ?? 2;
    this.arpWait = opts.arpWaitSeconds ?? 2;
    this.exec = opts.exec ?? execCommand;
  }

  /** Runs `ip …`; throws NET_CMD_FAILED with the tool's message unless `allowFail`. */
  private async ip(args: string[], allowFail = false): Promise<{ code: number; stdout: string }> {
    const argv = [...this.ipCmd, ...args];
    let r;
    try {
      r = await this.exec(argv);
    } catch (e) {
      throw new AgentError('NET_CMD_FAILED', `cannot run ${argv[0] ?? 'ip'}: ${e instanceof Error ? e.message : String(e)}`, { cmd: `ip ${args.join(' ')}` });
    }
    if (r.code !== 0 && !allowFail) {
      throw new AgentError('NET_CMD_FAILED', `ip ${args.join(' ')} failed: ${r.stderr.trim() || `exit ${r.code}`}`, { cmd: `ip ${args.join(' ')}`, exit: r.code });
    }
    return r;
  }

  /**
   * Before the first DISCOVER: the link up (a freshly booted board's NIC is down, and a route
   * cannot be added on a down link: found in the QEMU modem), then the broadcast host route.
   */
  async addBroadcastRoute(iface: string): Promise<void> {
    await this.ip(['link', 'set', 'dev', checkIface(iface), 'up']);
    await this.ip(['route', 'replace', BROADCAST_HOST, 'dev', checkIface(iface)]);
  }

  async removeBroadcastRoute(iface: string): Promise<void> {
    await this.ip(['route', 'del', BROADCAST_HOST, 'dev', checkIface(iface)], true);
  }

  async addresses(iface: string): Promise<Array<{ address: string; prefixLength: number }>> {
    return parseInetAddrs((await this.ip(['addr', 'show', 'dev', checkIface(iface)])).stdout);
  }

  async defaultRoutes(iface: string): Promise<string[]> {
    return parseDefaultRoutes((await this.ip(['route', 'show'])).stdout, checkIface(iface));
  }

  async applyLease(lease: LeaseConfig, previous?: LeaseConfig): Promise<void> {
    checkLease(lease);
    if (previous) checkLease(previous);
    const iface = lease.iface;
    const cidr = `${lease.address}/${lease.prefixLength}`;
    const undo: Array<() => Promise<unknown>> = [];
    let previousGone = false;
    try {
      // 1. address (kept when already there: no flap on renew)
      const have = await this.addresses(iface);
      const moving = previous !== undefined && (previous.address !== lease.address || previous.prefixLength !== lease.prefixLength);
      if (previous && moving && sameSubnet(previous, lease) && have.some((a) => a.address === previous.address && a.prefixLength === previous.prefixLength)) {
        // The new address would be a secondary of the old one, and deleting a primary
        // deletes its secondaries (unless promote_secondaries): swap old → new instead.
        const pcidr = `${previous.address}/${previous.prefixLength}`;
        await this.ip(['addr', 'del', pcidr, 'dev', iface]);
        previousGone = true;
        const prevRouter = previous.routers[0];
        undo.push(async () => {
          await this.ip(['addr', 'add', pcidr, 'broadcast', broadcastOf(previous.address, previous.prefixLength), 'dev', iface], true);
          if (prevRouter !== undefined) await this.ip(['route', 'replace', 'default', 'via', prevRouter, 'dev', iface], true);
        });
        have.splice(0, have.length, ...have.filter((a) => a.address !== previous.address));
      }
      if (!have.some((a) => a.address === lease.address && a.prefixLength === lease.prefixLength)) {
        for (const a of have.filter((x) => x.address === lease.address)) {
          await this.ip(['addr', 'del', `${a.address}/${a.prefixLength}`, 'dev', iface]);
          undo.push(() => this.ip(['addr', 'add', `${a.address}/${a.prefixLength}`, 'broadcast', broadcastOf(a.address, a.prefixLength), 'dev', iface], true));
        }
        await this.ip(['addr', 'add', cidr, 'broadcast', broadcastOf(lease.address, lease.prefixLength), 'dev', iface]);
        undo.push(() => this.ip(['addr', 'del', cidr, 'dev', iface], true));
      }
      // 2. default route via the first router
      const router = lease.routers[0];
      if (router !== undefined) {
        const gws = await this.defaultRoutes(iface);
        if (gws.length !== 1 || gws[0] !== router) {
          await this.ip(['route', 'replace', 'default', 'via', router, 'dev', iface]);
          const old = gws[0];
          undo.push(() =>
            old !== undefined
              ? this.ip(['route', 'replace', 'default', 'via', old, 'dev', iface], true)
              : this.ip(['route', 'del', 'default', 'via', router, 'dev', iface], true),
          );
        }
      } else if (previous?.routers[0] !== undefined) {
        await this.ip(['route', 'del', 'default', 'via', previous.routers[0], 'dev', iface], true);
      }
      // 3. DNS, atomically, only when it changed; never an empty one; the host's kept aside
      if (lease.dns.length > 0) {
        const want = resolvConfText(lease);
        const target = await followLinks(this.resolvConf);
        const old = await readText(target);
        if (old !== want) {
          if (old !== undefined && !old.startsWith(OURS)) {
            const had = await this.backup.read(target);
            await this.backup.save(target, old, (await stat(target)).mode & 0o777);
            undo.push(() => (had === undefined ? this.backup.drop(target) : this.backup.save(target, had.text, had.mode)));
          }
          await writeResolv(target, want);
          undo.push(() => (old === undefined ? unlinkIfThere(target) : writeResolv(target, old)));
        }
      }
    } catch (e) {
      for (const u of undo.reverse()) await u().catch(() => undefined);
      if (e instanceof AgentError) throw e;
      throw new AgentError('NET_APPLY_FAILED', `applying ${cidr} on ${iface} failed: ${e instanceof Error ? e.message : String(e)}`, { iface }, { cause: e });
    }
    // 4. the previous address goes last, once the new one is fully in place
    if (previous && !previousGone && (previous.address !== lease.address || previous.prefixLength !== lease.prefixLength)) {
      await this.ip(['addr', 'del', `${previous.address}/${previous.prefixLength}`, 'dev', previous.iface], true);
    }
  }

  async removeLease(lease: LeaseConfig): Promise<void> {
    checkLease(lease);
    const iface = lease.iface;
    const router = lease.routers[0];
    if (router !== undefined && (await this.defaultRoutes(iface)).includes(router)) {
      await this.ip(['route', 'del', 'default', 'via', router, 'dev', iface], true);
    }
    const have = await this.addresses(iface);
    if (have.some((a) => a.address === lease.address)) {
      await this.ip(['addr', 'del', `${lease.address}/${lease.prefixLength}`, 'dev', iface]);
    }
    await this.restoreDns(iface);
  }

  /**
   * Puts back the resolv.conf that was there before the agent wrote one for `iface` (or
   * removes ours when there was none). Another tool's file is left alone.
   */
  async restoreDns(iface: string): Promise<void> {
    const target = await followLinks(this.resolvConf);
    const cur = await readText(target);
    if (cur === undefined || !cur.startsWith(`${OURS}${checkIface(iface)} `)) return;
    const orig = await this.backup.read(target);
    if (orig === undefined) {
      await unlinkIfThere(target);
      return;
    }
    await writeResolv(target, orig.text, orig.mode);
    await this.backup.drop(target);
  }

  async addressInUse(iface: string, address: string): Promise<boolean> {
    parseIpv4(address);
    const argv = [...this.arpingCmd, '-D', '-I', checkIface(iface), '-c', String(this.arpCount), '-w', String(this.arpWait), address];
    let r;
    try {
      r = await this.exec(argv);
    } catch (e) {
      throw new AgentError('NET_ARPING_FAILED', `cannot run arping: ${e instanceof Error ? e.message : String(e)}`, { iface });
    }
    if (r.code === 0) return false;
    if (r.code === 1 && !/usage|invalid|unknown|can't|cannot|no such/i.test(r.stderr)) return true;
    throw new AgentError('NET_ARPING_FAILED', `arping failed: ${r.stderr.trim() || `exit ${r.code}`}`, { iface, exit: r.code });
  }
}
