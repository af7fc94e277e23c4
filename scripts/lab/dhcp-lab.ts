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
 *   lab.routerIp                   the clients' gateway (= serverIp, or the relay with relay: true)
 *   relay: true                    clients behind an ISC dhcrelay router (lab.relayNs); dhcpd on
 *                                  the next /24 (serverIp = <subnet+1>.1, interface `srv0`)
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
import { Netns, collectOutput, labTag, waitFor } from './netns.ts';
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
  /**
   * Put an ISC dhcrelay router between clients and server (the ISP's usual layout): clients on
   * `subnet` behind the relay `.1`, dhcpd on the next /24 (`subnet` + 1, server `.1`, relay `.2`).
   */
  relay?: boolean;
}

export interface DhcpLab {
  netns: Netns;
  serverNs: string;
  serverIp: string;
  /** the server's interface (a bridge with every client's peer; `srv0` behind a relay) */
  serverIface: string;
  /** the clients' gateway: serverIp, or the relay's client-side address */
  routerIp: string;
  /** namespace of the relay router (relay mode only) */
  relayNs?: string;
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
const DHCRELAY = '/usr/sbin/dhcrelay';

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
    const third = Number(subnet.split('.')[2]);
    const serverSubnet = `${subnet.split('.').slice(0, 2).join('.')}.${third + 1}`;
    const serverIp = opts.relay ? `${serverSubnet}.1` : `${subnet}.1`;
    const routerIp = `${subnet}.1`;
    // the clients' segment lives in the relay namespace (relay mode) or in the server's
    const segmentNs = opts.relay ? await netns.add(`cpd-${tag}-r`) : serverNs;
    const clientNs: string[] = [];
    const ports: string[] = [];
    for (let i = 0; i < n; i++) {
      const ns = await netns.add(`cpd-${tag}-c${i}`);
      await netns.veth(segmentNs, `p${i}`, ns, CLIENT_IFACE);
      clientNs.push(ns);
      ports.push(`p${i}`);
    }
    await netns.bridge(segmentNs, 'br0', ports);
    await netns.addr(segmentNs, 'br0', `${routerIp}/24`);
    if (opts.relay) {
      await netns.veth(serverNs, 'srv0', segmentNs, 'up0');
      await netns.addr(serverNs, 'srv0', `${serverIp}/24`);
      await netns.addr(segmentNs, 'up0', `${serverSubnet}.2/24`);
      await netns.exec(segmentNs, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      await netns.exec(serverNs, ['ip', 'route', 'add', `${subnet}.0/24`, 'via', `${serverSubnet}.2`]);
    }
    const pools: Record<string, [string, string]> = {};
    names.forEach((vc, i) => (pools[vc] = [`${subnet}.${100 + 50 * i}`, `${subnet}.${149 + 50 * i}`]));
    const defaultPool: [string, string] = [`${subnet}.20`, `${subnet}.49`];
    pools.default = defaultPool;
    const conf = {
      subnet,
      serverIp,
      router: routerIp,
      ...(opts.relay ? { emptySubnets: [serverSubnet] } : {}),
      classes: names.map((vc) => ({ vendorClass: vc, offer: opts.classes[vc] ?? { unknown: [] }, range: pools[vc] ?? defaultPool })),
      defaultRange: defaultPool,
      leaseSeconds: opts.leaseSeconds ?? 600,
      ...(opts.dns ? { dns: opts.dns } : {}),
      ...(opts.domain ? { domain: opts.domain } : {}),
    };
    const serverIface = opts.relay ? 'srv0' : 'br0';
    const dhcpd = await startDhcpd(netns, serverNs, serverIface, conf);
    if (opts.relay) {
      const relay = netns.spawn(segmentNs, [DHCRELAY, '-4', '-d', '-id', 'br0', '-iu', 'up0', serverIp]);
      const out = collectOutput(relay);
      let gone = false;
      relay.once('exit', () => (gone = true));
      await waitFor(() => {
        if (gone) throw new Error(`dhcrelay exited at start:\n${out.text()}`);
        return /Sending on\s+Socket/.test(out.text());
      }, 'dhcrelay ready');
    }
    return {
      netns,
      serverNs,
      serverIp,
      serverIface,
      routerIp,
      ...(opts.relay ? { relayNs: segmentNs } : {}),
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
