/**
 * docsDevSoftware (RFC 4639) over a fake daemon, npm net-snmp as the manager: a management
 * upgrade from server/filename set in one PDU, AdminStatus allow/ignore persisted through the
 * daemon, http(2) → wrongValue, sets while inProgress → inconsistentValue, OperStatus from the
 * status model.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import snmp, { type Session } from 'net-snmp';
import { configSchema } from '../../agent/config/schema.ts';
import { silentLogger } from '../../agent/log.ts';
import { startSnmp, type SnmpService } from '../../agent/snmp/index.ts';
import { FakeDaemon, freePort } from './fixtures.ts';
import { set, v2, value } from './client.ts';

const SW = '1.3.6.1.2.1.69.1.3';
const I = snmp.ObjectType.Integer;
const S = snmp.ObjectType.OctetString;
let daemon: FakeDaemon;
let svc: SnmpService;
let s: Session;

beforeEach(async () => {
  const port = await freePort();
  daemon = new FakeDaemon();
  daemon.state = { ...daemon.state, upgrade: { source: 'provisioning', result: 'complete', file: 'x.bin', server: null, at: 0 } };
  const cfg = configSchema.parse({ snmp: { listen: { address: '127.0.0.1', port }, community: { read: 'r-1', write: 'w-1' } } });
  const started = await startSnmp(cfg, daemon, silentLogger());
  if (!started) throw new Error('no snmp');
  svc = started;
  s = v2(port, 'w-1');
});
afterEach(async () => {
  s.close();
  await svc.close();
});

const errorOf = async (vbs: Parameters<typeof set>[1]): Promise<number> => {
  const r = await set(s, vbs);
  return r.ok ? 0 : (r.error.status ?? -1);
};
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

describe('docsDevSoftware', () => {
  it('reads: OperStatus from the model, AdminStatus from the policy, tftp(1)', async () => {
    expect(await value(s, `${SW}.4.0`)).toBe(2); // completeFromProvisioning
    expect(await value(s, `${SW}.3.0`)).toBe(2); // allowProvisioningUpgrade
    expect(await value(s, `${SW}.8.0`)).toBe(1);
    expect(await value(s, `${SW}.5.0`)).toBe('1.1.0');
    daemon.state = { ...daemon.state, upgrade: { source: 'management', result: 'failed', file: 'y.bin', server: '198.18.0.9', at: 1 } };
    await tick();
    expect(await value(s, `${SW}.4.0`)).toBe(4); // failed
  });

  it('upgradeFromMgt(1) with address and file in the same PDU → one daemon request; then inProgress, sets refused', async () => {
    const r = await errorOf([
      { oid: `${SW}.3.0`, type: I, value: 1 }, // AdminStatus first: the values below still count
      { oid: `${SW}.6.0`, type: I, value: 1 },
      { oid: `${SW}.7.0`, type: S, value: Buffer.from([198, 18, 0, 200]) },
      { oid: `${SW}.2.0`, type: S, value: 'FS-0900E_FW_1_05_00.bin' },
    ]);
    expect(r).toBe(0);
    await tick();
    expect(daemon.upgrades).toEqual([{ server: '198.18.0.200', file: 'FS-0900E_FW_1_05_00.bin' }]);
    expect(await value(s, `${SW}.4.0`)).toBe(1); // inProgress
    expect(await value(s, `${SW}.3.0`)).toBe(1);
    expect(await value(s, `${SW}.1.0`)).toBe('198.18.0.200');
    expect(await errorOf([{ oid: `${SW}.2.0`, type: S, value: 'other.bin' }])).toBe(snmp.ErrorStatus.InconsistentValue);
    expect(await errorOf([{ oid: `${SW}.3.0`, type: I, value: 3 }])).toBe(snmp.ErrorStatus.InconsistentValue);
    expect(daemon.upgrades).toHaveLength(1);
  });

  it('upgradeFromMgt without a server or a file → inconsistentValue, nothing starts', async () => {
    expect(await errorOf([{ oid: `${SW}.3.0`, type: I, value: 1 }])).toBe(snmp.ErrorStatus.InconsistentValue);
    await tick();
    expect(daemon.upgrades).toEqual([]);
  });

  it('http(2) → wrongValue; ipv6 address type → wrongValue; a 5-byte address → wrongValue', async () => {
    expect(await errorOf([{ oid: `${SW}.8.0`, type: I, value: 2 }])).toBe(snmp.ErrorStatus.WrongValue);
    expect(await errorOf([{ oid: `${SW}.6.0`, type: I, value: 2 }])).toBe(snmp.ErrorStatus.WrongValue);
    expect(await errorOf([{ oid: `${SW}.7.0`, type: S, value: Buffer.from([1, 2, 3, 4, 5]) }])).toBe(snmp.ErrorStatus.WrongValue);
    expect(await errorOf([{ oid: `${SW}.3.0`, type: I, value: 7 }])).toBe(snmp.ErrorStatus.WrongValue);
    expect(await errorOf([{ oid: `${SW}.4.0`, type: I, value: 1 }])).toBe(snmp.ErrorStatus.NotWritable);
  });

  it('ignoreProvisioningUpgrade(3) / allow(2) go to the daemon (persisted there) and read back', async () => {
    expect(await errorOf([{ oid: `${SW}.3.0`, type: I, value: 3 }])).toBe(0);
    await tick();
    expect(daemon.state.ignoreProvisioning).toBe(true);
    expect(await value(s, `${SW}.3.0`)).toBe(3);
    expect(await errorOf([{ oid: `${SW}.3.0`, type: I, value: 2 }])).toBe(0);
    await tick();
    expect(daemon.state.ignoreProvisioning).toBe(false);
    expect(await value(s, `${SW}.3.0`)).toBe(2);
  });
});
