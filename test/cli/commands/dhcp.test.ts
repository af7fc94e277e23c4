import { describe, expect, it } from 'vitest';
import { leaseTable, leaseView } from '../../../agent/cli/commands/dhcp.ts';
import type { Lease } from '../../../agent/dhcp/lease.ts';

const lease: Lease = {
  iface: 'wan0',
  address: '198.18.16.150',
  prefixLength: 24,
  routers: ['198.18.16.1'],
  dns: ['198.18.16.1'],
  serverId: '198.18.16.1',
  leaseSeconds: 600,
  renewSeconds: 300,
  rebindSeconds: 525,
  acquiredAt: 1,
  vendorClass: 'ESH-3105',
  option43: { protocol: 'ftp', server: '198.18.16.1', user: 'cpeupg', password: 'Upgr4de!x', softwareFile: 'esh.img', unknown: [] },
  option43Hex: '010101',
};

describe('dhcp CLI output', () => {
  it('JSON view: the contract fields in order, option 43 complete (operator tool)', () => {
    const v = leaseView(lease);
    expect(Object.keys(v).slice(0, 10)).toEqual(['iface', 'vendorClass', 'address', 'prefixLength', 'routers', 'dns', 'serverId', 'leaseSeconds', 'renewSeconds', 'rebindSeconds']);
    expect(v.option43).toEqual(lease.option43);
    expect(JSON.stringify(v)).toContain('Upgr4de!x');
    expect(leaseView({ ...lease, option43: undefined, option43Hex: undefined }).option43).toBeNull();
  });

  it('table view: one row per field, option 43 indented, decode errors shown', () => {
    const t = leaseTable(lease);
    expect(t).toMatch(/^address\s+198\.18\.16\.150$/m);
    expect(t).toMatch(/^renewSeconds\s+300$/m);
    expect(t).toMatch(/^option43$/m);
    expect(t).toMatch(/^ {2}user\s+cpeupg$/m);
    const bad = leaseTable({ ...lease, option43: undefined, option43Error: { code: 'OPT43_TRUNCATED', message: 'sub-option 5 runs past the end' } });
    expect(bad).toMatch(/^option43Error\s+\[OPT43_TRUNCATED\] sub-option 5 runs past the end$/m);
  });
});
