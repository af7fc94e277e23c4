/**
 * The ip backend against a recorded fake `ip` (a tiny model of the kernel's address and
 * route tables that prints iproute2/busybox text): idempotence, rollback, ordering, input
 * checks, arping exit codes. The real tools are exercised in ip.lab.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { IpNet, broadcastOf, parseDefaultRoutes, parseInetAddrs, resolvConfText } from '../../../platform/net/ip.ts';
import type { Exec, ExecResult } from '../../../platform/net/exec.ts';
import type { LeaseConfig } from '../../../platform/types.ts';
import { isAgentError } from '../../../agent/errors.ts';

class FakeIp {
  addrs: string[] = [];
  gw: string | undefined;
  log: string[] = [];
  failOn: RegExp | undefined;
  arpingCode = 0;
  exec: Exec = async (argv): Promise<ExecResult> => {
    const line = argv.join(' ');
    this.log.push(line);
    if (this.failOn?.test(line)) return { code: 2, stdout: '', stderr: 'RTNETLINK answers: Nexthop has invalid gateway' };
    const a = argv.slice(1);
    if (argv[0] === 'arping') return { code: this.arpingCode, stdout: '', stderr: this.arpingCode > 1 ? 'arping: bad interface' : '' };
    const [obj, verb] = a;
    if (obj === 'addr' && verb === 'show') {
      const inet = this.addrs.map((c) => `    inet ${c} brd x scope global wan0\n       valid_lft forever preferred_lft forever\n`).join('');
      return { code: 0, stdout: `2: wan0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n${inet}    inet6 fe80::1/64 scope link\n`, stderr: '' };
    }
    if (obj === 'addr' && verb === 'add') {
      this.addrs.push(a[2] ?? '');
      return { code: 0, stdout: '', stderr: '' };
    }
    if (obj === 'addr' && verb === 'del') {
      const before = this.addrs.length;
      this.addrs = this.addrs.filter((x) => x !== a[2]);
      return before === this.addrs.length ? { code: 2, stdout: '', stderr: 'RTNETLINK answers: Cannot assign requested address' } : { code: 0, stdout: '', stderr: '' };
    }
    if (obj === 'route' && verb === 'show') {
      const lines = this.gw ? [`default via ${this.gw} dev wan0 `] : [];
      for (const c of this.addrs) lines.push(`198.18.16.0/24 dev wan0 proto kernel scope link src ${c.split('/')[0]} `);
      return { code: 0, stdout: lines.join('\n') + '\n', stderr: '' };
    }
    if (obj === 'route' && verb === 'replace' && a[2] === 'default') {
      this.gw = a[4];
      return { code: 0, stdout: '', stderr: '' };
    }
    if (obj === 'route' && verb === 'del' && a[2] === 'default') {
      this.gw = undefined;
      return { code: 0, stdout: '', stderr: '' };
    }
    return { code: 0, stdout: '', stderr: '' };
  };
  mutations(): string[] {
    return this.log.filter((l) => !/ (show)( |$)/.test(l));
  }
}

const L: LeaseConfig = { iface: 'wan0', address: '198.18.16.100', prefixLength: 24, routers: ['198.18.16.1'], dns: ['198.18.16.53', '198.18.16.54'], domain: 'isp.example' };
/** resolv.conf for L, pinned (not taken from the production resolvConfText) */
const RESOLV_L = '# written by cpe-agent for wan0 (DHCP lease 198.18.16.100/24)\nsearch isp.example\nnameserver 198.18.16.53\nnameserver 198.18.16.54\n';
const HOST = '# the host\'s own\nnameserver 192.0.2.53\noptions edns0\n';

const dirs: string[] = [];
async function setup(): Promise<{ ip: FakeIp; net: IpNet; resolv: string }> {
  const d = await mkdtemp(join(tmpdir(), 'cpd-ipnet-'));
  dirs.push(d);
  const ip = new FakeIp();
  const resolv = join(d, 'resolv.conf');
  return { ip, net: new IpNet({ ip: ['ip'], arping: ['arping'], resolvConf: resolv, exec: ip.exec }), resolv };
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('ip backend: parsing', () => {
  it('reads inet lines of iproute2 and busybox output, ignoring inet6', () => {
    const iproute2 = '3: wan0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n    link/ether de:42:e8:0a:da:51 brd ff:ff:ff:ff:ff:ff link-netns x\n    inet 198.18.16.100/24 brd 198.18.16.255 scope global wan0\n       valid_lft forever preferred_lft forever\n    inet 10.0.0.1/8 scope global secondary wan0\n    inet6 fe80::dc42/64 scope link\n';
    const busybox = '3: wan0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue qlen 1000\n    link/ether de:42:e8:0a:da:51 brd ff:ff:ff:ff:ff:ff\n    inet 198.18.16.100/24 brd 198.18.16.255 scope global wan0\n       valid_lft forever preferred_lft forever\n';
    expect(parseInetAddrs(iproute2)).toEqual([
      { address: '198.18.16.100', prefixLength: 24 },
      { address: '10.0.0.1', prefixLength: 8 },
    ]);
    expect(parseInetAddrs(busybox)).toEqual([{ address: '198.18.16.100', prefixLength: 24 }]);
  });

  it('reads default routes of one interface', () => {
    const text = 'default via 198.18.16.1 dev wan0 \ndefault via 192.0.2.1 dev lan0 metric 5\n198.18.16.0/24 dev wan0 proto kernel scope link src 198.18.16.100\n';
    expect(parseDefaultRoutes(text, 'wan0')).toEqual(['198.18.16.1']);
    expect(parseDefaultRoutes(text, 'eth9')).toEqual([]);
  });

  it('computes the broadcast address and the resolv.conf text', () => {
    expect(broadcastOf('198.18.16.100', 24)).toBe('198.18.16.255');
    expect(broadcastOf('198.18.17.9', 23)).toBe('198.18.17.255');
    expect(broadcastOf('198.18.16.9', 32)).toBe('198.18.16.9');
    expect(resolvConfText(L)).toBe(RESOLV_L);
  });
});

describe('ip backend: applyLease / removeLease', () => {
  it('applies address (with broadcast), default route and DNS; a re-apply changes nothing', async () => {
    const { ip, net, resolv } = await setup();
    await net.applyLease(L);
    expect(ip.mutations()).toEqual(['ip addr add 198.18.16.100/24 broadcast 198.18.16.255 dev wan0', 'ip route replace default via 198.18.16.1 dev wan0']);
    expect(await readFile(resolv, 'utf8')).toBe(RESOLV_L);
    const before = await stat(resolv);
    ip.log = [];
    await net.applyLease(L, L);
    expect(ip.mutations()).toEqual([]);
    expect((await stat(resolv)).ino).toBe(before.ino); // not rewritten
  });

  it('a failing step rolls back what was applied: no address, old resolv.conf, typed error', async () => {
    const { ip, net, resolv } = await setup();
    await writeFile(resolv, 'nameserver 192.0.2.53\n');
    ip.failOn = /route replace default/;
    const e = await net.applyLease(L).catch((x: unknown) => x);
    expect(isAgentError(e, 'NET_CMD_FAILED')).toBe(true);
    expect(String((e as Error).message)).toContain('Nexthop has invalid gateway');
    expect(ip.addrs).toEqual([]);
    expect(await readFile(resolv, 'utf8')).toBe('nameserver 192.0.2.53\n');
  });

  it('a resolv.conf that cannot be written rolls back address and route', async () => {
    const { ip } = await setup();
    ip.gw = '198.18.16.254';
    const net = new IpNet({ ip: ['ip'], resolvConf: '/nonexistent-dir/resolv.conf', exec: ip.exec });
    const e = await net.applyLease(L).catch((x: unknown) => x);
    expect(isAgentError(e, 'NET_RESOLV_WRITE_FAILED')).toBe(true);
    expect(ip.addrs).toEqual([]);
    expect(ip.gw).toBe('198.18.16.254');
  });

  it('moving to another subnet adds the new address first and removes the old one last', async () => {
    const { ip, net } = await setup();
    await net.applyLease(L);
    ip.log = [];
    const next = { ...L, address: '198.18.20.5', routers: ['198.18.20.1'] };
    await net.applyLease(next, L);
    const m = ip.mutations();
    expect(m[0]).toBe('ip addr add 198.18.20.5/24 broadcast 198.18.20.255 dev wan0');
    expect(m.at(-1)).toBe('ip addr del 198.18.16.100/24 dev wan0');
    expect(ip.addrs).toEqual(['198.18.20.5/24']);
  });

  it('moving within the subnet swaps (the kernel would drop a secondary with its primary)', async () => {
    const { ip, net } = await setup();
    await net.applyLease(L);
    ip.log = [];
    const next = { ...L, address: '198.18.16.120' };
    await net.applyLease(next, L);
    expect(ip.mutations().slice(0, 2)).toEqual(['ip addr del 198.18.16.100/24 dev wan0', 'ip addr add 198.18.16.120/24 broadcast 198.18.16.255 dev wan0']);
    expect(ip.addrs).toEqual(['198.18.16.120/24']);
  });

  it('a failed swap restores the old address and its default route', async () => {
    const { ip, net } = await setup();
    await net.applyLease(L);
    ip.gw = undefined; // as the kernel does when the subnet's only address goes
    ip.failOn = /route replace default via 198\.18\.16\.9 /;
    const e = await net.applyLease({ ...L, address: '198.18.16.120', routers: ['198.18.16.9'] }, L).catch((x: unknown) => x);
    expect(isAgentError(e, 'NET_CMD_FAILED')).toBe(true);
    expect(ip.addrs).toEqual(['198.18.16.100/24']);
    expect(ip.gw).toBe('198.18.16.1');
  });

  it('the same address with another prefix is replaced, not duplicated', async () => {
    const { ip, net } = await setup();
    ip.addrs = ['198.18.16.100/16'];
    await net.applyLease(L);
    expect(ip.addrs).toEqual(['198.18.16.100/24']);
  });

  it('removeLease deletes route and address and removes our resolv.conf when there was none', async () => {
    const { ip, net, resolv } = await setup();
    await net.applyLease(L);
    await net.removeLease(L);
    expect(ip.addrs).toEqual([]);
    expect(ip.gw).toBeUndefined();
    await expect(readFile(resolv, 'utf8')).rejects.toThrow(/ENOENT/);
    await writeFile(resolv, 'nameserver 192.0.2.53\n');
    await net.removeLease(L); // idempotent; leaves a foreign resolv.conf alone
    expect(await readFile(resolv, 'utf8')).toBe('nameserver 192.0.2.53\n');
  });

  it('keeps the resolv.conf that was there and puts it back byte for byte (content and mode) on RELEASE', async () => {
    const { net, resolv } = await setup();
    await writeFile(resolv, HOST);
    await chmod(resolv, 0o640);
    await net.applyLease(L);
    expect(await readFile(resolv, 'utf8')).toBe(RESOLV_L);
    expect(await readFile(`${resolv}.pre-cpe-agent`, 'utf8')).toBe(HOST);
    await net.applyLease({ ...L, dns: ['198.18.16.99'] }, L); // a renewal with new servers keeps the first backup
    expect(await readFile(`${resolv}.pre-cpe-agent`, 'utf8')).toBe(HOST);
    await net.removeLease(L);
    expect(await readFile(resolv, 'utf8')).toBe(HOST);
    expect((await stat(resolv)).mode & 0o777).toBe(0o640);
    expect(await readdir(dirname(resolv))).toEqual(['resolv.conf']);
  });

  it('restoreDns (the client stops) puts the host file back; a restarted agent (kill -9) still finds the backup', async () => {
    const { ip, net, resolv } = await setup();
    await writeFile(resolv, HOST);
    await net.applyLease(L);
    const restarted = new IpNet({ ip: ['ip'], resolvConf: resolv, exec: ip.exec });
    await restarted.applyLease(L, L); // INIT-REBOOT after a crash: ours is current, the backup stays
    expect(await readFile(`${resolv}.pre-cpe-agent`, 'utf8')).toBe(HOST);
    await restarted.restoreDns('wan0');
    expect(await readFile(resolv, 'utf8')).toBe(HOST);
    expect(await readdir(dirname(resolv))).toEqual(['resolv.conf']);
    await restarted.restoreDns('wan0'); // nothing of ours left: no-op
    expect(await readFile(resolv, 'utf8')).toBe(HOST);
  });

  it('a lease without DNS servers never writes (nor empties) resolv.conf', async () => {
    const { net, resolv } = await setup();
    await writeFile(resolv, HOST);
    const before = await stat(resolv);
    await net.applyLease({ ...L, dns: [] });
    expect(await readFile(resolv, 'utf8')).toBe(HOST);
    expect((await stat(resolv)).mtimeMs).toBe(before.mtimeMs);
    expect(await readdir(dirname(resolv))).toEqual(['resolv.conf']);
  });

  it('writes resolv.conf through a symlink (even a dangling one) and keeps the link', async () => {
    const d = await mkdtemp(join(tmpdir(), 'cpd-ipnet-'));
    dirs.push(d);
    await mkdir(join(d, 'etc'));
    await mkdir(join(d, 'run'));
    await symlink('../run/resolv.conf', join(d, 'etc', 'resolv.conf'));
    const ip = new FakeIp();
    const net = new IpNet({ ip: ['ip'], resolvConf: join(d, 'etc', 'resolv.conf'), exec: ip.exec });
    await net.applyLease(L);
    expect((await lstat(join(d, 'etc', 'resolv.conf'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(d, 'run', 'resolv.conf'), 'utf8')).toBe(RESOLV_L);
    await net.removeLease(L);
    expect((await lstat(join(d, 'etc', 'resolv.conf'))).isSymbolicLink()).toBe(true);
    await expect(readFile(join(d, 'run', 'resolv.conf'), 'utf8')).rejects.toThrow(/ENOENT/); // dangling again, as at boot
  });

  it('rejects bad input before running anything', async () => {
    const { ip, net } = await setup();
    await expect(net.applyLease({ ...L, iface: 'wan0; reboot' })).rejects.toSatisfy((e: unknown) => isAgentError(e, 'NET_IFACE_INVALID'));
    await expect(net.applyLease({ ...L, prefixLength: 33 })).rejects.toSatisfy((e: unknown) => isAgentError(e, 'NET_LEASE_INVALID'));
    await expect(net.applyLease({ ...L, domain: 'a\nnameserver 6.6.6.6' })).rejects.toSatisfy((e: unknown) => isAgentError(e, 'NET_LEASE_INVALID'));
    await expect(net.applyLease({ ...L, routers: ['1.2.3'] })).rejects.toSatisfy((e: unknown) => isAgentError(e, 'IPV4_INVALID'));
    expect(ip.log).toEqual([]);
  });
});

describe('ip backend: broadcast route and ARP probe', () => {
  it('sets the link up, then adds the 255.255.255.255/32 host route; removes the route', async () => {
    const { ip, net } = await setup();
    await net.addBroadcastRoute('wan0');
    await net.removeBroadcastRoute('wan0');
    expect(ip.log).toEqual(['ip link set dev wan0 up', 'ip route replace 255.255.255.255/32 dev wan0', 'ip route del 255.255.255.255/32 dev wan0']);
  });

  it('arping -D: exit 0 = free, 1 = in use, anything else = NET_ARPING_FAILED', async () => {
    const { ip, net } = await setup();
    expect(await net.addressInUse('wan0', '198.18.16.100')).toBe(false);
    expect(ip.log.at(-1)).toBe('arping -D -I wan0 -c 2 -w 2 198.18.16.100');
    ip.arpingCode = 1;
    expect(await net.addressInUse('wan0', '198.18.16.100')).toBe(true);
    ip.arpingCode = 2;
    await expect(net.addressInUse('wan0', '198.18.16.100')).rejects.toSatisfy((e: unknown) => isAgentError(e, 'NET_ARPING_FAILED'));
  });
});
