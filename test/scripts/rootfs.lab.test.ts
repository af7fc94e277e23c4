/**
 * make rootfs for x64, as the modem gets it: built twice from the same tree → the same MD5
 * (reproducible), then unpacked (cpio, as root: it holds /dev/console) and the agent inside run
 * with chroot: `cpe-agent --version` and `cpe-agent status` against the image's own
 * /etc/cpe-agent.json, its glibc and its busybox (nothing from the host).
 * Needs dist/sea/x64 (`make bundle`); builds it when missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeLab } from '../helpers/prereq.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'rootfs-test-'));
const EPOCH = '1767225600';

function sh(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH }, ...opts });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeLab('make rootfs ARCH=x64 (reproducible, runs in a chroot)', ['cpio', 'gzip', 'chroot', 'llvm-strip', 'dpkg-deb'], () => {
  const images = [join(tmp, 'a', 'rootfs-x64.cpio.gz'), join(tmp, 'b', 'rootfs-x64.cpio.gz')];
  const unpacked = join(tmp, 'root');

  beforeAll(() => {
    if (!existsSync(join(root, 'dist/sea/x64/cpe-agent.cjs'))) {
      for (const s of ['build.ts', 'bundle.ts']) {
        const b = sh(process.execPath, [join(root, 'scripts', s), ...(s === 'bundle.ts' ? ['--arch', 'x64'] : [])]);
        if (b.code !== 0) throw new Error(`${s} failed: ${b.stderr}`);
      }
    }
    const k = sh(process.execPath, [join(root, 'agent', 'main.ts'), 'image', 'keygen', '--out', join(tmp, 'vendor')]);
    if (k.code !== 0) throw new Error(`image keygen failed: ${k.stderr}`);
    for (const out of images) {
      const r = sh(process.execPath, [join(root, 'scripts/rootfs.ts'), '--arch', 'x64', '--compress', 'gzip', '--out', out, '--trusted-key', join(tmp, 'vendor.pub')]);
      if (r.code !== 0) throw new Error(`rootfs.ts failed: ${r.stderr}`);
    }
    const cpio = sh('gzip', ['-t', images[0] ?? '']);
    expect(cpio.code).toBe(0);
    sh('mkdir', ['-p', unpacked]);
    const x = spawnSync('sh', ['-c', `gzip -dc "$0" | cpio -i -d -m --quiet --no-absolute-filenames`, images[0] ?? ''], { cwd: unpacked, encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`unpack failed: ${x.stderr}`);
  }, 900_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('builds the same bytes twice (same MD5) and writes the MD5 beside the image', () => {
    const [a, b] = images.map((p) => readFileSync(`${p}.md5`, 'utf8').split(' ')[0]);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(b).toBe(a);
    expect(sh('md5sum', [images[1] ?? '']).stdout.split(' ')[0]).toBe(a);
  });

  it('holds init, busybox, the glibc runtime, the agent, its config, version file and key directories', () => {
    for (const p of ['init', 'bin/busybox', 'sbin/init', 'bin/sh', 'etc/inittab', 'etc/init.d/rcS', 'usr/sbin/cpe-agent-supervise', 'etc/cpe-agent.json', 'etc/cpe-agent/version', 'etc/cpe-agent/ca', 'etc/cpe-agent/keys', 'lib64/ld-linux-x86-64.so.2', 'lib/x86_64-linux-gnu/libc.so.6', 'usr/lib/x86_64-linux-gnu/libstdc++.so.6', 'usr/bin/cpe-agent', 'dev/console']) {
      expect(existsSync(join(unpacked, p)) || sh('test', ['-L', join(unpacked, p)]).code === 0, p).toBe(true);
    }
    const version = readFileSync(join(unpacked, 'etc/cpe-agent/version'), 'utf8');
    expect(version).toMatch(/^0\.1\.0\narch=x64\nbuilt=20260101\nimage=FW_0_1_0_20260101\n$/);
  });

  it('accepts only signed images: policy.signature "require" with the given manufacturer key (config and keys dir)', () => {
    const key = readFileSync(join(tmp, 'vendor.pub'), 'utf8').trim();
    const cfg = JSON.parse(readFileSync(join(unpacked, 'etc/cpe-agent.json'), 'utf8')) as { policy: { signature: string; trustedKeys: { manufacturer: string[]; coSigner: string[] } } };
    expect(cfg.policy.signature).toBe('require');
    expect(cfg.policy.trustedKeys).toEqual({ manufacturer: [key], coSigner: [] });
    expect(readFileSync(join(unpacked, 'etc/cpe-agent/keys/manufacturer.pub'), 'utf8')).toBe(`${key}\n`);
  });

  it('runs `cpe-agent --version` and `cpe-agent status` inside the image (chroot)', () => {
    const v = sh('chroot', [unpacked, '/usr/bin/cpe-agent', '--version']);
    expect(v.stderr).toBe('');
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    const s = sh('chroot', [unpacked, '/usr/bin/cpe-agent', 'status', '--json', '--config', '/etc/cpe-agent.json']);
    expect(s.code, s.stderr).toBe(0);
    const st = JSON.parse(s.stdout) as { state: string };
    expect(typeof st.state).toBe('string');
    // the chroot's shell is the image's busybox
    expect(sh('chroot', [unpacked, '/bin/sh', '-c', 'readlink /bin/sh; cat /etc/hostname']).stdout).toBe('/bin/busybox\ncpe\n');
  });
});
