/**
 * Notifications against Net-SNMP snmptrapd (127.0.0.1, its own config in a temp dir): every
 * history event of the daemon that maps to a notification arrives — as a v2c trap and as a v3
 * authPriv inform — with its varbinds, named by CPE-AGENT-MIB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeLab } from '../helpers/prereq.ts';
import { waitFor } from '../../scripts/lab/netns.ts';
import { MIB_DIRS } from '../../scripts/lab/snmp-tools.ts';
import { configSchema } from '../../agent/config/schema.ts';
import { silentLogger } from '../../agent/log.ts';
import { startSnmp, type SnmpService } from '../../agent/snmp/index.ts';
import { FakeDaemon, freePort, STAGED_MD5 } from './fixtures.ts';

const USER = { name: 'nms', authKey: 'trap-auth-key-1', privKey: 'trap-priv-key-1' };
let dir: string;
let trapd: ChildProcess;
let out = '';
let svc: SnmpService;
let daemon: FakeDaemon;

describeLab('SNMP notifications to snmptrapd (v2c traps, v3 informs)', ['snmptrapd'], () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-trapd-'));
    const trapPort = await freePort();
    await writeFile(
      join(dir, 'trapd.conf'),
      [`snmpTrapdAddr udp:127.0.0.1:${trapPort}`, 'authCommunity log trap-c', `createUser ${USER.name} SHA-256 ${USER.authKey} AES ${USER.privKey}`, `authUser log ${USER.name}`, ''].join('\n'),
    );
    const env = { PATH: process.env.PATH, SNMP_PERSISTENT_DIR: join(dir, 'p'), SNMPCONFPATH: join(dir, 'p'), MIBDIRS: MIB_DIRS.join(':'), MIBS: 'SNMPv2-MIB:CPE-AGENT-MIB', HOME: dir };
    trapd = spawn('snmptrapd', ['-f', '-Lo', '-C', '-c', join(dir, 'trapd.conf'), '-F', '%P\t%v\n'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    trapd.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    trapd.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /NET-SNMP version/.test(out), 'snmptrapd to start', 10_000, 20);
    const port = await freePort();
    daemon = new FakeDaemon();
    const cfg = configSchema.parse({
      snmp: {
        listen: { address: '127.0.0.1', port },
        community: { read: 'r-n' },
        users: [{ ...USER }],
        notify: [
          { host: '127.0.0.1', port: trapPort, version: 'v2c', community: 'trap-c' },
          { host: '127.0.0.1', port: trapPort, version: 'v3', user: USER.name, retries: 2, timeoutSeconds: 1 },
        ],
      },
    });
    const s = await startSnmp(cfg, daemon, silentLogger());
    if (!s) throw new Error('no snmp');
    svc = s;
  });
  afterAll(async () => {
    await svc?.close();
    // snmptrapd writes its persistent state (SNMP_PERSISTENT_DIR) as it exits: wait for the
    // exit before removing the directory (removing it meanwhile failed with ENOTEMPTY once).
    if (trapd && trapd.exitCode === null && trapd.signalCode === null) {
      const gone = new Promise<void>((r) => trapd.once('exit', () => r()));
      trapd.kill('SIGTERM');
      await Promise.race([gone, new Promise<void>((r) => setTimeout(r, 5000))]);
      trapd.kill('SIGKILL');
    }
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  const count = (re: RegExp): number => (out.match(new RegExp(re.source, `${re.flags}g`)) ?? []).length;

  it('staged, failed, rebooting, booted new image, rollback: each as a v2c trap and a v3 inform, with its varbinds', async () => {
    const at = Date.now();
    daemon.emit({ at, event: 'staged', slot: 'B', version: '1.2.0', md5: STAGED_MD5, detail: 'ftp x.bin' });
    daemon.emit({ at, event: 'download-failed', detail: 'x.bin: FTP_TIMEOUT' });
    daemon.emit({ at, event: 'reboot-requested', slot: 'B', detail: 'reboot requested (snmp)' });
    daemon.emit({ at, event: 'booted', slot: 'B', version: '1.2.0', md5: STAGED_MD5, detail: 'trial boot of slot B after reboot (reboot requested (snmp))' });
    daemon.emit({ at, event: 'booted', slot: 'A', version: '1.1.0', detail: 'start' }); // a plain restart: no notification
    daemon.emit({ at, event: 'fallback', slot: 'A', detail: 'slot B did not boot healthy' });
    await waitFor(() => count(/snmpTrapOID\.0 = OID: CPE-AGENT-MIB::cpe/) >= 10, 'ten notifications', 10_000, 50);
    await new Promise((r) => setTimeout(r, 300));
    if (process.env.SNMP_TEST_LOG) console.log(out);
    for (const name of ['cpeImageStaged', 'cpeUpgradeFailed', 'cpeRebooting', 'cpeBootedNewImage', 'cpeRollback']) {
      expect(count(new RegExp(`snmpTrapOID\\.0 = OID: CPE-AGENT-MIB::${name}\\b`)), name).toBe(2);
    }
    expect(count(/snmpTrapOID\.0 = OID: CPE-AGENT-MIB::/)).toBe(10);
    expect(out).toContain('CPE-AGENT-MIB::cpeStagedVersion.0 = STRING: 1.2.0');
    expect(out).toContain(`CPE-AGENT-MIB::cpeStagedMd5.0 = STRING: ${STAGED_MD5}`);
    expect(out).toContain('CPE-AGENT-MIB::cpeLastErrorCode.0 = STRING: FTP_TIMEOUT');
    expect(out).toContain('CPE-AGENT-MIB::cpeEventDetail.0 = STRING: reboot requested (snmp)');
    expect(out).toContain('CPE-AGENT-MIB::cpeRunningSlot.0 = INTEGER: a(1)');
    expect(count(/^TRAP2, SNMP v2c, community trap-c\t.*CPE-AGENT-MIB::cpe/m)).toBe(5);
    expect(count(/^INFORM, SNMP v3, user nms, context \t.*CPE-AGENT-MIB::cpe/m)).toBe(5);
  });
});
