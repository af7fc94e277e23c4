/**
 * The upgrade lab: one server namespace running ISC dhcpd (one class per vendor class, each
 * sending its option 43 offer), tftpd-hpa and vsftpd (a download user) on one address,
 * serving one directory; client namespaces (interface `wan0`) on a bridge. Used by
 * `make demo` and the upgrade lab tests.
 *
 *   const lab = await startUpgradeLab({ prefix: 'cpu', subnet: '198.18.64', classes, files, ftp });
 *   lab.clientNs[i]  → run `ip netns exec NS dist/cpe-agent run …` there
 *   await lab.setOffers(classes)   restarts dhcpd with new offers (the offer changes)
 *   await lab.putFile(name, bytes) adds / replaces a file on both servers
 *   await lab.stop()               kills everything, deletes namespaces, users, temp dirs
 *
 * Namespaces: `<prefix>-<tag>-s` (server) and `<prefix>-<tag>-c<i>` (clients).
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Option43Offer } from '../../agent/option43/types.ts';
import { Netns, labTag } from './netns.ts';
import { startDhcpd, type DhcpdLease, type RunningDhcpd } from './dhcpd.ts';
import { startTftpd, type RunningTftpd } from './tftpd.ts';
import { startVsftpd, type Vsftpd } from './vsftpd.ts';

export interface UpgradeLabOptions {
  /** namespace prefix ('cpu' for tests, 'cpdemo' for the demo) */
  prefix: string;
  /** first three octets of the /24 inside 198.18.0.0/15; the server is .1 */
  subnet: string;
  classes: Record<string, Option43Offer>;
  /** files served by TFTP and FTP (name → content) */
  files?: Record<string, Uint8Array>;
  /** serve this directory (world-readable, e.g. 0755; kept at stop) instead of a fresh temp dir */
  root?: string;
  ftp: { user: string; password: string };
  /** vsftpd bytes/s per session (slow downloads); default unlimited */
  ftpMaxRate?: number;
  leaseSeconds?: number;
  clients?: number;
  tag?: string;
}

export interface UpgradeLab {
  netns: Netns;
  tag: string;
  serverNs: string;
  serverIp: string;
  clientNs: string[];
  clientIface: string;
  /** directory served by tftpd-hpa and vsftpd */
  root: string;
  /** address pool per vendor class */
  pools: Record<string, [string, string]>;
  dhcpd(): RunningDhcpd;
  leases(): Promise<DhcpdLease[]>;
  tftpd: RunningTftpd;
  vsftpd: Vsftpd;
  setOffers(classes: Record<string, Option43Offer>): Promise<void>;
  putFile(name: string, data: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

export const CLIENT_IFACE = 'wan0';

export function md5Hex(b: Uint8Array): string {
  return createHash('md5').update(b).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift32), the same for the same seed on every machine. */
export function pseudoRandomImage(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 255;
    if (i + 1 < size) out[i + 1] = (x >>> 8) & 255;
    if (i + 2 < size) out[i + 2] = (x >>> 16) & 255;
    if (i + 3 < size) out[i + 3] = x >>> 24;
  }
  return out;
}

export async function startUpgradeLab(opts: UpgradeLabOptions): Promise<UpgradeLab> {
  if (!/^198\.(18|19)\.\d{1,3}$/.test(opts.subnet)) throw new Error(`lab subnet must be inside 198.18.0.0/15, got ${opts.subnet}`);
  const tag = opts.tag ?? labTag();
  const n = opts.clients ?? 1;
  const netns = new Netns();
  const ownRoot = opts.root === undefined;
  const root = opts.root ?? (await mkdtemp(join(tmpdir(), `${opts.prefix}-root-`)));
  let dhcpd: RunningDhcpd | undefined;
  let tftpd: RunningTftpd | undefined;
  let vsftpd: Vsftpd | undefined;
  const stopAll = async (): Promise<void> => {
    await dhcpd?.stop().catch(() => undefined);
    await tftpd?.stop().catch(() => undefined);
    await vsftpd?.stop().catch(() => undefined);
    await netns.destroy();
    if (ownRoot) await rm(root, { recursive: true, force: true });
  };
  try {
    if (ownRoot) await chmod(root, 0o755);
    const putFile = async (name: string, data: Uint8Array): Promise<void> => {
      if (name.includes('/') || name.startsWith('.')) throw new Error(`bad lab file name ${name}`);
      await writeFile(join(root, name), data, { mode: 0o644 });
    };
    for (const [name, data] of Object.entries(opts.files ?? {})) await putFile(name, data);

    const serverNs = await netns.add(`${opts.prefix}-${tag}-s`);
    const serverIp = `${opts.subnet}.1`;
    const clientNs: string[] = [];
    const ports: string[] = [];
    for (let i = 0; i < n; i++) {
      const ns = await netns.add(`${opts.prefix}-${tag}-c${i}`);
      await netns.veth(serverNs, `p${i}`, ns, CLIENT_IFACE);
      clientNs.push(ns);
      ports.push(`p${i}`);
    }
    await netns.bridge(serverNs, 'br0', ports);
    await netns.addr(serverNs, 'br0', `${serverIp}/24`);

    const names = Object.keys(opts.classes);
    // Pools of 20 addresses per class: .100-.119, .120-.139, … (7 classes); default .20-.49.
    if (names.length > 7) throw new Error('at most 7 vendor classes');
    const pools: Record<string, [string, string]> = {};
    names.forEach((vc, i) => (pools[vc] = [`${opts.subnet}.${100 + 20 * i}`, `${opts.subnet}.${Math.min(254, 119 + 20 * i)}`]));
    const defaultRange: [string, string] = [`${opts.subnet}.20`, `${opts.subnet}.49`];
    const startD = (classes: Record<string, Option43Offer>): Promise<RunningDhcpd> =>
      startDhcpd(netns, serverNs, 'br0', {
        subnet: opts.subnet,
        serverIp,
        classes: Object.entries(classes).map(([vc, offer]) => {
          const range = pools[vc];
          if (!range) throw new Error(`setOffers: class ${vc} was not declared at lab start`);
          return { vendorClass: vc, offer, range };
        }),
        defaultRange,
        leaseSeconds: opts.leaseSeconds ?? 600,
      });
    dhcpd = await startD(opts.classes);
    tftpd = await startTftpd(netns, serverNs, { root, address: serverIp });
    vsftpd = await startVsftpd(netns, serverNs, { root, address: serverIp, user: opts.ftp.user, password: opts.ftp.password, ...(opts.ftpMaxRate ? { maxRate: opts.ftpMaxRate } : {}) });
    const lab: UpgradeLab = {
      netns,
      tag,
      serverNs,
      serverIp,
      clientNs,
      clientIface: CLIENT_IFACE,
      root,
      pools,
      dhcpd: () => {
        if (!dhcpd) throw new Error('dhcpd not running');
        return dhcpd;
      },
      leases: () => (dhcpd ? dhcpd.leases() : Promise.resolve([])),
      tftpd,
      vsftpd,
      async setOffers(classes) {
        const old = dhcpd;
        dhcpd = undefined;
        await old?.stop();
        dhcpd = await startD(classes);
      },
      putFile,
      stop: stopAll,
    };
    return lab;
  } catch (e) {
    await stopAll();
    throw e;
  }
}
