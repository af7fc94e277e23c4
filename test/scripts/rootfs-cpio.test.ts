/**
 * The initramfs writer: GNU cpio reads the archive back (names, types, owners, the fixed
 * mtime, device numbers), entries come sorted whatever the input order, and the same input
 * gives the same bytes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpioArchive, type CpioEntry } from '../../scripts/rootfs-cpio.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpio-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'hello'), 'hello world\n');
writeFileSync(join(dir, 'odd'), 'abc');

const EPOCH = 1_767_225_600; // 2026-01-01T00:00:00Z
const entries: CpioEntry[] = [
  { path: 'usr/bin/tool', type: 'symlink', target: '/bin/busybox' },
  { path: 'etc/hello', type: 'file', mode: 0o644, source: join(dir, 'hello') },
  { path: 'etc', type: 'dir', mode: 0o755 },
  { path: 'dev/console', type: 'char', mode: 0o600, major: 5, minor: 1 },
  { path: 'dev', type: 'dir', mode: 0o755 },
  { path: 'etc/odd', type: 'file', mode: 0o755, source: join(dir, 'odd') },
  { path: 'usr', type: 'dir', mode: 0o755 },
  { path: 'usr/bin', type: 'dir', mode: 0o755 },
];

function list(archive: Buffer): string[] {
  const r = spawnSync('cpio', ['-t', '-v', '--quiet', '--numeric-uid-gid'], { input: archive, encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n');
}

describe('cpioArchive', () => {
  it('is read back by GNU cpio: sorted, owners 0:0, one mtime, types and device numbers kept', () => {
    const lines = list(cpioArchive(entries, EPOCH));
    expect(lines.map((l) => l.split(/\s+/).slice(-1)[0] === '/bin/busybox' ? l.split(/\s+/).at(-3) : l.split(/\s+/).at(-1))).toEqual([
      'dev',
      'dev/console',
      'etc',
      'etc/hello',
      'etc/odd',
      'usr',
      'usr/bin',
      'usr/bin/tool',
    ]);
    for (const l of lines) expect(l).toMatch(/^\S+\s+\d+\s+0\s+0\s/);
    for (const l of lines) expect(l).toContain('Jan  1  2026');
    expect(lines[1]).toMatch(/^crw-------\s+1\s+0\s+0\s+5,\s+1\s/);
    expect(lines[3]).toMatch(/^-rw-r--r--.*\s12\s/);
    expect(lines[4]).toMatch(/^-rwxr-xr-x.*\s3\s/);
    expect(lines[7]).toMatch(/^lrwxrwxrwx.*usr\/bin\/tool -> \/bin\/busybox$/);
  });

  it('gives the same bytes for the same entries in any order, and file contents survive', () => {
    const a = cpioArchive(entries, EPOCH);
    const b = cpioArchive([...entries].reverse(), EPOCH);
    expect(a.equals(b)).toBe(true);
    expect(a.length % 512).toBe(0);
    const out = mkdtempSync(join(dir, 'x-'));
    const r = spawnSync('cpio', ['-i', '-d', '--quiet', '--no-absolute-filenames', 'etc/hello', 'etc/odd'], { input: a, cwd: out, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(spawnSync('cat', ['etc/hello', 'etc/odd'], { cwd: out, encoding: 'utf8' }).stdout).toBe('hello world\nabc');
  });
});
