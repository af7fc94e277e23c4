/**
 * Two ISC dhcpd on one segment (issue 11): server A knows client 1, server B knows client 2
 * (each `deny unknown-clients`), so each client is answered by one of them, and both servers'
 * packets cross the segment. tcpdump on the segment's bridge writes the capture; tshark confirms
 * ACKs from both servers; `leg replay --trusted-server A` must log on only A's client and
 * count B's ACK and the RELEASE sent to B.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describeLab, AGENT } from '../helpers/prereq.ts';
import { Netns, collectOutput, labTag, run, waitFor } from '../../scripts/lab/netns.ts';
import { BUSYBOX, DHCPD } from '../../scripts/lab/leg-lab.ts';
import type { LegEvent } from '../../agent/leg/events.ts';

const A = '198.18.84.1';
const B = '198.18.84.2';
const MAC = ['02:c1:00:00:00:01', '02:c2:00:00:00:02'] as const;

function conf(known: string, first: number): string {
  return `ddns-update-style none;
authoritative;
default-lease-time 600;
max-lease-time 600;
host known { hardware ethernet ${known}; }
subnet 198.18.84.0 netmask 255.255.255.0 {
  option subnet-mask 255.255.255.0;
  pool { range 198.18.84.${first} 198.18.84.${first + 9}; allow known-clients; deny unknown-clients; }
}
`;
}

const SCRIPT = `#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew) ip addr replace "$ip/24" dev "$interface"; echo "$1 $ip" >> "$LOG" ;;
esac
exit 0
`;

describeLab('leg: two ISC dhcpd on one segment, one trusted', ['dhcpd', 'busybox', 'tcpdump', 'tshark', 'ip'], () => {
  const netns = new Netns();
  const dir = mkdtempSync(join(tmpdir(), 'leg-trust-lab-'));
  const pcap = join(dir, 'two-servers.pcap');
  const log = (i: number) => join(dir, `c${i}.log`);
  const bound = (i: number) => (existsSync(log(i)) ? readFileSync(log(i), 'utf8') : '');

  beforeAll(async () => {
    const tag = labTag();
    const sw = await netns.add(`cpt-${tag}-sw`);
    const servers = [await netns.add(`cpt-${tag}-a`), await netns.add(`cpt-${tag}-b`)];
    const clients = [await netns.add(`cpt-${tag}-c1`), await netns.add(`cpt-${tag}-c2`)];
    const ports: string[] = [];
    for (const [i, ns] of [...servers, ...clients].entries()) {
      await netns.veth(ns, 'e0', sw, `p${i}`);
      ports.push(`p${i}`);
    }
    await netns.bridge(sw, 'br0', ports);
    const outs: { text: () => string }[] = [];
    for (const [i, ns] of servers.entries()) {
      await netns.addr(ns, 'e0', `${i === 0 ? A : B}/24`);
      const cf = join(dir, `dhcpd${i}.conf`);
      writeFileSync(cf, conf(MAC[i] as string, i === 0 ? 100 : 200));
      writeFileSync(join(dir, `dhcpd${i}.leases`), '');
      const d = netns.spawn(ns, [DHCPD, '-4', '-f', '-d', '-cf', cf, '-lf', join(dir, `dhcpd${i}.leases`), '-pf', join(dir, `dhcpd${i}.pid`), 'e0']);
      const out = collectOutput(d);
      outs.push(out);
      await waitFor(() => /Server starting service|Sending on\s+Socket/.test(out.text()), `dhcpd ${i}`, 15_000);
    }
    const dump: ChildProcess = netns.spawn(sw, ['/usr/bin/tcpdump', '-U', '-n', '-i', 'br0', '-w', pcap, 'udp port 67 or udp port 68']);
    const dumpOut = collectOutput(dump);
    await waitFor(() => dumpOut.text().includes('listening on'), 'tcpdump', 15_000);
    const script = join(dir, 'udhcpc.sh');
    writeFileSync(script, SCRIPT);
    chmodSync(script, 0o755);
    const udhcpc: ChildProcess[] = [];
    for (const [i, ns] of clients.entries()) {
      await netns.exec(ns, ['ip', 'link', 'set', 'e0', 'address', MAC[i] as string]);
      udhcpc.push(netns.spawn(ns, ['env', `LOG=${log(i)}`, BUSYBOX, 'udhcpc', '-f', '-i', 'e0', '-s', script, '-t', '10', '-T', '1', '-A', '1']));
    }
    await waitFor(() => bound(0).includes('bound') && bound(1).includes('bound'), 'both clients bound', 40_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${outs.map((o) => o.text()).join('\n')}`);
    });
    udhcpc[1]?.kill('SIGUSR2'); // client 2 releases its lease: a RELEASE unicast to B
    await new Promise((r) => setTimeout(r, 1500));
    for (const u of udhcpc) u.kill('SIGKILL');
    dump.kill('SIGTERM');
    await new Promise((r) => dump.once('exit', r));
  }, 120_000);

  afterAll(async () => {
    await netns.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tshark: ACKs from both servers, each to its own client; the RELEASE goes to B', async () => {
    const acks = (await run(['tshark', '-r', pcap, '-Y', 'dhcp.option.dhcp == 5', '-T', 'fields', '-e', 'ip.src', '-e', 'dhcp.option.dhcp_server_id', '-e', 'dhcp.hw.mac_addr'])).stdout;
    const rows = acks.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.filter((r) => r[0] === A && r[1] === A && r[2] === MAC[0]).length).toBeGreaterThanOrEqual(1);
    expect(rows.filter((r) => r[0] === B && r[1] === B && r[2] === MAC[1]).length).toBeGreaterThanOrEqual(1);
    const release = (await run(['tshark', '-r', pcap, '-Y', 'dhcp.option.dhcp == 7', '-T', 'fields', '-e', 'ip.dst'])).stdout.trim();
    expect(release).toBe(B);
  });

  it('leg replay --trusted-server A: only A’s client logs on; B’s ACK and the RELEASE to B are counted, not acted on', async () => {
    const state = join(dir, 'state');
    const r = await run([AGENT, 'leg', 'replay', pcap, '--fallback-ip', '--trusted-server', A, '--state-dir', state, '--json']);
    const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LegEvent);
    expect(events.map((e) => [e.event, e.chaddr])).toEqual([['logon', MAC[0]]]);
    expect(r.stderr).toContain('untrusted DHCP server');
    const counters = JSON.parse((await run([AGENT, 'leg', 'counters', '--state-dir', state, '--json'])).stdout) as Record<string, number>;
    expect(counters[`untrusted.server.${B}`]).toBeGreaterThanOrEqual(1);
    expect(counters[`untrusted.release.${B}`]).toBe(1);
    // without the trust list both clients log on and the RELEASE logs client 2 out
    const open = await run([AGENT, 'leg', 'replay', pcap, '--fallback-ip', '--json']);
    const all = open.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LegEvent);
    // (the two clients bind in either order)
    const of = (mac: string) => all.filter((e) => e.chaddr === mac).map((e) => e.event);
    expect(of(MAC[0])).toEqual(['logon']);
    expect(of(MAC[1])).toEqual(['logon', 'logout']);
    expect(all).toHaveLength(3);
  });
});
