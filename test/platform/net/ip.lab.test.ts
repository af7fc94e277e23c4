/**
 * The ip backend with the real tools in a namespace, once with iproute2 `ip` and once with
 * `busybox ip`: broadcast route, apply / idempotent re-apply / move / remove, a kernel-refused
 * route rolled back, and `busybox arping -D` against a peer that owns an address.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeLab } from '../../helpers/prereq.ts';
import { Netns, labTag } from '../../../scripts/lab/netns.ts';
import { IpNet } from '../../../platform/net/ip.ts';
import { execCommand } from '../../../platform/net/exec.ts';
import type { LeaseConfig } from '../../../platform/types.ts';
import { isAgentError } from '../../../agent/errors.ts';

describeLab('ip backend with real ip and busybox ip', ['ip', 'busybox'], () => {
  const netns = new Netns();
  let ns = '';
  let tmp = '';

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cpd-ipnet-'));
    const tag = labTag();
    ns = await netns.add(`cpd-${tag}-n0`);
    const peer = await netns.add(`cpd-${tag}-n1`);
    await netns.veth(ns, 'wan0', peer, 'up0');
    await netns.addr(peer, 'up0', '198.18.17.1/24');
  });

  afterAll(async () => {
    await netns.destroy();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const show = async (what: string[]): Promise<string> => (await netns.exec(ns, ['ip', ...what])).stdout;

  for (const variant of [['ip'], ['busybox', 'ip']]) {
    const name = variant.join(' ');
    it(`${name}: broadcast route, apply, idempotent re-apply, move, rollback, remove`, async () => {
      const log: string[] = [];
      const net = new IpNet({
        ip: ['ip', 'netns', 'exec', ns, ...variant],
        arping: ['ip', 'netns', 'exec', ns, 'busybox', 'arping'],
        resolvConf: join(tmp, `resolv-${variant.length}`),
        exec: (argv) => {
          log.push(argv.slice(4 + variant.length).join(' '));
          return execCommand(argv);
        },
      });
      await net.addBroadcastRoute('wan0');
      expect(await show(['route', 'show'])).toMatch(/^255\.255\.255\.255 dev wan0/m);
      await net.removeBroadcastRoute('wan0');
      expect(await show(['route', 'show'])).not.toContain('255.255.255.255');

      const a: LeaseConfig = { iface: 'wan0', address: '198.18.17.10', prefixLength: 24, routers: ['198.18.17.1'], dns: ['198.18.17.53'] };
      await net.applyLease(a);
      expect(await show(['addr', 'show', 'dev', 'wan0'])).toContain('inet 198.18.17.10/24 brd 198.18.17.255');
      expect(await show(['route', 'show'])).toContain('default via 198.18.17.1 dev wan0');
      expect(await readFile(join(tmp, `resolv-${variant.length}`), 'utf8')).toContain('nameserver 198.18.17.53');

      log.length = 0;
      await net.applyLease(a, a);
      expect(log.filter((l) => !l.includes(' show'))).toEqual([]);

      const b: LeaseConfig = { ...a, address: '198.18.17.11' };
      await net.applyLease(b, a);
      const addrs = await show(['addr', 'show', 'dev', 'wan0']);
      expect(addrs).toContain('inet 198.18.17.11/24');
      expect(addrs).not.toContain('inet 198.18.17.10/');

      // the kernel refuses a gateway outside every connected subnet: the new address is rolled back
      const bad: LeaseConfig = { ...a, address: '198.18.17.12', routers: ['198.18.30.1'] };
      const e = await net.applyLease(bad, b).catch((x: unknown) => x);
      expect(isAgentError(e, 'NET_CMD_FAILED')).toBe(true);
      const after = await show(['addr', 'show', 'dev', 'wan0']);
      expect(after).not.toContain('198.18.17.12');
      expect(after).toContain('inet 198.18.17.11/24');
      expect(await show(['route', 'show'])).toContain('default via 198.18.17.1 dev wan0');

      await net.removeLease(b);
      expect(await show(['addr', 'show', 'dev', 'wan0'])).not.toMatch(/inet 198\./);
      expect(await show(['route', 'show'])).not.toContain('default');
    });
  }

  it('busybox arping -D: the peer address is in use, a free one is not', async () => {
    const net = new IpNet({ ip: ['ip', 'netns', 'exec', ns, 'ip'], arping: ['ip', 'netns', 'exec', ns, 'busybox', 'arping'], arpWaitSeconds: 1 });
    expect(await net.addressInUse('wan0', '198.18.17.1')).toBe(true);
    expect(await net.addressInUse('wan0', '198.18.17.99')).toBe(false);
  });
});
