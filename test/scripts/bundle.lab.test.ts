/**
 * make bundle for x64 and arm64 (arm64 run here under qemu-aarch64-static with the arm64 glibc
 * of scripts/debs.sh): the single executable starts with nothing on stderr (no SEA warning, no
 * "Code cache data rejected." — the code cache is made by the target's own node with the same V8
 * flags), prints the version, loads a command; the node + bundle launcher beside it does the same.
 * Builds dist/sea/<arch> when it is missing or older than the bundle or scripts/bundle.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { describeLab } from '../helpers/prereq.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const version = (JSON.parse(spawnSync('cat', [join(root, 'package.json')], { encoding: 'utf8' }).stdout) as { version: string }).version;
const mtime = (p: string): number => (existsSync(p) ? statSync(p).mtimeMs : 0);

describeLab('make bundle: single executable for x64 and arm64', ['llvm-strip', 'qemu-aarch64-static', 'dpkg-deb'], () => {
  beforeAll(() => {
    if (mtime(join(root, 'dist/cpe-agent.cjs')) === 0) {
      const b = spawnSync(process.execPath, [join(root, 'scripts/build.ts')], { encoding: 'utf8' });
      if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
    }
    for (const arch of ['x64', 'arm64']) {
      const sea = join(root, 'dist/sea', arch, 'cpe-agent');
      if (mtime(sea) > Math.max(mtime(join(root, 'dist/cpe-agent.cjs')), mtime(join(root, 'scripts/bundle.ts')))) continue;
      const b = spawnSync(process.execPath, [join(root, 'scripts/bundle.ts'), '--arch', arch], { encoding: 'utf8' });
      if (b.status !== 0) throw new Error(`bundle.ts --arch ${arch} failed: ${b.stderr}`);
    }
  }, 600_000);

  const run = (arch: string, file: string, args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const dir = join(root, 'dist/sea', arch);
    let argv = [join(dir, file), ...args];
    if (arch === 'arm64' && process.arch !== 'arm64') {
      // no binfmt here: the launcher's own command line, with the arm64 node under qemu
      const flags = file === 'cpe-agent.sh' ? (readFileSync(join(dir, file), 'utf8').match(/"\$here\/node" (.*) "\$here\/cpe-agent.cjs"/)?.[1] ?? '').split(' ') : [];
      argv = ['qemu-aarch64-static', ...(file === 'cpe-agent.sh' ? [join(dir, 'node'), ...flags, join(dir, 'cpe-agent.cjs')] : [join(dir, file)]), ...args];
    }
    const r = spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8', env: { ...process.env, QEMU_LD_PREFIX: join(root, '.lab/sysroot/arm64') } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  for (const arch of ['x64', 'arm64']) {
    for (const file of ['cpe-agent', 'cpe-agent.sh']) {
      it(`${arch} ${file}: --version and status --help, nothing on stderr`, () => {
        const v = run(arch, file, ['--version']);
        expect(v.stderr).toBe('');
        expect(v.code).toBe(0);
        expect(v.stdout.trim()).toBe(version);
        const h = run(arch, file, ['status', '--help']);
        expect(h.code, h.stderr).toBe(0);
        expect(h.stderr).toBe('');
        expect(h.stdout).toContain('Usage: cpe-agent status');
      }, 120_000);
    }
  }

  it('x64: leg leaves the device V8 flags (16 MiB old space, lite mode): 50,000 subscribers replay through the SEA and the launcher', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leg-flags-'));
    try {
      const pcap = join(dir, 'big.pcap');
      const g = spawnSync(process.execPath, [join(root, 'scripts/bench/gen-dhcp-capture.ts'), pcap, '200000', '50000'], { encoding: 'utf8' });
      expect(g.status, g.stderr).toBe(0);
      const args = ['leg', 'replay', pcap, '--cable', '--default-package', 'basic', '--json'];
      const replay = (file: string, env: NodeJS.ProcessEnv) =>
        spawnSync(join(root, 'dist/sea/x64', file), args, { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env } });
      // the capture is big enough to matter: under the device flags (relaunch suppressed) the heap runs out
      const device = replay('cpe-agent', { CPE_AGENT_SERVER_FLAGS: '1' });
      expect(device.status).not.toBe(0);
      for (const file of ['cpe-agent', 'cpe-agent.sh']) {
        const r = replay(file, {});
        expect(r.status, r.stderr.slice(-2000)).toBe(0);
        expect(r.stdout.trim().split('\n').filter((l) => l.includes('"logon"')).length).toBeGreaterThanOrEqual(50000);
        expect(r.stderr).not.toContain('Code cache data rejected');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
