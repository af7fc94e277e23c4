/**
 * The lab of the QEMU modem (issue 10): one network namespace holding a bridge with the
 * servers' address, a tap device for QEMU's NIC on that bridge, ISC dhcpd (one class per vendor
 * class, each with its option 43 offer), tftpd-hpa and vsftpd serving one directory — the upgrade
 * lab of scripts/lab/upgrade-lab.ts with no client namespaces — plus the Net-SNMP tools and
 * tcpdump inside it. QEMU itself runs inside the namespace (test/helpers/qemu-console.ts:
 * `startQemu({ netns: lab.ns, tap: lab.tap, … })`), with
 *   -netdev tap,id=n0,ifname=TAP,script=no,downscript=no -device virtio-net-pci,netdev=n0,romfile=
 *
 *   const lab = await startQemuLab({ classes: { 'FS-0900E': offer }, ftp: { user, password } });
 *   lab.qemuNetArgs(mac)          QEMU's NIC arguments for the tap
 *   await lab.setOffers(classes)  new option 43 offers (dhcpd restarted with the new config)
 *   await lab.putFile(name, data) a file on both servers
 *   await lab.snmp('snmpget', [...]), lab.tcpdump(file, filter), lab.exec(argv)
 *   await lab.stop()              everything killed, namespace and temp dirs removed
 *
 * Addresses only from 198.18.0.0/15; nothing is written outside temp dirs (ip netns exec shares
 * /etc with the host: nothing here needs /etc/netns either).
 */
import type { ChildProcess } from 'node:child_process';
import type { Option43Offer } from '../../agent/option43/types.ts';
import { collectOutput, labTag, run, waitFor, type Netns } from '../lab/netns.ts';
import { snmpTools, type SnmpTools } from '../lab/snmp-tools.ts';
import { startUpgradeLab, type UpgradeLab } from '../lab/upgrade-lab.ts';

export interface QemuLabOptions {
  /** first three octets of the /24 (inside 198.18.0.0/15); the servers are .1. Default 198.18.96 */
  subnet?: string;
  /** vendor class → option 43 offer; the guest's DHCP client must send one of these in option 60 */
  classes: Record<string, Option43Offer>;
  ftp: { user: string; password: string };
  /** directory served by tftpd-hpa and vsftpd (must be world-readable); default a temp dir */
  root?: string;
  files?: Record<string, Uint8Array>;
  ftpMaxRate?: number;
  leaseSeconds?: number;
  /** namespace prefix (default 'cpq') */
  prefix?: string;
}

export interface Capture {
  file: string;
  /** SIGINT, waits until tcpdump has flushed and exited */
  stop(): Promise<void>;
}

export interface QemuLab {
  /** the upgrade lab underneath: dhcpd(), leases(), tftpd, vsftpd, pools, root, serverIp */
  up: UpgradeLab;
  netns: Netns;
  /** the namespace QEMU and the servers run in */
  ns: string;
  serverIp: string;
  bridge: string;
  tap: string;
  /** QEMU arguments for a virtio NIC on the tap (`romfile=`: no efi-virtio.rom needed) */
  qemuNetArgs(mac?: string): string[];
  setOffers(classes: Record<string, Option43Offer>): Promise<void>;
  putFile(name: string, data: Uint8Array): Promise<void>;
  /** a command inside the namespace */
  exec(argv: string[], opts?: { allowFail?: boolean }): ReturnType<typeof run>;
  /** a Net-SNMP tool (snmpget, snmpset, snmpwalk, …) inside the namespace, private config dirs */
  snmp(tool: string, args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** tcpdump on the tap (everything the guest sends and gets; or `iface`), written to `file` */
  tcpdump(file: string, filter?: string, iface?: string): Promise<Capture>;
  stop(): Promise<void>;
}

/** A locally administered, random MAC for the guest's NIC. */
export function randomMac(): string {
  const b = Array.from({ length: 3 }, () => Math.floor(Math.random() * 256));
  return ['52', '54', '00', ...b.map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

export async function startQemuLab(opts: QemuLabOptions): Promise<QemuLab> {
  const tag = labTag();
  const up = await startUpgradeLab({
    prefix: opts.prefix ?? 'cpq',
    subnet: opts.subnet ?? '198.18.96',
    classes: opts.classes,
    ftp: opts.ftp,
    clients: 0,
    tag,
    ...(opts.root !== undefined ? { root: opts.root } : {}),
    ...(opts.files !== undefined ? { files: opts.files } : {}),
    ...(opts.ftpMaxRate !== undefined ? { ftpMaxRate: opts.ftpMaxRate } : {}),
    ...(opts.leaseSeconds !== undefined ? { leaseSeconds: opts.leaseSeconds } : {}),
  });
  const ns = up.serverNs;
  const bridge = 'br0';
  const tap = 'qtap0';
  const captures: ChildProcess[] = [];
  let tools: SnmpTools | undefined;
  const stop = async (): Promise<void> => {
    for (const c of captures) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await tools?.cleanup().catch(() => undefined);
    await up.stop();
  };
  try {
    await up.netns.exec(ns, ['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    await up.netns.exec(ns, ['ip', 'link', 'set', tap, 'master', bridge]);
    await up.netns.exec(ns, ['ip', 'link', 'set', tap, 'up']);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    up,
    netns: up.netns,
    ns,
    serverIp: up.serverIp,
    bridge,
    tap,
    qemuNetArgs: (mac = randomMac()) => ['-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${mac},romfile=`],
    setOffers: (classes) => up.setOffers(classes),
    putFile: (name, data) => up.putFile(name, data),
    exec: (argv, o = {}) => up.netns.exec(ns, argv, o),
    async snmp(tool, args, timeoutMs) {
      tools ??= await snmpTools();
      return tools.try(tool, args, ns, timeoutMs);
    },
    async tcpdump(file, filter, iface = tap) {
      const child = up.netns.spawn(ns, ['tcpdump', '-i', iface, '-n', '-U', '--immediate-mode', '-w', file, ...(filter ? [filter] : [])]);
      captures.push(child);
      const out = collectOutput(child);
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`tcpdump exited: ${out.text()}`);
        return out.text().includes('listening on');
      }, `tcpdump on ${iface} in ${ns}`);
      return {
        file,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGINT');
          await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        },
      };
    },
    stop,
  };
}
