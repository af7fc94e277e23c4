import { afterAll, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeLab } from '../helpers/prereq.ts';
import { checkDhcpdConf, renderDhcpdConf } from '../../scripts/lab/dhcpd.ts';
import { CONF } from './dhcpd-fixtures.ts';

describeLab('lab dhcpd.conf validated by dhcpd -t', ['dhcpd'], () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('the generated config passes `dhcpd -t`, a broken one is rejected with dhcpd\'s message', async () => {
    const d = await mkdtemp(join(tmpdir(), 'cpd-conf-'));
    dirs.push(d);
    await writeFile(join(d, 'ok.conf'), renderDhcpdConf(CONF));
    await checkDhcpdConf(join(d, 'ok.conf'));
    await writeFile(join(d, 'bad.conf'), renderDhcpdConf(CONF).replace('option cts.flags code 9', 'option cts.flags cod 9'));
    await expect(checkDhcpdConf(join(d, 'bad.conf'))).rejects.toThrow(/dhcpd -t rejected/);
  });
});
