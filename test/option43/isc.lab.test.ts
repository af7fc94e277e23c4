/** ISC dhcpd itself accepts the dhcpd.conf text rendered from the profile (`dhcpd -t`). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeLab } from '../helpers/prereq.ts';
import { renderIscClass, renderIscOptionSpace, renderIscVendorOptions } from '../../agent/option43/isc.ts';
import { CTS_PROFILE } from '../../agent/option43/profiles/cts.ts';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
// By absolute path: node_modules/.bin (first in PATH) holds an unrelated `dhcpd` from the npm dhcp package.
const DHCPD = ['/usr/sbin/dhcpd', '/usr/bin/dhcpd', '/usr/local/sbin/dhcpd'].find((p) => existsSync(p)) ?? 'dhcpd';

function dhcpdTest(conf: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'opt43-isc-'));
  dirs.push(dir);
  const file = join(dir, 'dhcpd.conf');
  writeFileSync(file, conf);
  const r = spawnSync(DHCPD, ['-t', '-cf', file], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describeLab('ISC dhcpd accepts the rendered option 43 configuration', ['dhcpd'], () => {
  const offer = {
    protocol: 'ftp' as const,
    server: '198.18.0.2',
    user: 'cpe',
    password: 'p"w\\x',
    softwareFile: 'FS-0900E_v2.1.bin',
    softwareMd5: MD5,
    configFile: 'fs.cfg',
    configMd5: MD5,
    flags: 0x8000,
    urgent: true,
    unknown: [],
  };
  for (const md5Format of ['raw', 'hex', 'colon'] as const) {
    it(`option space + class + subnet scope (md5 ${md5Format})`, () => {
      const conf = [
        'authoritative;',
        renderIscOptionSpace(CTS_PROFILE),
        renderIscClass('FS-0900E', offer, CTS_PROFILE, md5Format),
        'subnet 198.18.0.0 netmask 255.255.255.0 {',
        '  range 198.18.0.100 198.18.0.150;',
        renderIscVendorOptions(offer, CTS_PROFILE, md5Format),
        '}',
      ].join('\n');
      const r = dhcpdTest(conf);
      expect(r.out).toContain('Internet Systems Consortium');
      expect(r.out).not.toMatch(/error|unknown option|expecting/i);
      expect(r.status, r.out).toBe(0);
    });
  }
  it('the check can fail: dhcpd rejects a wrong option type', () => {
    const conf = renderIscOptionSpace(CTS_PROFILE) + 'option cts.protocol "ftp";\n';
    const r = dhcpdTest(conf);
    expect(r.out).toMatch(/line \d+: expecting number/);
    expect(r.status).not.toBe(0);
  });
});
