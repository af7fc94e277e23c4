/**
 * The LEG's SNMP face (`cpe-agent leg run` with an `snmp` section) against the real Net-SNMP
 * tools on 127.0.0.1:
 *   - a store filled by `leg replay` of the shared captures: `snmpbulkwalk -m +CPE-AGENT-MIB`
 *     (and `snmpwalk`, GETNEXT) of cpeLeg shows exactly `leg list` and `leg counters`;
 *   - AgentX: the same walk through Debian's snmpd (`master agentx`) is identical;
 *   - while the LEG processes RDR traffic, rows read in one request (`snmptable -CB`, GETBULK
 *     of the columns) are never torn (each row's package, IP count and last logon belong to the
 *     same logon) and `snmpbulkwalk` sees increasing OIDs — standalone and through snmpd; once
 *     the traffic stops the walk equals `leg list` again;
 *   - logon notifications reach snmptrapd only when enabled, at most at the configured rate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT, capturePath, describeLab } from '../helpers/prereq.ts';
import { ensureBuiltAgent } from '../helpers/built-agent.ts';
import { snmpTools, MIB_DIRS, type SnmpTools } from '../../scripts/lab/snmp-tools.ts';
import { startSnmpd, type Snmpd } from '../../scripts/lab/snmpd.ts';
import { startLegRun, rdrAck, type LegRun } from '../../scripts/lab/leg-run.ts';
import { waitFor } from '../../scripts/lab/netns.ts';
import type { SubscriberView } from '../../agent/leg/queries.ts';
import { freePort } from './fixtures.ts';

const LEG = '1.3.6.1.4.1.32473.1.1.5';
const CAPTURES = ['zeek_dhcp.pcap', 'zeek_dhcp_ack_subscriber_id_and_agent_remote_id.pcap', 'sv_dhcp-eve-extended.pcap', 'tcpdump_dhcp-rfc4388.pcap'];
const BASE = { fallbackToIp: true, autoLogout: false, policy: { defaultPackage: 'basic' } };

let dir: string;
let tools: SnmpTools;
let trapd: ChildProcess;
let trapPort: number;
let traps = '';
const running: LegRun[] = [];
const stopAfter: Array<() => Promise<void>> = [];

const agentCli = (args: string[]): string => execFileSync(AGENT, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * `.1.3.6…. = value` lines of `-OQn` → [sub-ids below cpeLeg, value]. The walk tools print
 * the endOfMibView that ends a walk at the end of the agent's MIB (standalone: cpeLeg is
 * last); it is no row.
 */
function parseWalk(out: string): Array<[string, string]> {
  return out
    .split('\n')
    .filter((l) => l.startsWith(`.${LEG}.`) && !l.includes('No more variables left in this MIB View'))
    .map((l) => {
      const i = l.indexOf(' = ');
      return [l.slice(LEG.length + 2, i), l.slice(i + 3).trim()] as [string, string];
    });
}

const bytesOf = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const cmp = (a: number[], b: number[]): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
};
/** DateAndTime as Net-SNMP displays it (2d-1d-1d,1d:1d:1d.1d,1a1d:1d) */
function dateShown(iso: string | null): string {
  if (iso === null) return '';
  const d = new Date(iso);
  return `${d.getUTCFullYear()}-${d.getUTCMonth() + 1}-${d.getUTCDate()},${d.getUTCHours()}:${d.getUTCMinutes()}:${d.getUTCSeconds()}.${Math.floor(d.getUTCMilliseconds() / 100)},+0:0`;
}
/** PhysAddress as displayed (1x:) */
const macShown = (mac: string): string => (/^([0-9a-f]{2}:)*[0-9a-f]{2}$/.test(mac) ? mac.split(':').map((h) => parseInt(h, 16).toString(16)).join(':') : '');

/** What the walk of cpeLeg must show for this `leg list` / `leg counters`, in OID order. */
function expectedWalk(list: SubscriberView[], counters: Record<string, number>): Array<[string, string]> {
  const subs = [...list].filter((s) => bytesOf(s.subscriber).length <= 112).sort((a, b) => cmp(bytesOf(a.subscriber), bytesOf(b.subscriber)));
  const maps = list.flatMap((s) => s.ips).sort((a, b) => cmp(a.ip.split('.').map(Number), b.ip.split('.').map(Number)));
  const out: Array<[string, string]> = [
    ['1.1.0', String(list.length)],
    ['1.2.0', String(maps.length)],
  ];
  const col = (c: number, f: (s: SubscriberView) => string): void => {
    for (const s of subs) out.push([`2.1.${c}.${bytesOf(s.subscriber).join('.')}`, f(s)]);
  };
  col(2, (s) => s.package ?? '');
  col(3, (s) => (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(s.subscriber) ? macShown(s.subscriber) : ''));
  col(4, (s) => String(s.ips.length));
  col(5, (s) => dateShown(s.updated));
  for (const [c, f] of [
    [2, (m: SubscriberView['ips'][number]) => m.subscriber],
    [3, (m: SubscriberView['ips'][number]) => macShown(m.chaddr)],
    [4, (m: SubscriberView['ips'][number]) => dateShown(m.expires)],
  ] as const) {
    for (const m of maps) out.push([`3.1.${c}.${m.ip}`, f(m)]);
  }
  for (const name of Object.keys(counters).sort((a, b) => cmp(bytesOf(a), bytesOf(b)))) out.push([`4.1.2.${bytesOf(name).join('.')}`, String(counters[name])]);
  return out;
}

const listOf = (stateDir: string): SubscriberView[] => JSON.parse(agentCli(['leg', 'list', '--state-dir', stateDir, '--json'])) as SubscriberView[];
const countersOf = (stateDir: string): Record<string, number> => JSON.parse(agentCli(['leg', 'counters', '--state-dir', stateDir, '--json'])) as Record<string, number>;

const snmpSection = (port: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  listen: { address: '127.0.0.1', port },
  community: { read: 'leg-ro' },
  notify: [{ host: '127.0.0.1', port: trapPort, community: 'trap-c' }],
  ...extra,
});
const peer = (port: number): string[] => ['-v2c', '-c', 'leg-ro', '-t', '2', '-r', '1', '-m', '+CPE-AGENT-MIB', `127.0.0.1:${port}`];

describeLab('LEG SNMP face (standalone and AgentX) against the Net-SNMP tools', ['snmpd', 'snmpwalk', 'snmpbulkwalk', 'snmptable', 'snmptrapd'], () => {
  beforeAll(async () => {
    ensureBuiltAgent();
    dir = await mkdtemp(join(tmpdir(), 'lab-leg-snmp-'));
    tools = await snmpTools();
    trapPort = await freePort();
    await writeFile(join(dir, 'trapd.conf'), [`snmpTrapdAddr udp:127.0.0.1:${trapPort}`, 'authCommunity log trap-c', ''].join('\n'));
    const env = { PATH: process.env.PATH, SNMP_PERSISTENT_DIR: join(dir, 'trapd'), SNMPCONFPATH: join(dir, 'trapd'), MIBDIRS: MIB_DIRS.join(':'), MIBS: 'SNMPv2-MIB:CPE-AGENT-MIB', HOME: dir };
    trapd = spawn('snmptrapd', ['-f', '-Lo', '-C', '-c', join(dir, 'trapd.conf'), '-F', '%P\t%v\n'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    trapd.stdout?.on('data', (d: Buffer) => (traps += d.toString()));
    trapd.stderr?.on('data', (d: Buffer) => (traps += d.toString()));
    await waitFor(() => /NET-SNMP version/.test(traps), 'snmptrapd to start', 10_000, 20);
  }, 180_000);

  afterAll(async () => {
    for (const r of running.splice(0)) await r.stop();
    for (const f of stopAfter.splice(0)) await f();
    if (trapd && trapd.exitCode === null && trapd.signalCode === null) {
      const gone = new Promise<void>((r) => trapd.once('exit', () => r()));
      trapd.kill('SIGTERM');
      await Promise.race([gone, new Promise<void>((r) => setTimeout(r, 5000))]);
      trapd.kill('SIGKILL');
    }
    await tools?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  async function run(stateDir: string, config: Record<string, unknown>, name: string): Promise<LegRun> {
    const r = await startLegRun(AGENT, { dir, stateDir, config, name });
    running.push(r);
    return r;
  }
  async function stop(r: LegRun): Promise<void> {
    running.splice(running.indexOf(r), 1);
    expect(await r.stop()).toBe(0);
  }

  let captureWalk: Array<[string, string]> = [];
  const capState = (): string => join(dir, 'captures-state');

  it('walk of a store filled from the shared captures = leg list + leg counters (snmpbulkwalk and snmpwalk)', async () => {
    const cfgFile = join(dir, 'replay.json');
    await writeFile(cfgFile, JSON.stringify(BASE));
    for (const c of CAPTURES) agentCli(['leg', 'replay', '--config', cfgFile, '--state-dir', capState(), '--log-level', 'error', capturePath(c)]);
    const list = listOf(capState());
    const counters = countersOf(capState());
    expect(list.length).toBeGreaterThanOrEqual(5);
    expect(list.filter((s) => s.ips.length > 0).length).toBeGreaterThanOrEqual(4);

    const port = await freePort();
    const leg = await run(capState(), { ...BASE, snmp: snmpSection(port) }, 'captures');
    const bulk = await tools.run('snmpbulkwalk', ['-OQn', '-Cr20', ...peer(port), LEG]);
    captureWalk = parseWalk(bulk);
    expect(captureWalk).toEqual(expectedWalk(list, counters));
    const walk = await tools.run('snmpwalk', ['-OQn', ...peer(port), LEG]);
    expect(parseWalk(walk)).toEqual(captureWalk);
    // by name, as an operator sees it
    const named = await tools.run('snmpwalk', [...peer(port), 'cpeLegMapSubscriber']);
    expect(named).toContain('CPE-AGENT-MIB::cpeLegMapSubscriber.10.16.1.4 = STRING: IP_10.16.1.4');
    const sys = await tools.run('snmpget', ['-Oqv', ...peer(port), 'SNMPv2-MIB::sysObjectID.0']);
    expect(sys.trim()).toBe('CPE-AGENT-MIB::cpeAgentLeg');
    // read-only: a SET is refused, the table unchanged
    const setTry = await tools.try('snmpset', [...peer(port), `.${LEG}.2.1.2.${bytesOf('IP_10.16.1.4').join('.')}`, 's', 'gold']);
    expect(setTry.code).not.toBe(0);
    expect(traps).not.toContain('cpeLegLogon'); // notifications are off by default
    await stop(leg);
  }, 120_000);

  it('AgentX: the same walk through Net-SNMP snmpd (master agentx)', async () => {
    const port = await freePort();
    let snmpd: Snmpd | undefined;
    try {
      snmpd = await startSnmpd({ port, read: 'leg-ro', write: 'leg-rw-x' });
      const leg = await run(capState(), { ...BASE, snmp: { mode: 'agentx', agentx: { master: snmpd.agentxSocket } } }, 'agentx');
      const bulk = await tools.run('snmpbulkwalk', ['-OQn', '-Cr20', ...peer(port), LEG]);
      expect(parseWalk(bulk)).toEqual(captureWalk);
      const sys = await tools.run('snmpget', ['-Oqv', ...peer(port), 'SNMPv2-MIB::sysDescr.0']);
      expect(sys.trim()).toBe('lab snmpd (AgentX master)');
      await stop(leg);
    } finally {
      await snmpd?.stop();
    }
  }, 120_000);

  for (const mode of ['standalone', 'agentx'] as const) it(`${mode}, during RDR traffic: no torn snmptable row, increasing walks; afterwards the walk = leg list`, async () => {
    const S = 100;
    const R = 30;
    const T0 = 1_800_000_000;
    const packages = Object.fromEntries(Array.from({ length: R }, (_, k) => [`r${k}`, `p${k}`]));
    const stateDir = join(dir, `traffic-state-${mode}`);
    const port = await freePort();
    // AgentX: the same requests through snmpd, which forwards them to the LEG as AgentX GetNext
    const snmpd = mode === 'agentx' ? await startSnmpd({ port, read: 'leg-ro', write: 'leg-rw-x' }) : undefined;
    stopAfter.push(async () => snmpd?.stop());
    const face = snmpd ? { mode: 'agentx', agentx: { master: snmpd.agentxSocket }, notify: [{ host: '127.0.0.1', port: trapPort, community: 'trap-c' }] } : snmpSection(port);
    const leg = await run(stateDir, { subscriberOption: '82.1', autoLogout: false, policy: { options: ['60'], packages }, snmp: face }, `traffic-${mode}`);
    const sub = (n: number): string => `s${String(n).padStart(3, '0')}`;
    let sending = true;
    const traffic = (async () => {
      for (let r = 0; r < R; r++) {
        const recs = Array.from({ length: S }, (_, n) =>
          rdrAck({ ip: `198.18.${r}.${n + 1}`, subscriber: sub(n), mac: `02:00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`, xid: r * 1000 + n + 1, time: T0 + r, pkg: `r${r}` }),
        );
        await leg.send(Buffer.concat(recs));
        await new Promise((res) => setTimeout(res, 80));
      }
      sending = false;
    })();
    const seenRounds = new Set<number>();
    let rows = 0;
    let walks = 0;
    const check = (pkg: string, count: string, last: string, what: string): void => {
      const k = Number(/^p(\d+)$/.exec(pkg)?.[1]);
      expect(Number.isInteger(k), what).toBe(true);
      // one logon per round: the package of round k comes with k+1 addresses and the time of round k
      expect([count, last], what).toEqual([String(k + 1), dateShown(new Date((T0 + k) * 1000).toISOString())]);
      seenRounds.add(k);
      rows++;
    };
    const cols = [2, 3, 4, 5].map((c) => `${LEG}.2.1.${c}`);
    // (snmptable fails on a table without rows: start once the first round is committed)
    await waitFor(async () => Number((await tools.run('snmpget', ['-Oqv', ...peer(port), `${LEG}.1.1.0`])).trim()) > 0, 'the first subscribers', 10_000, 20);
    while (sending) {
      // snmptable -CB: GETNEXT of all columns at once, one request per row
      const t = await tools.run('snmptable', ['-Ci', '-Cf', '|', '-CH', '-CB', ...peer(port), 'cpeLegSubscriberTable']);
      for (const line of t.split('\n').filter((l) => l.startsWith("'s"))) {
        const [, pkg, , count, last] = line.split('|');
        check(pkg ?? '', count ?? '', last ?? '', line);
      }
      // GETBULK of the four columns (repeaters), 20 rows per request, as a row-wise manager does it
      let from = cols;
      for (;;) {
        const r = parseWalk(await tools.run('snmpbulkget', ['-OQn', '-Cn0', '-Cr20', ...peer(port), ...from]));
        const got = r.filter(([o]) => o.startsWith('2.1.'));
        for (let i = 0; i + 4 <= got.length; i += 4) {
          const row = got.slice(i, i + 4);
          const idx = row.map(([o]) => o.split('.').slice(3).join('.'));
          if (!row.every(([o], c) => o.startsWith(`2.1.${c + 2}.`)) || new Set(idx).size !== 1) break;
          check(row[0]?.[1] ?? '', row[2]?.[1] ?? '', row[3]?.[1] ?? '', `bulk row ${idx[0] ?? ''}`);
        }
        if (got.length < 80 || !got.every(([o]) => /^2\.1\.[2-5]\./.test(o))) break;
        from = got.slice(-4).map(([o]) => `${LEG}.${o}`);
      }
      // snmpbulkwalk itself fails on an OID that does not increase
      const w = parseWalk(await tools.run('snmpbulkwalk', ['-OQn', '-Cr30', ...peer(port), `${LEG}.3`]));
      for (const [oid, v] of w.filter(([o]) => o.startsWith('3.1.2.'))) expect(v).toBe(sub(Number(oid.split('.').at(-1)) - 1));
      walks++;
    }
    await traffic;
    expect(rows).toBeGreaterThan(0);
    expect(walks).toBeGreaterThan(1);
    expect(seenRounds.size, 'snapshots taken while the traffic ran').toBeGreaterThan(1);
    await waitFor(() => listOf(stateDir).reduce((n, s) => n + s.ips.length, 0) === S * R, 'all mappings committed', 10_000, 100);
    const bulk = await tools.run('snmpbulkwalk', ['-OQn', '-Cr50', ...peer(port), LEG], undefined, 60_000);
    expect(parseWalk(bulk)).toEqual(expectedWalk(listOf(stateDir), countersOf(stateDir)));
    expect(traps).not.toContain('cpeLegLogon'); // configured manager, notifications not enabled
    await stop(leg);
    await snmpd?.stop();
  }, 180_000);

  it('logon notifications when enabled: to snmptrapd with their varbinds, at most burst + rate × time', async () => {
    const stateDir = join(dir, 'notify-state');
    const port = await freePort();
    const leg = await run(stateDir, { subscriberOption: '82.1', autoLogout: false, snmp: snmpSection(port, { subscriberNotifications: { enabled: true, maxPerSecond: 4, burst: 6 } }) }, 'notify');
    const t0 = Date.now();
    const now = Math.floor(t0 / 1000);
    await leg.send(Buffer.concat(Array.from({ length: 200 }, (_, n) => rdrAck({ ip: `198.18.90.${n + 1}`, subscriber: `n${n}`, mac: `02:00:00:00:01:${(n & 255).toString(16).padStart(2, '0')}`, xid: 5000 + n, time: now }))));
    const count = (): number => (traps.match(/cpeLegLogon/g) ?? []).length;
    await waitFor(() => count() >= 6, 'the burst of logon notifications', 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    const elapsed = (Date.now() - t0) / 1000;
    const n = count();
    expect(n).toBeGreaterThanOrEqual(6);
    expect(n).toBeLessThanOrEqual(6 + Math.ceil(4 * elapsed));
    expect(n).toBeLessThan(200);
    expect(traps).toMatch(/cpeLegLogon.*cpeLegEventSubscriber\.0 = STRING: "?n0"?.*cpeLegEventIp\.0 = IpAddress: 198\.18\.90\.1/);
    await stop(leg);
    expect(leg.text()).toMatch(/subscriber notifications over 4\/s: \d+ dropped/);
  }, 120_000);
});
