/**
 * Issue 8 point 7 against real software: busybox udhcpc behind ISC dhcrelay -a, ISC dhcpd
 * with its default dhcp-cache-threshold (25 %). udhcpc renews (SIGUSR1) with the xid of its
 * initial exchange, and dhcpd answers the early renewal with the remaining lease, so the
 * expiry does not move. tshark confirms both facts in the capture; `leg replay` of it must
 * give logon, then extend (not a duplicate.ACK). The trust list names dhcpd.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describeLab, AGENT } from '../helpers/prereq.ts';
import { startLegLab, SERVER_IP, type LegLab } from '../../scripts/lab/leg-lab.ts';
import { collectOutput, run, waitFor } from '../../scripts/lab/netns.ts';
import type { LegEvent } from '../../agent/leg/events.ts';

const LEASE = 600;

describeLab('leg: udhcpc renewal with its initial xid against dhcpd (cache threshold)', ['dhcpd', 'dhcrelay', 'busybox', 'tcpdump', 'tshark', 'ip'], () => {
  let lab: LegLab;
  let dump: ChildProcess;
  let pcap: string;

  beforeAll(async () => {
    lab = await startLegLab({ leaseSeconds: LEASE, cacheThreshold: null });
    pcap = join(lab.dir, 'renew.pcap');
    dump = lab.spawnInRelay(['/usr/bin/tcpdump', '-U', '-n', '-i', 'r0', '-w', pcap, 'udp port 67 or udp port 68']);
    const dumpOut = collectOutput(dump);
    await waitFor(() => dumpOut.text().includes('listening on'), 'tcpdump listening', 20_000);
    const c = lab.startClient(0);
    await waitFor(() => lab.clientLog(0).some((l) => l.startsWith('bound')), 'udhcpc bound', 30_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${lab.logs()}`);
    });
    await new Promise((r) => setTimeout(r, 3000));
    c.kill('SIGUSR1');
    await waitFor(() => lab.clientLog(0).some((l) => l.startsWith('renew')), 'udhcpc renewed', 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    c.kill('SIGKILL');
    dump.kill('SIGTERM');
    await new Promise((r) => dump.once('exit', r));
  }, 90_000);

  afterAll(async () => {
    if (dump && dump.exitCode === null) dump.kill('SIGKILL');
    await lab?.destroy();
  });

  let renewalCopies = 0;

  it('tshark: the renewal ACK (ciaddr set) has the initial ACK’s xid and the same expiry', async () => {
    const r = await run(['tshark', '-r', pcap, '-Y', 'dhcp.option.dhcp == 5', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'dhcp.id', '-e', 'dhcp.ip.client', '-e', 'dhcp.option.ip_address_lease_time', '-e', 'ip.src', '-e', 'ip.dst']);
    const acks = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    // the initial ACK (relayed), and the renewal's ACK: the server's unicast answer to the
    // client, routed through the relay, seen on r0 (sometimes also a copy to the relay)
    const initial = acks.filter((a) => a[2] === '0.0.0.0');
    const renewals = acks.filter((a) => a[2] !== '0.0.0.0');
    expect(initial.length, r.stdout).toBe(1);
    expect(renewals.length, r.stdout).toBeGreaterThanOrEqual(1);
    renewalCopies = renewals.length;
    const first = initial[0] as string[];
    const renewal = renewals[0] as string[];
    for (const a of renewals) expect(a[1]).toBe(first[1]); // the same xid
    expect(renewal[2]).toMatch(/^198\.18\.81\.\d+$/);
    // dhcpd's cache threshold: the remaining lease, i.e. the same expiry (to the second)
    const expiry = (a: string[]) => Number(a[0]) + Number(a[3]);
    expect(Math.abs(expiry(renewal) - expiry(first))).toBeLessThanOrEqual(1.5);
    expect(Number(renewal[3])).toBeLessThan(LEASE);
  });

  it('leg replay: logon, then extend (not duplicate.ACK)', async () => {
    const state = join(lab.dir, 'leg-state');
    const r = await run([AGENT, 'leg', 'replay', pcap, '--subscriber-option', '82.1', '--trusted-server', SERVER_IP, '--state-dir', state, '--json']);
    const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LegEvent);
    expect(events.map((e) => [e.event, e.transaction, e.subscriber])).toEqual([
      ['logon', 'initial', 'r1'],
      ['extend', 'extension', 'r1'],
    ]);
    expect(events[0]?.xid).toBe(events[1]?.xid);
    const counters = JSON.parse((await run([AGENT, 'leg', 'counters', '--state-dir', state, '--json'])).stdout) as Record<string, number>;
    // only the second copy of the renewal ACK (if any) is a duplicate
    expect(counters['duplicate.ACK'] ?? 0).toBe(renewalCopies - 1);
    expect(counters['events.extend']).toBe(1);
  });
});
