/**
 * The standalone SNMP agent over a fake daemon's status model, with npm net-snmp as the
 * manager on 127.0.0.1: values from the model, docsDevResetNow once on commit, the right
 * errors, and refusals (community, v1, v3 key) counted and changing nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import snmp, { type Session } from 'net-snmp';
import { configSchema, type ConfigInput } from '../../agent/config/schema.ts';
import { silentLogger } from '../../agent/log.ts';
import { startSnmp, type SnmpService } from '../../agent/snmp/index.ts';
import { FakeDaemon, freePort, RUNNING_MD5 } from './fixtures.ts';
import { get, set, v2, v3, value } from './client.ts';

const USER = { name: 'ops', authKey: 'auth-secret-1', privKey: 'priv-secret-1' };
const READER = { name: 'viewer', authKey: 'auth-secret-2', privKey: 'priv-secret-2' };
const RESET = '1.3.6.1.2.1.69.1.1.3.0';
const E = '1.3.6.1.4.1.32473.1.1';

let daemon: FakeDaemon;
let svc: SnmpService;
let port: number;
const sessions: Session[] = [];
const open = (s: Session): Session => (sessions.push(s), s);

async function start(extra: Partial<NonNullable<ConfigInput['snmp']>> = {}): Promise<void> {
  port = await freePort();
  const cfg = configSchema.parse({
    vendorClass: 'ESH-3105',
    snmp: {
      listen: { address: '127.0.0.1', port },
      community: { read: 'pub-test', write: 'priv-test' },
      users: [{ ...USER, access: 'read-write' }, { ...READER, access: 'read' }],
      sysName: 'cpe-1',
      sysLocation: 'lab',
      ...extra,
    },
  });
  daemon = new FakeDaemon();
  activity = 0;
  const s = await startSnmp(cfg, daemon, silentLogger(), () => void activity++);
  if (!s) throw new Error('no snmp');
  svc = s;
}

/** requests reported to run's heap compaction (onActivity) */
let activity = 0;
beforeEach(() => start());
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await svc.close();
});

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

describe('standalone SNMP agent', () => {
  it('system group and our objects come from the status model', async () => {
    const s = open(v2(port, 'pub-test'));
    expect(await value(s, '1.3.6.1.2.1.1.1.0')).toBe('cpe-agent ESH-3105 running 1.1.0 (slot A)');
    expect(await value(s, '1.3.6.1.2.1.1.2.0')).toBe('1.3.6.1.4.1.32473.1.2.1');
    expect(await value(s, '1.3.6.1.2.1.1.5.0')).toBe('cpe-1');
    expect(await value(s, `${E}.2.2.0`)).toBe(daemon.status().running?.version);
    expect(await value(s, `${E}.2.3.0`)).toBe(RUNNING_MD5);
    expect(await value(s, `${E}.2.5.0`)).toBe('1.2.0');
    expect(await value(s, `${E}.2.7.0`)).toBe(1); // reboot pending
    expect(await value(s, `${E}.3.4.0`)).toBe('FTP_TIMEOUT');
    // the model changes → the next read shows it (no copy kept)
    daemon.state = { ...daemon.state, staged: null };
    await settle();
    expect(await value(s, `${E}.2.7.0`)).toBe(2);
    expect(await value(s, `${E}.2.4.0`)).toBe(0);
  });

  it('docsDevResetNow reads false(2); true(1) with the write community → one reboot, on commit', async () => {
    const s = open(v2(port, 'priv-test'));
    expect(await value(s, RESET)).toBe(2);
    const r = await set(s, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }]);
    expect(r.ok).toBe(true);
    await settle();
    expect(daemon.reboots).toEqual(['snmp']);
    // a second set while the reboot runs does not reboot again
    expect((await set(s, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }])).ok).toBe(true);
    await settle();
    expect(daemon.reboots).toEqual(['snmp']);
    expect(await value(s, RESET)).toBe(2);
  });

  it('false(2) is accepted and does nothing', async () => {
    const s = open(v2(port, 'priv-test'));
    expect((await set(s, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 2 }])).ok).toBe(true);
    await settle();
    expect(daemon.reboots).toEqual([]);
  });

  it('errors: wrongType, wrongValue, notWritable, noAccess (read community), noSuchObject', async () => {
    const w = open(v2(port, 'priv-test'));
    const status = async (p: Promise<{ ok: boolean; error?: Error & { status?: number } }>): Promise<number | undefined> => {
      const r = await p;
      return r.ok ? 0 : r.error?.status;
    };
    expect(await status(set(w, [{ oid: RESET, type: snmp.ObjectType.OctetString, value: '1' }]))).toBe(snmp.ErrorStatus.WrongType);
    // the library alone would cast an Unsigned32 1 to the INTEGER 1 and reboot
    expect(await status(set(w, [{ oid: RESET, type: snmp.ObjectType.Gauge32, value: 1 }]))).toBe(snmp.ErrorStatus.WrongType);
    expect(await status(set(w, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 3 }]))).toBe(snmp.ErrorStatus.WrongValue);
    expect(await status(set(w, [{ oid: '1.3.6.1.2.1.1.1.0', type: snmp.ObjectType.OctetString, value: 'x' }]))).toBe(snmp.ErrorStatus.NotWritable);
    const r = open(v2(port, 'pub-test'));
    expect(await status(set(r, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }]))).toBe(snmp.ErrorStatus.NoAccess);
    const g = await get(r, ['1.3.6.1.4.1.32473.9.9.0']);
    expect(g.ok && g.varbinds[0]?.type).toBe(snmp.ObjectType.NoSuchObject);
    await settle();
    expect(daemon.reboots).toEqual([]);
  });

  it('each admitted request is reported (onActivity: the heap compaction of `run`), a refused one is not', async () => {
    const bad = open(v2(port, 'guess'));
    expect((await set(bad, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }])).ok).toBe(false);
    await settle();
    expect(activity).toBe(0);
    const s = open(v2(port, 'pub-test'));
    await value(s, '1.3.6.1.2.1.1.5.0');
    await value(s, '1.3.6.1.2.1.1.5.0');
    expect(activity).toBe(2);
  });

  it('wrong community and v1 (off by default): no answer, nothing changes, counted', async () => {
    const bad = open(v2(port, 'guess'));
    expect((await set(bad, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }])).ok).toBe(false);
    const v1 = open(v2(port, 'priv-test', snmp.Version1));
    expect((await set(v1, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }])).ok).toBe(false);
    await settle();
    expect(daemon.reboots).toEqual([]);
    const s = open(v2(port, 'pub-test'));
    expect(await value(s, '1.3.6.1.2.1.11.4.0')).toBe(1); // snmpInBadCommunityNames
    expect(await value(s, '1.3.6.1.2.1.11.3.0')).toBe(1); // snmpInBadVersions
  });

  it('SNMPv3 authPriv (SHA-256, AES): read-write user reboots, read user cannot, wrong keys change nothing', async () => {
    const reader = open(v3(port, READER));
    expect(await value(reader, `${E}.2.2.0`)).toBe('1.1.0');
    const denied = await set(reader, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }]);
    expect(denied.ok).toBe(false);
    const wrongAuth = open(v3(port, { ...USER, authKey: 'not-the-key' }));
    expect((await set(wrongAuth, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }])).ok).toBe(false);
    const wrongPriv = open(v3(port, { ...USER, privKey: 'not-the-key' }));
    expect((await set(wrongPriv, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }])).ok).toBe(false);
    const unknown = open(v3(port, { ...USER, name: 'mallory' }));
    expect((await get(unknown, [`${E}.2.2.0`])).ok).toBe(false);
    await settle();
    expect(daemon.reboots).toEqual([]);
    expect(svc.counters.usmStatsWrongDigests + svc.counters.usmStatsDecryptionErrors).toBe(2);
    expect(svc.counters.usmStatsUnknownUserNames).toBeGreaterThanOrEqual(1);

    const ops = open(v3(port, USER));
    expect((await set(ops, [{ oid: RESET, type: snmp.ObjectType.Integer, value: 1 }])).ok).toBe(true);
    await settle();
    expect(daemon.reboots).toEqual(['snmp']);
  });

  it('v1 answers when enabled', async () => {
    await svc.close();
    await start({ v1: true });
    const s = open(v2(port, 'pub-test', snmp.Version1));
    expect(await value(s, '1.3.6.1.2.1.1.5.0')).toBe('cpe-1');
  });
});
