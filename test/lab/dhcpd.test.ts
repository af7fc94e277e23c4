import { describe, expect, it } from 'vitest';
import { parseLeases, renderDhcpdConf } from '../../scripts/lab/dhcpd.ts';
import { CONF } from './dhcpd-fixtures.ts';
import { inPool } from '../../scripts/lab/dhcp-lab.ts';

describe('lab dhcpd.conf', () => {
  it('declares the option space, one class per vendor class matched by substring, pools per class and a default pool', () => {
    const c = renderDhcpdConf(CONF);
    expect(c).toContain('option space cts;');
    expect(c).toContain('option cts.software-md5 code 6 = string;');
    expect(c).toContain('class "FS-0900E" {\n  match if substring(option vendor-class-identifier, 0, 8) = "FS-0900E";\n  vendor-option-space cts;');
    expect(c).toContain('option cts.software-md5 d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e;');
    expect(c).toContain('option cts.password "p\\"w";');
    expect(c).toContain('pool {\n    allow members of "ESH-3105";\n    range 198.18.16.150 198.18.16.199;\n  }');
    expect(c).toContain('pool {\n    deny members of "FS-0900E";\n    deny members of "ESH-3105";\n    range 198.18.16.20 198.18.16.49;\n  }');
    expect(c).toMatch(/^min-lease-time 20;$/m);
    expect(c).toMatch(/^authoritative;$/m);
  });

  it('refuses an offer the option 43 encoder refuses (bad MD5)', () => {
    const first = CONF.classes[0];
    if (!first) throw new Error('fixture');
    expect(() => renderDhcpdConf({ ...CONF, classes: [{ ...first, offer: { ...first.offer, softwareMd5: 'xyz' } }] })).toThrow();
  });

  it('parses dhcpd.leases blocks in file order', () => {
    const text = `# The format of this file is documented in the dhcpd.leases(5) manual page.
lease 198.18.16.100 {
  starts 1 2026/11/23 18:24:14;
  ends 1 2026/11/23 18:24:34;
  binding state active;
  next binding state free;
  hardware ethernet de:42:e8:0a:da:51;
  uid "\\001\\336B\\350\\012\\332Q";
  set vendor-class-identifier = "FS-0900E";
}
lease 198.18.16.100 {
  starts 1 2026/11/23 18:24:19;
  ends 1 2026/11/23 18:24:21;
  binding state free;
  hardware ethernet de:42:e8:0a:da:51;
}
`;
    expect(parseLeases(text)).toEqual([
      { address: '198.18.16.100', bindingState: 'active', hardware: 'de:42:e8:0a:da:51', vendorClass: 'FS-0900E', starts: '2026/11/23 18:24:14', ends: '2026/11/23 18:24:34' },
      { address: '198.18.16.100', bindingState: 'free', hardware: 'de:42:e8:0a:da:51', starts: '2026/11/23 18:24:19', ends: '2026/11/23 18:24:21' },
    ]);
  });

  it('inPool checks the inclusive range', () => {
    expect(inPool('198.18.16.100', ['198.18.16.100', '198.18.16.149'])).toBe(true);
    expect(inPool('198.18.16.150', ['198.18.16.100', '198.18.16.149'])).toBe(false);
    expect(inPool('198.18.17.120', ['198.18.16.100', '198.18.16.149'])).toBe(false);
  });
});
