/**
 * The LEG against real software: ISC dhcpd behind ISC dhcrelay -a (option 82 circuit-ID =
 * the relay's client-side interface: "r1", "r2"), busybox udhcpc clients that bind, renew,
 * release, and die without releasing (their lease expires). The built agent runs
 * `leg run --iface r0` on the relay's server-side interface; a tcpdump beside it writes the
 * same traffic to a file, which `leg replay` must turn into the same events.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describeLab, AGENT } from '../helpers/prereq.ts';
import { startLegLab, type LegLab } from '../../scripts/lab/leg-lab.ts';
import { collectOutput, run, waitFor } from '../../scripts/lab/netns.ts';
import type { LegEvent } from '../../agent/leg/events.ts';

const LEASE = 20;

describeLab('leg: dhcpd + dhcrelay + udhcpc, live capture on the relay', ['dhcpd', 'dhcrelay', 'busybox', 'tcpdump', 'ip'], () => {
  let lab: LegLab;
  let leg: ChildProcess;
  let legOut: { text: () => string };
  let stdout = '';
  const events = (): LegEvent[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LegEvent);
  const of = (sub: string) => events().filter((e) => e.subscriber === sub);
  let stateDir: string;
  let pcap: string;

  beforeAll(async () => {
    lab = await startLegLab({ leaseSeconds: LEASE });
    stateDir = join(lab.dir, 'leg-state');
    pcap = join(lab.dir, 'r0.pcap');
    lab.spawnInRelay(['/usr/bin/tcpdump', '-U', '-n', '-i', 'r0', '-w', pcap, 'udp port 67 or udp port 68']);
    leg = lab.spawnInRelay([AGENT, 'leg', 'run', '--iface', 'r0', '--subscriber-option', '82.1', '--state-dir', stateDir, '--json', '--log-level', 'info']);
    leg.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    legOut = collectOutput(leg);
    await waitFor(() => legOut.text().includes('capture listening'), 'LEG capture running', 20_000);
  });

  afterAll(async () => {
    if (leg && leg.exitCode === null) leg.kill('SIGKILL');
    await lab?.destroy();
  });

  it('bind, renew, release; a client that dies is auto-logged out when its lease expires', async () => {
    const c0 = lab.startClient(0);
    const c1 = lab.startClient(1);
    await waitFor(() => of('r1').length >= 1 && of('r2').length >= 1, 'both logons', 30_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${stdout}\n${legOut.text()}\n${lab.logs()}`);
    });
    // renew once the lease is a few seconds old (a fresh lease, not a repeat of the last ACK)
    await new Promise((r) => setTimeout(r, 3000));
    c0.kill('SIGUSR1');
    await waitFor(() => of('r1').some((e) => e.event === 'extend'), 'r1 extend', 15_000);
    c0.kill('SIGUSR2');
    await waitFor(() => of('r1').some((e) => e.event === 'logout'), 'r1 logout', 15_000);
    c0.kill('SIGKILL');
    c1.kill('SIGKILL'); // no RELEASE: only the lease expiry ends it
    await waitFor(() => of('r2').some((e) => e.event === 'auto-logout'), 'r2 auto-logout', (LEASE + 15) * 1000);

    const r1 = of('r1');
    const r2 = of('r2');
    expect(r1.map((e) => e.event).join(' ')).toMatch(/^logon( extend)+ logout$/);
    expect(r2.map((e) => e.event).join(' ')).toMatch(/^logon( extend)* auto-logout$/);
    expect(events().filter((e) => e.event === 'rejected')).toEqual([]);
    for (const e of [...r1, ...r2].filter((x) => x.event === 'logon' || x.event === 'extend')) expect(e.leaseSeconds).toBe(LEASE);
    expect(r1.every((e) => e.ip === r1[0]?.ip && /^198\.18\.81\.\d+$/.test(e.ip ?? ''))).toBe(true);
    expect(r2.every((e) => e.ip === r2[0]?.ip && /^198\.18\.82\.\d+$/.test(e.ip ?? ''))).toBe(true);
    expect(r1.at(-1)).toMatchObject({ reason: 'release', transaction: 'release' });
    // the auto-logout happens at the expiry of the last lease granted
    const lastGrant = r2.filter((e) => e.event !== 'auto-logout').at(-1) as LegEvent;
    expect(Date.parse((r2.at(-1) as LegEvent).time)).toBe(Date.parse(lastGrant.time) + LEASE * 1000);
  });

  it('stops cleanly on SIGTERM; the database answers show / counters', async () => {
    leg.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => leg.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    const show = JSON.parse((await lab.netns.exec(lab.relay, [AGENT, 'leg', 'show', 'r1', '--state-dir', stateDir, '--json'])).stdout) as {
      ips: { active: boolean; endReason: string }[];
    };
    expect(show.ips).toEqual([expect.objectContaining({ active: false, endReason: 'release' })]);
    const counters = JSON.parse((await lab.netns.exec(lab.relay, [AGENT, 'leg', 'counters', '--state-dir', stateDir, '--json'])).stdout) as Record<string, number>;
    expect(counters['events.logon']).toBe(2);
    expect(counters['events.auto-logout']).toBe(1);
    expect(counters['ignored.DISCOVER']).toBeGreaterThanOrEqual(2);
  });

  it('leg replay of the tcpdump file gives the same events (up to the last packet)', async () => {
    const r = await run([AGENT, 'leg', 'replay', pcap, '--subscriber-option', '82.1', '--json']);
    const replayed = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LegEvent);
    const lastPacket = Math.max(...replayed.map((e) => Date.parse(e.time)));
    const live = events().filter((e) => Date.parse(e.time) <= lastPacket + 1000);
    const key = (e: LegEvent) => [e.event, e.subscriber, e.ip, e.reason, e.xid, e.leaseSeconds].join('|');
    expect(replayed.map(key)).toEqual(live.filter((e) => e.event !== 'auto-logout' || Date.parse(e.time) < lastPacket).map(key));
  });
});
