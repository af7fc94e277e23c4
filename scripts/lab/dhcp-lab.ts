/**
 * A DHCP lab in network namespaces, with real ISC dhcpd. STABLE API (tests, bench, demo):
 *
 *   const lab = await startDhcpLab({
 *     subnet: '198.18.16',                       // a /24 prefix; server is .1
 *     classes: { 'FS-0900E': offerA, 'ESH-3105': offerB },   // option 43 per vendor class
 *     leaseSeconds: 600, clients: 1, tag: labTag(),
 *   });
 *   lab.serverNs / lab.serverIp   namespace + address of the server side (bridge `br0`): start
 *                                  tftpd-hpa / vsftpd there on serverIp (the demo does)
 *   lab.clientNs[i]                one namespace per client, interface `wan0`, no address
 *   lab.pools                      { [vendorClass | 'default']: [first, last] }
 *   lab.leaseFile / lab.leases()   dhcpd's lease file and its parsed entries
 *   lab.dhcpd.output()             dhcpd -d log so far
 *   await lab.stop()               kills dhcpd, deletes every namespace / veth / temp file
 *
 * Pools: class i gets .(100 + 50·i) … .(149 + 50·i) (at most 3 classes), the default pool
 * is .20 … .49. Namespace names: `cpd-<tag>-s` and `cpd-<tag>-c<i>`.
 */
import type { Option43Offer } from '../../agent/option43/types.ts';
import { Netns, labTag } from './netns.ts';
import { startDhcpd, type DhcpdLease, type RunningDhcpd } from './dhcpd.ts';

export interface DhcpLabOptions {
  /** first three octets of the /24, e.g. '198.18.16' */
  subnet?: string;
  classes: Record<string, Option43Offer>;
  leaseSeconds?: number;
  clients?: number;
  tag?: string;
  dns?: string[];
  domain?: string;
}

export interface DhcpLab {
  netns: Netns;
  serverNs: string;
  serverIp: string;
  /** the server's interface (a bridge with every client's peer) */
  serverIface: string;
  clientNs: string[];
  /** interface name inside every client namespace */
  clientIface: string;
  pools: Record<string, [string, string]>;
  leaseFile: string;
  dhcpd: RunningDhcpd;
  leases(): Promise<DhcpdLease[]>;
  stop(): Promise<void>;
}

export const CLIENT_IFACE = 'wan0';

export async function startDhcpLab(opts: DhcpLabOptions): Promise<DhcpLab> {
  const subnet = opts.subnet ?? '198.18.16';
  if (!/^198\.(18|19)\.\d{1,3}$/.test(subnet)) throw new Error(`lab subnet must be inside 198.18.0.0/15, got ${subnet}`);
  const tag = opts.tag ?? labTag();
  const n = opts.clients ?? 1;
  const names = Object.keys(opts.classes);
  if (names.length > 3) throw new Error('at most 3 vendor classes (pool layout)');
  const netns = new Netns();
  try {
    const serverNs = await netns.add(`cpd-${tag}-s`);
    const serverIp = `${subnet}.1`;
    const clientNs: string[] = [];
    const ports: string[] = [];
    for (let i = 0; i < n; i++) {
      const ns = await netns.add(`cpd-${tag}-c${i}`);
      await netns.veth(serverNs, `p${i}`, ns, CLIENT_IFACE);
      clientNs.push(ns);
      ports.push(`p${i}`);
    }
    await netns.bridge(serverNs, 'br0', ports);
    await netns.addr(serverNs, 'br0', `${serverIp}/24`);
    const pools: Record<string, [string, string]> = {};
    names.forEach((vc, i) => (pools[vc] = [`${subnet}.${100 + 50 * i}`, `${subnet}.${149 + 50 * i}`]));
    const defaultPool: [string, string] = [`${subnet}.20`, `${subnet}.49`];
    pools.default = defaultPool;
    const conf = {
      subnet,
      serverIp,
      classes: names.map((vc) => ({ vendorClass: vc, offer: opts.classes[vc] ?? { unknown: [] }, range: pools[vc] ?? defaultPool })),
      defaultRange: defaultPool,
      leaseSeconds: opts.leaseSeconds ?? 600,
      ...(opts.dns ? { dns: opts.dns } : {}),
      ...(opts.domain ? { domain: opts.domain } : {}),
    };
    const dhcpd = await startDhcpd(netns, serverNs, 'br0', conf);
    return {
      netns,
      serverNs,
      serverIp,
      serverIface: 'br0',
      clientNs,
      clientIface: CLIENT_IFACE,
      pools,
      leaseFile: dhcpd.leaseFile,
      dhcpd,
      leases: () => dhcpd.leases(),
      async stop() {
        await dhcpd.stop();
        await netns.destroy();
      },
    };
  } catch (e) {
    await netns.destroy();
    throw e;
  }
}

/** True when `address` lies in the inclusive range [first, last] (same /24). */
export function inPool(address: string, pool: [string, string]): boolean {
  const last = (a: string): number => Number(a.split('.')[3]);
  const prefix = (a: string): string => a.split('.').slice(0, 3).join('.');
  return prefix(address) === prefix(pool[0]) && last(address) >= last(pool[0]) && last(address) <= last(pool[1]);
}
