/**
 * The DHCP client against real ISC dhcpd in network namespaces (scripts/lab/dhcp-lab.ts):
 * per-class pools and exact option 43 values, renewal at T1, RELEASE seen by dhcpd, busybox
 * udhcpc getting the same pool and the same option 43 bytes, a rogue sending replies with
 * foreign xids. Runs the built agent (dist/cpe-agent) inside the client namespaces.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT, describeLab } from '../helpers/prereq.ts';
import { startDhcpLab, inPool, type DhcpLab } from '../../scripts/lab/dhcp-lab.ts';
import { collectOutput, labTag, waitFor } from '../../scripts/lab/netns.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import { saveLease } from '../../agent/dhcp/lease-store.ts';

const FS_OFFER: Option43Offer = {
  protocol: 'tftp',
  server: '198.18.16.1',
  softwareFile: 'FS-0900E_v2.1.7.bin',
  softwareMd5: '9e107d9d372bb6826bd81d3542a419d6',
  configFile: 'fs0900e-default.cfg',
  configMd5: 'e4d909c290d0fb1ca068ffaddf22cbd0',
  flags: 1,
  urgent: true,
  unknown: [],
};
const ESH_OFFER: Option43Offer = {
  protocol: 'ftp',
  server: '198.18.16.1',
  user: 'cpeupg',
  password: 'Upgr4de!x',
  softwareFile: 'ESH-3105_v3.0.2.img',
  softwareMd5: 'd41d8cd98f00b204e9800998ecf8427e',
  flags: 0,
  urgent: false,
  unknown: [],
};
const LEASE = 12; // T1 = 6 s

interface LeaseJson {
  address: string;
  prefixLength: number;
  routers: string[];
  dns: string[];
  serverId: string;
  leaseSeconds: number;
  renewSeconds: number;
  rebindSeconds: number;
  option43: Option43Offer | null;
  option43Hex?: string;
}

describeLab('dhcp client vs ISC dhcpd', ['dhcpd', 'busybox', 'ip', 'tcpdump', 'tshark'], () => {
  let lab: DhcpLab;
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cpd-test-'));
    lab = await startDhcpLab({ subnet: '198.18.16', classes: { 'FS-0900E': FS_OFFER, 'ESH-3105': ESH_OFFER }, leaseSeconds: LEASE, clients: 4, tag: labTag() });
  });

  afterAll(async () => {
    await lab?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function once(ns: string, vc: string, extra: string[] = []): Promise<{ lease: LeaseJson; stderr: string }> {
    const r = await lab.netns.exec(ns, [AGENT, 'dhcp', '--iface', 'wan0', '--vendor-class', vc, '--once', '--json', '--resolv-conf', join(tmp, `resolv-${ns}`), ...extra]);
    return { lease: JSON.parse(r.stdout) as LeaseJson, stderr: r.stderr };
  }

  async function macOf(ns: string): Promise<string> {
    return (await lab.netns.exec(ns, ['cat', '/sys/class/net/wan0/address'])).stdout.trim();
  }

  it('FS-0900E gets an address from its pool and exactly the option 43 the conf set; the interface is configured', async () => {
    const ns = lab.clientNs[0] ?? '';
    const { lease } = await once(ns, 'FS-0900E');
    expect(inPool(lease.address, lab.pools['FS-0900E'] ?? ['', ''])).toBe(true);
    expect(lease).toMatchObject({ prefixLength: 24, routers: [lab.serverIp], dns: [lab.serverIp], serverId: lab.serverIp, leaseSeconds: LEASE, renewSeconds: LEASE / 2 });
    expect(lease.option43).toEqual(FS_OFFER);
    const addr = (await lab.netns.exec(ns, ['ip', 'addr', 'show', 'dev', 'wan0'])).stdout;
    expect(addr).toContain(`inet ${lease.address}/24`);
    const routes = (await lab.netns.exec(ns, ['ip', 'route', 'show'])).stdout;
    expect(routes).toContain(`default via ${lab.serverIp} dev wan0`);
    expect(routes).not.toContain('255.255.255.255');
    // the client exited: the resolv.conf it wrote is taken back (nothing was there before)
    await expect(readFile(join(tmp, `resolv-${ns}`), 'utf8')).rejects.toThrow(/ENOENT/);
    const mine = (await lab.leases()).filter((l) => l.address === lease.address).at(-1);
    expect(mine).toMatchObject({ bindingState: 'active', vendorClass: 'FS-0900E', hardware: await macOf(ns) });
  });

  it('ESH-3105 gets an address from its own pool and its own option 43 (FTP login included)', async () => {
    const ns = lab.clientNs[1] ?? '';
    const state = join(tmp, 'state-esh');
    const { lease, stderr } = await once(ns, 'ESH-3105', ['--no-arp-check', '--state-dir', state]);
    expect(inPool(lease.address, lab.pools['ESH-3105'] ?? ['', ''])).toBe(true);
    expect(lease.option43).toEqual(ESH_OFFER);
    // the log never carries the password, nor does the remembered lease (secrets at rest)
    expect(stderr).not.toContain(ESH_OFFER.password);
    const remembered = await readFile(join(state, 'dhcp-lease-wan0.json'), 'utf8');
    expect(remembered).toContain(lease.address);
    expect(remembered).not.toContain(ESH_OFFER.password ?? '?');
    expect(remembered).not.toContain(Buffer.from(ESH_OFFER.password ?? '?').toString('hex'));
  });

  it('renews at T1 (unicast REQUEST, ACK printed again) and stops cleanly on SIGTERM', async () => {
    const ns = lab.clientNs[2] ?? '';
    const child = lab.netns.spawn(ns, [AGENT, 'dhcp', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--json', '--no-arp-check', '--resolv-conf', join(tmp, 'resolv-renew')]);
    let stdout = '';
    const at: number[] = [];
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      while (at.length < stdout.split('\n').length - 1) at.push(Date.now());
    });
    const err = collectOutput(child);
    await waitFor(() => at.length >= 2, 'a renewal ACK', 4 * LEASE * 1000);
    const [first, second] = stdout.trim().split('\n').map((l) => JSON.parse(l) as LeaseJson);
    expect(second?.address).toBe(first?.address);
    await waitFor(() => err.text().includes('T1 reached'), 'T1 log line', 5000);
    // the renewal went out at T1: not before, and not far after (the agent's own log clock:
    // bound → T1 reached). The bound line comes after the ip commands, hence 2 s of slack
    // below; above, 3 s for a loaded machine: still well before T2 (LEASE * 0.875 = 10.5 s).
    const clock = (re: RegExp, what: string): number => {
      const m = re.exec(err.text());
      expect(m, `no "${what}" line in the agent's log`).not.toBeNull();
      const [h, mi, sec] = (m?.[1] ?? '').split(':').map(Number);
      return ((h ?? NaN) * 3600 + (mi ?? NaN) * 60 + (sec ?? NaN)) * 1000;
    };
    const bound = clock(/^(\d\d:\d\d:\d\d\.\d{3}) INFO  lease bound/m, 'lease bound');
    const t1 = clock(/^(\d\d:\d\d:\d\d\.\d{3}) INFO  T1 reached: renewing with the server \(unicast\)/m, 'T1 reached');
    const after = (t1 - bound + 86_400_000) % 86_400_000; // across midnight
    expect(after).toBeGreaterThanOrEqual((LEASE / 2) * 1000 - 2000);
    expect(after).toBeLessThanOrEqual((LEASE / 2) * 1000 + 3000);
    await waitFor(() => err.text().includes('how=renew'), 'renew log line', 5000);
    expect(at.length).toBeGreaterThanOrEqual(2);
    // dhcpd saw a REQUEST without server id from the bound client (RENEWING form)
    const mac = await macOf(ns);
    expect(lab.dhcpd.output()).toMatch(new RegExp(`DHCPREQUEST for ${first?.address.replace(/\./g, '\\.')} from ${mac} via br0`));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // stop without --release leaves the address configured (INIT-REBOOT next time)
    expect((await lab.netns.exec(ns, ['ip', 'addr', 'show', 'dev', 'wan0'])).stdout).toContain(`inet ${first?.address}/24`);
  });

  it('--release: RELEASE reaches dhcpd (lease freed early) and the address leaves the interface', async () => {
    const ns = lab.clientNs[0] ?? '';
    const state = join(tmp, 'state-release');
    const { lease } = await once(ns, 'FS-0900E', ['--release', '--no-arp-check', '--state-dir', state]);
    const mac = await macOf(ns);
    await waitFor(() => lab.dhcpd.output().includes(`DHCPRELEASE of ${lease.address} from ${mac}`), 'DHCPRELEASE in the dhcpd log', 5000);
    await waitFor(async () => (await lab.leases()).filter((l) => l.address === lease.address).at(-1)?.bindingState !== 'active', 'lease file update', 5000);
    // ISC dhcpd 4.4 without failover records a released lease as `binding state free`
    // ("released" exists only with failover peers); either means the RELEASE was processed.
    const last = (await lab.leases()).filter((l) => l.address === lease.address).at(-1);
    expect(['free', 'released']).toContain(last?.bindingState);
    expect((await lab.netns.exec(ns, ['ip', 'addr', 'show', 'dev', 'wan0'])).stdout).not.toContain(`inet ${lease.address}/`);
    expect((await lab.netns.exec(ns, ['ip', 'route', 'show'])).stdout).not.toContain('default via');
    // and the remembered lease is forgotten
    await expect(readFile(join(state, 'dhcp-lease-wan0.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('INIT-REBOOT: a restart with --state-dir asks for the remembered address (no DISCOVER)', async () => {
    const ns = lab.clientNs[1] ?? '';
    const state = join(tmp, 'state-reboot');
    const a = await once(ns, 'ESH-3105', ['--no-arp-check', '--state-dir', state]);
    const b = await once(ns, 'ESH-3105', ['--no-arp-check', '--state-dir', state]);
    expect(b.lease.address).toBe(a.lease.address);
    expect(b.stderr).toContain('INIT-REBOOT: requesting the remembered address');
    expect(b.stderr).toContain('how=reboot');
    expect(b.stderr).not.toContain('OFFER received');
  });

  it('busybox udhcpc in the same lab gets the same pool and the same option 43 bytes', async () => {
    const ns = lab.clientNs[3] ?? '';
    const ours = await once(ns, 'FS-0900E', ['--release', '--no-arp-check']);
    const script = join(tmp, 'udhcpc.sh');
    const envFile = join(tmp, 'udhcpc.env');
    await writeFile(script, `#!/bin/sh\n[ "$1" = bound ] && env > ${envFile}\nexit 0\n`);
    await chmod(script, 0o755);
    await lab.netns.exec(ns, ['busybox', 'udhcpc', '-i', 'wan0', '-V', 'FS-0900E', '-O', '43', '-q', '-n', '-f', '-t', '5', '-s', script]);
    const env = Object.fromEntries(
      (await readFile(envFile, 'utf8'))
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(inPool(env.ip ?? '', lab.pools['FS-0900E'] ?? ['', ''])).toBe(true);
    expect(env.ip).toBe(ours.lease.address); // same MAC, same pool, same address
    expect(env.opt43?.toLowerCase()).toBe(ours.lease.option43Hex);
    expect(env.serverid).toBe(lab.serverIp);
  });

  it('replies with a foreign xid (a rogue flooding OFFER/ACK for our MAC) are ignored and logged', async () => {
    const ns = lab.clientNs[3] ?? '';
    await lab.netns.exec(ns, ['ip', 'addr', 'flush', 'dev', 'wan0']);
    const mac = await macOf(ns);
    await lab.netns.exec(lab.serverNs, ['ip', 'route', 'replace', '255.255.255.255/32', 'dev', lab.serverIface]);
    const rogue = lab.netns.spawn(lab.serverNs, [
      process.execPath,
      fileURLToPath(new URL('../../scripts/lab/dhcp-rogue.ts', import.meta.url)),
      '--mac',
      mac,
      '--yiaddr',
      '198.18.16.250',
      '--server',
      '198.18.16.9',
      '--every',
      '5',
      '--seconds',
      '8',
    ]);
    const rogueOut = collectOutput(rogue);
    await waitFor(() => rogueOut.text().includes('ready'), 'rogue ready', 15_000);
    // dhcpd stays silent until the client has been SELECTING under the flood for a while
    lab.dhcpd.pause();
    const child = lab.netns.spawn(ns, ['env', 'CPE_AGENT_LOG_LEVEL=debug', AGENT, 'dhcp', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--once', '--json', '--release', '--no-arp-check', '--resolv-conf', join(tmp, 'resolv-rogue')]);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const err = collectOutput(child);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => (err.text().match(/reason=foreign xid/g) ?? []).length >= 3, 'foreign-xid replies ignored while SELECTING', 30_000);
    } finally {
      lab.dhcpd.resume();
    }
    expect(await exited).toBe(0);
    rogue.kill('SIGTERM');
    const lease = JSON.parse(stdout) as LeaseJson;
    expect(inPool(lease.address, lab.pools['FS-0900E'] ?? ['', ''])).toBe(true);
    expect(lease.address).not.toBe('198.18.16.250');
    expect(lease.serverId).toBe(lab.serverIp);
  });

  it('bad input: an unknown interface is a typed error (exit 2), nothing configured', async () => {
    const r = await lab.netns.exec(lab.clientNs[0] ?? '', [AGENT, 'dhcp', '--iface', 'nosuch0', '--vendor-class', 'FS-0900E', '--once'], { allowFail: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[DHCP_IFACE_MISSING]');
    expect((await lab.netns.exec(lab.clientNs[0] ?? '', ['ip', 'route', 'show'])).stdout).not.toContain('255.255.255.255');
  });

  it('server gone: REBINDING at T2, lease removed at expiry; server back: bound again', async () => {
    const ns = lab.clientNs[2] ?? '';
    await lab.netns.exec(ns, ['ip', 'addr', 'flush', 'dev', 'wan0']);
    const child = lab.netns.spawn(ns, [AGENT, 'dhcp', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--json', '--no-arp-check', '--resolv-conf', join(tmp, 'resolv-expiry')]);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const err = collectOutput(child);
    const lines = (): number => stdout.split('\n').filter(Boolean).length;
    try {
      await waitFor(() => lines() >= 1, 'first ACK', 20_000);
      const first = JSON.parse(stdout.split('\n')[0] ?? '') as LeaseJson;
      lab.dhcpd.pause();
      await waitFor(() => err.text().includes('T2 reached: rebinding'), 'REBINDING', 3 * LEASE * 1000);
      await waitFor(() => err.text().includes('lease lost'), 'expiry', 3 * LEASE * 1000);
      expect(err.text()).toMatch(/lease lost .*reason=lease expired/);
      await waitFor(async () => !(await lab.netns.exec(ns, ['ip', 'addr', 'show', 'dev', 'wan0'])).stdout.includes(`inet ${first.address}/`), 'address removed', 5000);
      const before = lines();
      lab.dhcpd.resume();
      await waitFor(() => lines() > before, 'a new lease after the server came back', 90_000);
      const again = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as LeaseJson;
      expect(inPool(again.address, lab.pools['FS-0900E'] ?? ['', ''])).toBe(true);
      expect((await lab.netns.exec(ns, ['ip', 'addr', 'show', 'dev', 'wan0'])).stdout).toContain(`inet ${again.address}/24`);
    } finally {
      lab.dhcpd.resume();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('without --once, SIGTERM with --release sends RELEASE and removes the address', async () => {
    const ns = lab.clientNs[1] ?? '';
    await lab.netns.exec(ns, ['ip', 'addr', 'flush', 'dev', 'wan0']);
    const resolv = join(tmp, 'resolv-sigterm');
    const host = '# the host\nnameserver 192.0.2.53\n';
    await writeFile(resolv, host);
    const child = lab.netns.spawn(ns, [AGENT, 'dhcp', '--iface', 'wan0', '--vendor-class', 'ESH-3105', '--json', '--release', '--no-arp-check', '--resolv-conf', resolv]);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitFor(() => stdout.includes('\n'), 'first ACK', 20_000);
    const lease = JSON.parse(stdout.split('\n')[0] ?? '') as LeaseJson;
    expect(await readFile(resolv, 'utf8')).toContain(`nameserver ${lab.serverIp}`);
    expect(await readFile(`${resolv}.pre-cpe-agent`, 'utf8')).toBe(host);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await readFile(resolv, 'utf8')).toBe(host); // put back byte for byte, backup gone
    await expect(readFile(`${resolv}.pre-cpe-agent`, 'utf8')).rejects.toThrow(/ENOENT/);
    const mac = await macOf(ns);
    await waitFor(() => lab.dhcpd.output().includes(`DHCPRELEASE of ${lease.address} from ${mac}`), 'DHCPRELEASE', 5000);
    expect((await lab.netns.exec(ns, ['ip', 'addr', 'show', 'dev', 'wan0'])).stdout).not.toContain(`inet ${lease.address}/`);
  });

  it('INIT-REBOOT into the wrong network: dhcpd NAKs, the stale address is removed, DISCOVER binds', async () => {
    const ns = lab.clientNs[3] ?? '';
    const state = join(tmp, 'state-nak');
    await lab.netns.exec(ns, ['ip', 'addr', 'flush', 'dev', 'wan0']);
    await lab.netns.exec(ns, ['ip', 'addr', 'add', '198.18.31.5/24', 'dev', 'wan0']);
    await saveLease(state, {
      iface: 'wan0',
      address: '198.18.31.5',
      prefixLength: 24,
      routers: ['198.18.31.1'],
      dns: [],
      serverId: '198.18.31.1',
      leaseSeconds: 600,
      renewSeconds: 300,
      rebindSeconds: 525,
      acquiredAt: Date.now(),
      vendorClass: 'FS-0900E',
    });
    const { lease, stderr } = await once(ns, 'FS-0900E', ['--no-arp-check', '--state-dir', state]);
    expect(stderr).toContain('INIT-REBOOT: requesting the remembered address');
    expect(stderr).toContain('NAK received');
    expect(inPool(lease.address, lab.pools['FS-0900E'] ?? ['', ''])).toBe(true);
    const addrs = (await lab.netns.exec(ns, ['ip', 'addr', 'show', 'dev', 'wan0'])).stdout;
    expect(addrs).not.toContain('198.18.31.5');
    expect(addrs).toContain(`inet ${lease.address}/24`);
    expect(lab.dhcpd.output()).toMatch(/DHCPNAK on 198\.18\.31\.5/);
  });

  it('ARP conflict: the offered address answers ARP → DECLINE (dhcpd abandons it) → another address', async () => {
    const ns = lab.clientNs[0] ?? '';
    const squatter = lab.clientNs[1] ?? '';
    const first = await once(ns, 'FS-0900E', ['--release', '--no-arp-check']);
    await lab.netns.exec(squatter, ['ip', 'addr', 'flush', 'dev', 'wan0']);
    await lab.netns.exec(squatter, ['ip', 'addr', 'add', `${first.lease.address}/24`, 'dev', 'wan0']);
    try {
      const { lease, stderr } = await once(ns, 'FS-0900E', ['--timeout', '90']);
      expect(stderr).toContain('address in use (ARP reply): DECLINE');
      expect(lease.address).not.toBe(first.lease.address);
      expect(inPool(lease.address, lab.pools['FS-0900E'] ?? ['', ''])).toBe(true);
      expect(lab.dhcpd.output()).toContain(`DHCPDECLINE of ${first.lease.address} from ${await macOf(ns)}`);
    } finally {
      await lab.netns.exec(squatter, ['ip', 'addr', 'flush', 'dev', 'wan0']);
    }
  });

  it('WAN link down/up (carrier): the lease is kept, then INIT-REBOOT on link up', async () => {
    const ns = lab.clientNs[2] ?? '';
    await lab.netns.exec(ns, ['ip', 'addr', 'flush', 'dev', 'wan0']);
    const child = lab.netns.spawn(ns, [AGENT, 'dhcp', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--json', '--no-arp-check', '--resolv-conf', join(tmp, 'resolv-link')]);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const err = collectOutput(child);
    try {
      await waitFor(() => stdout.includes('\n'), 'first ACK', 20_000);
      const lease = JSON.parse(stdout.split('\n')[0] ?? '') as LeaseJson;
      await lab.netns.exec(lab.serverNs, ['ip', 'link', 'set', 'p2', 'down']);
      await waitFor(() => err.text().includes('link down'), 'link down seen', 10_000);
      expect((await lab.netns.exec(ns, ['ip', 'addr', 'show', 'dev', 'wan0'])).stdout).toContain(`inet ${lease.address}/24`);
      await lab.netns.exec(lab.serverNs, ['ip', 'link', 'set', 'p2', 'up']);
      await waitFor(() => err.text().includes('how=reboot'), 'INIT-REBOOT after link up', 20_000);
      expect(err.text()).toContain('INIT-REBOOT: requesting the remembered address');
    } finally {
      await lab.netns.exec(lab.serverNs, ['ip', 'link', 'set', 'p2', 'up'], { allowFail: true });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('on the wire (tcpdump + tshark): DISCOVER/REQUEST carry the CTS fingerprint, option 60/61, broadcast flag', async () => {
    const ns = lab.clientNs[0] ?? '';
    const pcap = join(tmp, 'bind.pcap');
    const dump = lab.netns.spawn(lab.serverNs, ['tcpdump', '-i', lab.serverIface, '-U', '-n', '-w', pcap, 'udp port 67 or udp port 68']);
    const dumpOut = collectOutput(dump);
    await waitFor(() => dumpOut.text().includes('listening on'), 'tcpdump ready', 15_000);
    await lab.netns.exec(ns, ['ip', 'addr', 'flush', 'dev', 'wan0']);
    await once(ns, 'FS-0900E', ['--no-arp-check', '--release']);
    // tcpdump -U writes every packet as it comes: wait until the RELEASE is in the file
    await waitFor(async () => (await lab.netns.exec(lab.serverNs, ['tshark', '-r', pcap, '-Y', 'dhcp'], { allowFail: true })).stdout.includes('DHCP Release'), 'RELEASE captured', 20_000, 200);
    const stopped = new Promise((r) => dump.once("exit", r));
    dump.kill('SIGINT');
    await stopped;
    const text = (await lab.netns.exec(lab.serverNs, ['tshark', '-r', pcap, '-V', '-Y', 'dhcp'])).stdout;
    const packets = text.split(/\nFrame \d+:/);
    const discover = packets.find((p) => p.includes('DHCP: Discover (1)')) ?? '';
    const request = packets.find((p) => p.includes('DHCP: Request (3)')) ?? '';
    const release = packets.find((p) => p.includes('DHCP: Release (7)')) ?? '';
    for (const p of [discover, request]) {
      expect(p).toContain('Vendor class identifier: FS-0900E');
      expect(p).toMatch(/Broadcast flag: Broadcast/);
      expect(p).toContain('Maximum DHCP Message Size: 576');
      expect(p).toMatch(/Option: \(61\) Client identifier/);
      const prl = [...p.matchAll(/Parameter Request List Item: \((\d+)\)/g)].map((m) => Number(m[1]));
      expect(prl).toEqual([54, 51, 58, 59, 1, 3, 6, 15, 28, 43]);
    }
    expect(request).toMatch(/Option: \(50\) Requested IP Address/);
    expect(request).toMatch(/Option: \(54\) DHCP Server Identifier/);
    expect(release).toMatch(/Client IP address: 198\.18\.16\.\d+/);
    expect(release).not.toContain('Malformed');
    expect(text).not.toContain('Malformed');
  });
});
