/**
 * The client behind an ISC dhcrelay router, the ISP's usual layout: DISCOVER/REQUEST relayed
 * (giaddr), the option 43 offer intact, the T1 renewal unicast to the server across the router,
 * and the RELEASE on SIGTERM (--release) reaching the server the same way.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT, describeLab } from '../helpers/prereq.ts';
import { startDhcpLab, inPool, type DhcpLab } from '../../scripts/lab/dhcp-lab.ts';
import { collectOutput, labTag, waitFor } from '../../scripts/lab/netns.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';

const OFFER: Option43Offer = { protocol: 'tftp', server: '198.18.21.1', softwareFile: 'FS-0900E_v2.2.0.bin', softwareMd5: '9e107d9d372bb6826bd81d3542a419d6', flags: 0, urgent: false, unknown: [] };
const LEASE = 12;

describeLab('dhcp client behind ISC dhcrelay', ['dhcpd', 'dhcrelay', 'busybox', 'ip'], () => {
  let lab: DhcpLab;
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cpd-relay-'));
    lab = await startDhcpLab({ subnet: '198.18.20', relay: true, classes: { 'FS-0900E': OFFER }, leaseSeconds: LEASE, clients: 1, tag: labTag() });
  });

  afterAll(async () => {
    await lab?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('binds through the relay, renews by unicast across the router, releases on SIGTERM', async () => {
    const ns = lab.clientNs[0] ?? '';
    expect(lab.serverIp).toBe('198.18.21.1');
    expect(lab.routerIp).toBe('198.18.20.1');
    const child = lab.netns.spawn(ns, [AGENT, 'dhcp', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--json', '--release', '--no-arp-check', '--resolv-conf', join(tmp, 'resolv')]);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const err = collectOutput(child);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => stdout.split('\n').filter(Boolean).length >= 2, 'bind + renewal', 4 * LEASE * 1000);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const [first, second] = stdout.trim().split('\n').map((l) => JSON.parse(l) as { address: string; serverId: string; routers: string[]; option43: Option43Offer });
    expect(inPool(first?.address ?? '', lab.pools['FS-0900E'] ?? ['', ''])).toBe(true);
    expect(first).toMatchObject({ serverId: '198.18.21.1', routers: ['198.18.20.1'], option43: OFFER });
    expect(second?.address).toBe(first?.address);
    expect(err.text()).toContain('how=renew');
    const log = lab.dhcpd.output();
    expect(log).toContain('DHCPDISCOVER from');
    expect(log).toMatch(/DHCPACK on 198\.18\.20\.\d+ to \S+ via 198\.18\.20\.1/); // relayed: giaddr
    await waitFor(() => lab.dhcpd.output().includes(`DHCPRELEASE of ${first?.address}`), 'RELEASE across the router', 5000);
  });
});
