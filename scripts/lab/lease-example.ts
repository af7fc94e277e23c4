/**
 * make lab-dhcp: a DHCP lab with real ISC dhcpd (classes FS-0900E and ESH-3105, each with its
 * own pool and option 43), our client binding once per class (`dist/cpe-agent dhcp --once`),
 * then busybox udhcpc in the same lab for comparison; prints what each got and tears down.
 * Addresses: 198.18.2.0/24 inside namespaces `cpd-<tag>-*` created and removed here.
 * `ip netns exec` shares /etc with the host: the client writes its resolv.conf into a temp
 * dir (--resolv-conf), never the host's. Each printed command line is exactly what runs.
 */
import { startDhcpLab } from './dhcp-lab.ts';
import { run } from './netns.ts';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const agent = fileURLToPath(new URL('../../dist/cpe-agent', import.meta.url));
const md5 = (s: string): string => s.repeat(32).slice(0, 32);
const lab = await startDhcpLab({
  subnet: '198.18.2',
  clients: 2,
  leaseSeconds: 600,
  dns: ['198.18.2.53'],
  classes: {
    'FS-0900E': { protocol: 'tftp', server: '198.18.2.1', softwareFile: 'FS-0900E_FW_1_03_00_20261123.bin', softwareMd5: md5('a'), flags: 1, urgent: true, unknown: [] },
    'ESH-3105': { protocol: 'ftp', server: '198.18.2.1', user: 'cpe', password: 'example-secret', softwareFile: 'ESH-3105_FW_1_02_00_20261123.bin', softwareMd5: md5('b'), configFile: 'esh3105.cfg', configMd5: md5('c'), flags: 0, urgent: false, unknown: [] },
  },
});
const tmp = mkdtempSync(join(tmpdir(), 'lease-example-'));
const stop = async (): Promise<void> => {
  await lab.stop();
  rmSync(tmp, { recursive: true, force: true });
};
process.once('SIGINT', () => void stop().then(() => process.exit(130)));
try {
  const classes = ['FS-0900E', 'ESH-3105'];
  for (const [i, vc] of classes.entries()) {
    const ns = lab.clientNs[i] ?? '';
    const resolv = join(tmp, `resolv-${i}.conf`);
    const args = ['dhcp', '--iface', 'wan0', '--vendor-class', vc, '--once', '--release', '--resolv-conf', resolv];
    process.stdout.write(`\n$ ip netns exec ${ns} dist/cpe-agent ${args.join(' ')}\n`);
    const r = await run(['ip', 'netns', 'exec', ns, agent, ...args]);
    process.stdout.write(r.stdout);
  }
  const script = join(tmp, 'udhcpc.sh');
  writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && echo "udhcpc: ip=$ip mask=$mask router=$router opt43=$opt43" >> ${tmp}/udhcpc.out\nexit 0\n`);
  chmodSync(script, 0o755);
  process.stdout.write(`\n$ busybox udhcpc -i wan0 -V ESH-3105 -O 43 -q -n -f -s SCRIPT   (same lab, for comparison)\n`);
  await run(['ip', 'netns', 'exec', lab.clientNs[1] ?? '', 'busybox', 'udhcpc', '-i', 'wan0', '-V', 'ESH-3105', '-O', '43', '-q', '-n', '-f', '-s', script]);
  process.stdout.write(readFileSync(join(tmp, 'udhcpc.out'), 'utf8'));
  // dhcpd appends; the last entry of an address is its current state
  const latest = new Map((await lab.leases()).map((l) => [l.address, l.bindingState]));
  process.stdout.write(`\ndhcpd lease file (latest per address): ${[...latest].map(([a, s]) => `${a} ${s}`).join(', ')}\n`);
} finally {
  await stop();
}
