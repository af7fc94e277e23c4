import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { clearLease, leaseAtRest, leaseFilePath, loadLease, saveLease } from '../../agent/dhcp/lease-store.ts';
import type { Lease } from '../../agent/dhcp/lease.ts';

const lease: Lease = {
  iface: 'wan0',
  address: '198.18.16.100',
  prefixLength: 24,
  routers: ['198.18.16.1'],
  dns: ['198.18.16.1'],
  serverId: '198.18.16.1',
  leaseSeconds: 600,
  renewSeconds: 300,
  rebindSeconds: 525,
  acquiredAt: 1_700_000_000_000,
  vendorClass: 'ESH-3105',
  option43: { protocol: 'ftp', server: '198.18.16.1', user: 'u', password: 'Pa55-w0rd', unknown: [] },
  // sub-option 4 (password) "Pa55-w0rd" in the raw bytes too
  option43Hex: '0101010409506135352d77307264',
  option43Error: { code: 'OPT43_X', message: 'x' },
};
const PASSWORD = 'Pa55-w0rd';
const PASSWORD_HEX = Buffer.from(PASSWORD).toString('hex');

const dirs: string[] = [];
async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cpd-store-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('lease store', () => {
  it('round-trips what INIT-REBOOT needs, file mode 0600, no temp file left', async () => {
    const d = await dir();
    await saveLease(join(d, 'sub'), lease);
    const { option43: _o, option43Hex: _h, option43Error: _e, ...kept } = lease;
    expect(await loadLease(join(d, 'sub'), 'wan0')).toEqual({ kind: 'ok', lease: kept });
    expect((await stat(leaseFilePath(join(d, 'sub'), 'wan0'))).mode & 0o777).toBe(0o600);
    expect(await readdir(join(d, 'sub'))).toEqual(['dhcp-lease-wan0.json']);
  });

  it('missing, corrupt, invalid and foreign-interface files read as no lease, with a reason', async () => {
    const d = await dir();
    expect(await loadLease(d, 'wan0')).toEqual({ kind: 'missing' });
    await writeFile(leaseFilePath(d, 'wan0'), '{"version":1,"lease":');
    expect(await loadLease(d, 'wan0')).toEqual({ kind: 'invalid', reason: 'not JSON' });
    await writeFile(leaseFilePath(d, 'wan0'), JSON.stringify({ version: 1, lease: { ...lease, address: '1.2.3' } }));
    const bad = await loadLease(d, 'wan0');
    expect(bad.kind).toBe('invalid');
    expect(bad.kind === 'invalid' ? bad.reason : '').toContain('address');
    await writeFile(leaseFilePath(d, 'wan0'), JSON.stringify({ version: 1, lease: { ...lease, iface: 'eth1' } }));
    expect((await loadLease(d, 'wan0')).kind).toBe('invalid');
  });

  it('never holds the FTP password, decoded or in the raw option 43 bytes', async () => {
    const d = await dir();
    await saveLease(d, lease);
    const text = await readFile(leaseFilePath(d, 'wan0'), 'utf8');
    expect(text).toContain('198.18.16.100');
    expect(text).not.toContain(PASSWORD);
    expect(text.toLowerCase()).not.toContain(PASSWORD_HEX.slice(0, 16));
    expect(text).not.toContain('option43');
    expect(leaseAtRest(lease)).not.toHaveProperty('option43');
  });

  it('a file of an older version that holds option 43 is read without it and rewritten clean', async () => {
    const d = await dir();
    await writeFile(leaseFilePath(d, 'wan0'), JSON.stringify({ version: 1, lease }), { mode: 0o600 });
    const r = await loadLease(d, 'wan0');
    expect(r.kind === 'ok' ? r.lease : undefined).not.toHaveProperty('option43');
    const text = await readFile(leaseFilePath(d, 'wan0'), 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(text).toContain('198.18.16.100');
  });

  it('clear is idempotent', async () => {
    const d = await dir();
    await saveLease(d, lease);
    await clearLease(d, 'wan0');
    await clearLease(d, 'wan0');
    expect(await loadLease(d, 'wan0')).toEqual({ kind: 'missing' });
  });
});
