/**
 * Never touch the host's files from a lab (issue 8 point 4). `ip netns exec` shares /etc with
 * the host, so an agent run in a lab namespace that wrote /etc/resolv.conf replaced the
 * developer's name resolution. Against real ISC dhcpd:
 *   - `run --platform sim` without --resolv-conf, in a private mount namespace whose /etc is a
 *     copy (so a regression hits the copy, never the host): nothing under that /etc changes,
 *     the DNS of the lease goes to <stateDir>/resolv.conf and is gone after the run;
 *   - the README's lab commands (`$ ip netns exec … dist/cpe-agent …` lines) and
 *     `make lab-dhcp` (scripts/lab/lease-example.ts): the host's /etc/resolv.conf is
 *     byte-identical afterwards, same inode and mtime.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT, describeLab } from '../../helpers/prereq.ts';
import { startDhcpLab, type DhcpLab } from '../../../scripts/lab/dhcp-lab.ts';
import { labTag, run } from '../../../scripts/lab/netns.ts';
import type { Option43Offer } from '../../../agent/option43/types.ts';

const root = new URL('../../../', import.meta.url).pathname;
const FACTORY = new Uint8Array(8192).fill(3);
const FACTORY_FILE = 'FS-0900E_FW_1_02_00_20200101.bin';
const md5 = (b: Uint8Array | string): string => createHash('md5').update(b).digest('hex');
const OFFER: Option43Offer = { protocol: 'tftp', server: '198.18.24.1', softwareFile: FACTORY_FILE, softwareMd5: md5(FACTORY), flags: 0, urgent: false, unknown: [] };

interface Snapshot {
  text: string;
  ino: number;
  mtimeMs: number;
  linkMtimeMs: number;
}

async function snapshot(path: string): Promise<Snapshot> {
  const l = await lstat(path);
  const s = await stat(path);
  return { text: await readFile(path, 'utf8'), ino: s.ino, mtimeMs: s.mtimeMs, linkMtimeMs: l.mtimeMs };
}

/** Every file under `dir` with its content hash and mtime (what "unchanged" means for a tree). */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    const st = await lstat(p);
    out[p.slice(dir.length)] = st.isFile() ? `${md5(await readFile(p))} ${st.mtimeMs}` : `${st.mode} ${st.mtimeMs}`;
  }
  return out;
}

describeLab('lab runs never touch the host /etc/resolv.conf', ['dhcpd', 'busybox', 'ip', 'unshare', 'mount'], () => {
  let lab: DhcpLab;
  let tmp: string;
  const host = '/etc/resolv.conf';
  let before: Snapshot | undefined;

  beforeAll(async () => {
    if (existsSync(host)) before = await snapshot(host);
    tmp = await mkdtemp(join(tmpdir(), 'cpd-resolv-'));
    lab = await startDhcpLab({ subnet: '198.18.24', classes: { 'FS-0900E': OFFER, 'ESH-3105': OFFER }, dns: ['198.18.24.53'], clients: 3, tag: labTag() });
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('run --platform sim without --resolv-conf: DNS in the state dir, nothing under /etc written (shadowed /etc)', async () => {
    const etc = join(tmp, 'etc');
    await mkdir(etc);
    await writeFile(join(etc, 'resolv.conf'), '# the host\nnameserver 192.0.2.53\n');
    for (const f of ['ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'nsswitch.conf', 'passwd', 'group', 'hosts', 'iproute2']) {
      if (existsSync(join('/etc', f))) await cp(join('/etc', f), join(etc, f), { recursive: true, preserveTimestamps: true });
    }
    const etcBefore = await tree(etc);
    const sd = join(tmp, 'state');
    await writeFile(join(tmp, FACTORY_FILE), FACTORY);
    const argv = [AGENT, 'run', '--iface', 'wan0', '--vendor-class', 'FS-0900E', '--platform', 'sim', '--state-dir', sd, '--factory-image', join(tmp, FACTORY_FILE), '--once', '--log-format', 'json'];
    // a private mount namespace: /etc there is the copy; `ip netns exec` inside it sees the copy
    const script = 'mount --bind "$0" /etc && exec ip netns exec "$@"';
    const r = await run(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, etc, lab.clientNs[0] ?? '', ...argv], { allowFail: true });
    expect(r.stdout, r.stderr).toContain('cpe-agent: up-to-date');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('"lease bound"');
    expect(await tree(etc)).toEqual(etcBefore);
    // the lease's DNS went to the state dir; the run ended (stop) and took it back: nothing was there before
    expect(existsSync(join(sd, 'resolv.conf'))).toBe(false);
    expect(existsSync(join(sd, 'resolv.conf.pre-cpe-agent'))).toBe(false);
  });

  it('a bind-mounted resolv.conf (as /etc/netns/NAME/resolv.conf, containers) is written in place and put back; nothing beside it', async () => {
    const src = join(tmp, 'bind-src');
    const dir = join(tmp, 'bind-dir');
    await mkdir(src);
    await mkdir(dir);
    const orig = '# bound from elsewhere\nnameserver 192.0.2.1\n';
    await writeFile(join(src, 'resolv.conf'), orig);
    await writeFile(join(dir, 'resolv.conf'), 'placeholder\n');
    const argv = [AGENT, 'dhcp', '--iface', 'wan0', '--vendor-class', 'ESH-3105', '--once', '--release', '--no-arp-check', '--json', '--resolv-conf', join(dir, 'resolv.conf')];
    // inside: bind, run, then print what the file held while bound (after the run)
    const script = 'mount --bind "$0/resolv.conf" "$1/resolv.conf" && shift && ip netns exec "$@"';
    const r = await run(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, src, dir, lab.clientNs[2] ?? '', ...argv], { allowFail: true });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dns: ['198.18.24.53'] });
    expect(r.stderr).not.toContain('NET_RESOLV_WRITE_FAILED');
    expect(await readFile(join(src, 'resolv.conf'), 'utf8')).toBe(orig); // released: put back
    expect((await readdir(dir)).sort()).toEqual(['resolv.conf']); // no temp file, no backup beside the mount
    expect(await readFile(join(dir, 'resolv.conf'), 'utf8')).toBe('placeholder\n');
  });

  it("the README's lab commands pass --resolv-conf and leave the host file byte-identical", async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const lines = [...readme.matchAll(/^\$ ip netns exec (\S+) dist\/cpe-agent (.+)$/gm)];
    expect(lines.length).toBeGreaterThan(0);
    for (const [i, m] of lines.entries()) {
      const args = (m[2] ?? '').trim().split(/\s+/);
      const at = args.indexOf('--resolv-conf');
      expect(at, `README command without --resolv-conf: ${m[0]}`).toBeGreaterThan(0);
      args[at + 1] = join(tmp, `readme-${i}.conf`); // the README's temp path, made here
      const r = await run(['ip', 'netns', 'exec', lab.clientNs[1] ?? '', AGENT, ...args], { allowFail: true });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^address +198\.18\.24\.\d+$/m);
    }
    if (before) expect(await snapshot(host)).toEqual(before);
  });

  it('make lab-dhcp (scripts/lab/lease-example.ts) leaves the host file byte-identical', async () => {
    const r = await run([process.execPath, join(root, 'scripts/lab/lease-example.ts')], { allowFail: true });
    expect(r.code, r.stderr).toBe(0);
    const cmds = r.stdout.split('\n').filter((l) => l.startsWith('$ ip netns exec'));
    expect(cmds).toHaveLength(2);
    for (const c of cmds) expect(c).toMatch(/ --resolv-conf \/\S+/);
    if (before) expect(await snapshot(host)).toEqual(before);
  }, 120_000);
});
