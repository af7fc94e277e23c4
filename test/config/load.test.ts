import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../agent/config/load.ts';
import { errorOf } from '../helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpe-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config', () => {
  it('defaults are the documented production values', () => {
    const c = loadConfig();
    expect(c).toMatchObject({
      iface: 'wan0',
      vendorClass: 'FS-0900E',
      stateDir: '/var/lib/cpe-agent',
      log: { format: 'text', level: 'info' },
      platform: { backend: 'sim', sim: { dir: '/var/lib/cpe-agent/sim' } },
      policy: { allowDowngrade: false, unparseableVersion: 'install', sameVersion: 'install', ignoreProvisioning: false },
      retry: { maxAttempts: 3, baseSeconds: 30, maxSeconds: 600, jitter: 0.5 },
      tftp: { blksize: 1468, windowsize: 1 },
    });
  });

  it('with the sim platform, DNS goes into the state dir, never the host /etc/resolv.conf; an explicit path wins', () => {
    expect(loadConfig().net.resolvConf).toBe('/var/lib/cpe-agent/resolv.conf');
    expect(loadConfig({ overrides: { stateDir: '/tmp/lab-x' } }).net.resolvConf).toBe('/tmp/lab-x/resolv.conf');
    expect(loadConfig({ overrides: { 'net.resolvConf': '/etc/resolv.conf' } }).net.resolvConf).toBe('/etc/resolv.conf');
    const f = join(dir, 'resolv.json');
    writeFileSync(f, JSON.stringify({ net: { resolvConf: 'r.conf' } }));
    expect(loadConfig({ file: f }).net.resolvConf).toBe(join(dir, 'r.conf'));
  });

  it('the shipped example config is valid', () => {
    const example = new URL('../../config/cpe-agent.example.json', import.meta.url).pathname;
    const c = loadConfig({ file: example });
    expect(c.vendorClass).toBe('FS-0900E');
    expect(readFileSync(example, 'utf8')).not.toMatch(/password/i);
  });

  it('file values, then flags override; relative paths resolve against the file', () => {
    const f = join(dir, 'a.json');
    writeFileSync(f, JSON.stringify({ iface: 'eth9', stateDir: 'st', platform: { sim: { factoryImage: 'img/f.bin' } }, retry: { baseSeconds: 1, maxSeconds: 2 } }));
    const c = loadConfig({ file: f, overrides: { iface: 'wan1', 'log.format': 'json', vendorClass: undefined }, cwd: '/tmp' });
    expect(c.iface).toBe('wan1');
    expect(c.log.format).toBe('json');
    expect(c.stateDir).toBe(join(dir, 'st'));
    expect(c.platform.sim.factoryImage).toBe(join(dir, 'img/f.bin'));
    expect(c.platform.sim.dir).toBe(join(dir, 'st', 'sim'));
    expect(c.retry.baseSeconds).toBe(1);
    const d = loadConfig({ overrides: { stateDir: 'rel' }, cwd: '/srv' });
    expect(d.stateDir).toBe('/srv/rel');
  });

  it.each([
    [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ retry: { baseSeconds: 'x' } }, 'retry.baseSeconds'],
    [{ tftp: { blksize: 4 } }, 'tftp.blksize'],
    [{ tftp: { windowsize: 0 } }, 'tftp.windowsize'],
    [{ tftp: { windowsize: 65 } }, 'tftp.windowsize'],
    [{ log: { format: 'xml' } }, 'log.format'],
    [{ policy: { allowDowngrad: true } }, 'policy'],
    [{ iface: 'a b' }, 'iface'],
    [{ policy: { versionPattern: '(' } }, 'policy.versionPattern'],
    [{ policy: { versionPattern: 'FW' } }, 'policy.versionPattern'],
    [{ retry: { baseSeconds: 10, maxSeconds: 5 } }, 'retry.maxSeconds'],
    [{ platform: { backend: 'mtd' } }, 'platform.backend'],
  ])('%j → CONFIG_INVALID naming %s', (raw, path) => {
    const e = errorOf(() => parseConfig(raw));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.details.path).toBe(path);
    expect(e.message).toContain(path);
  });

  it('unreadable or non-JSON files are clear errors', () => {
    expect(errorOf(() => loadConfig({ file: join(dir, 'missing.json') })).code).toBe('CONFIG_READ');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ iface: ');
    expect(errorOf(() => loadConfig({ file: bad })).code).toBe('CONFIG_INVALID');
    const arr = join(dir, 'arr.json');
    writeFileSync(arr, '[]');
    expect(errorOf(() => loadConfig({ file: arr })).code).toBe('CONFIG_INVALID');
  });
});
