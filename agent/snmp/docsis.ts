/**
 * docsDevSoftware (DOCS-CABLE-DEVICE-MIB, RFC 4639, 1.3.6.1.2.1.69.1.3): the management
 * upgrade. Server address and file name are the manager's inputs for the next upgrade (kept
 * here, not state); AdminStatus and OperStatus are views of the status model and act through
 * the daemon (requestManagementUpgrade, setIgnoreProvisioning — persisted).
 *
 *   .1 Server (IpAddress, deprecated)  .2 Filename  .3 AdminStatus  .4 OperStatus  .5 CurrentVers
 *   .6 ServerAddressType  .7 ServerAddress (4 bytes)  .8 ServerTransportProtocol tftp(1) (http(2): wrongValue)
 *
 * Every set of this group while an upgrade is in progress → inconsistentValue.
 */
import snmp, { type VarbindValue } from 'net-snmp';
import { isIPv4 } from 'node:net';
import type { Logger } from '../log.ts';
import type { StatusSnapshot } from '../status/model.ts';
import type { Writable } from './mib.ts';
import { OID, T, type ScalarDef } from './objects.ts';
import type { SnmpDaemon } from './actions.ts';

export const ADMIN = { upgradeFromMgt: 1, allowProvisioningUpgrade: 2, ignoreProvisioningUpgrade: 3 } as const;
export const OPER = { inProgress: 1, completeFromProvisioning: 2, completeFromMgt: 3, failed: 4, other: 5 } as const;
const IPV4 = 1;
const TFTP = 1;

const E = snmp.ErrorStatus;

export function operStatus(s: StatusSnapshot): number {
  if (s.daemon.phase === 'downloading' || s.daemon.phase === 'staging') return OPER.inProgress;
  const u = s.upgrade;
  if (!u) return OPER.other;
  if (u.result === 'failed') return OPER.failed;
  return u.source === 'management' ? OPER.completeFromMgt : OPER.completeFromProvisioning;
}

const latin1 = (v: VarbindValue | undefined): Buffer | null => (typeof v === 'string' ? Buffer.from(v, 'latin1') : null);

export interface DocsSoftware {
  objects: ScalarDef[];
  writables: Record<string, Writable>;
  /** sees a whole SET PDU before its varbinds are tested one by one (AdminStatus may come first) */
  preview(varbinds: ReadonlyArray<{ oid: string; value: unknown }>): void;
}

export function docsSoftware(daemon: SnmpDaemon, configIgnoresProvisioning: boolean, log: Logger): DocsSoftware {
  const b = OID.docsDevSoftware;
  const last = daemon.status().upgrade;
  const m = {
    server: last?.source === 'management' && last.server && isIPv4(last.server) ? last.server : null,
    file: last?.source === 'management' ? last.file : '',
    /** a management upgrade was asked for and the daemon has not shown it yet */
    starting: false,
    /** the current or last upgrade was asked for here */
    requested: false,
  };
  /** server and file named in the SET being processed (its varbinds are tested one by one) */
  let tentative: { server?: string | null; file?: string } = {};
  const preview = (varbinds: ReadonlyArray<{ oid: string; value: unknown }>): void => {
    const t: typeof tentative = {};
    for (const vb of varbinds) {
      if (typeof vb.value !== 'string') continue;
      if (vb.oid === `${b}.1.0` && isIPv4(vb.value)) t.server = vb.value === '0.0.0.0' ? null : vb.value;
      const buf = Buffer.from(vb.value, 'latin1');
      if (vb.oid === `${b}.7.0` && (buf.length === 4 || buf.length === 0)) t.server = buf.length === 4 ? [...buf].join('.') : null;
      if (vb.oid === `${b}.2.0`) t.file = buf.toString('utf8');
    }
    tentative = t;
    if (Object.keys(t).length > 0) setImmediate(() => (tentative = {}));
  };
  const busy = (): boolean => m.starting || operStatus(daemon.status()) === OPER.inProgress;
  const ipv4Bytes = (ip: string | null): Buffer => (ip ? Buffer.from(ip.split('.').map(Number)) : Buffer.alloc(0));

  const writables: Record<string, Writable> = {
    docsDevSwServer: {
      test: (v) => (busy() ? E.InconsistentValue : typeof v === 'string' && isIPv4(v) ? E.NoError : E.WrongValue),
      commit: (v) => void (m.server = v === '0.0.0.0' ? null : String(v)),
    },
    docsDevSwFilename: {
      test: (v) => {
        if (busy()) return E.InconsistentValue;
        const buf = latin1(v);
        return !buf || buf.length > 64 || buf.includes(0) ? E.WrongValue : E.NoError;
      },
      commit: (v) => void (m.file = Buffer.from(String(v), 'latin1').toString('utf8')),
    },
    docsDevSwAdminStatus: {
      test: (v) => {
        if (busy()) return E.InconsistentValue;
        if (v === ADMIN.upgradeFromMgt) {
          const server = 'server' in tentative ? tentative.server : m.server;
          const file = tentative.file ?? m.file;
          return server && file ? E.NoError : E.InconsistentValue;
        }
        return v === ADMIN.allowProvisioningUpgrade || v === ADMIN.ignoreProvisioningUpgrade ? E.NoError : E.WrongValue;
      },
      commit: (v) => {
        if (v === ADMIN.upgradeFromMgt) {
          m.starting = true;
          m.requested = true;
          // after every varbind of this set is committed (server and file may follow)
          setImmediate(() => {
            try {
              if (!m.server || !m.file) throw new Error('server or file name missing');
              daemon.requestManagementUpgrade({ server: m.server, file: m.file });
            } catch (e) {
              log.warn({ event: 'snmp.mgmt.refused', error: e instanceof Error ? e.message : String(e) }, 'management upgrade not started');
            } finally {
              setTimeout(() => (m.starting = false), 200);
            }
          });
        } else {
          void daemon.setIgnoreProvisioning(v === ADMIN.ignoreProvisioningUpgrade).catch((e: unknown) => log.error({ event: 'snmp.policy.failed', error: e instanceof Error ? e.message : String(e) }, 'policy not saved'));
        }
      },
    },
    // only ipv4(1), or unknown(0) with an empty address
    docsDevSwServerAddressType: {
      test: (v) => (busy() ? E.InconsistentValue : v === IPV4 || v === 0 ? E.NoError : E.WrongValue),
      commit: () => undefined,
    },
    docsDevSwServerAddress: {
      test: (v) => {
        if (busy()) return E.InconsistentValue;
        const buf = latin1(v);
        return !buf || (buf.length !== 4 && buf.length !== 0) ? E.WrongValue : E.NoError;
      },
      commit: (v) => {
        const buf = Buffer.from(String(v), 'latin1');
        m.server = buf.length === 4 ? [...buf].join('.') : null;
      },
    },
    docsDevSwServerTransportProtocol: {
      test: (v) => (busy() ? E.InconsistentValue : v === TFTP ? E.NoError : E.WrongValue),
      commit: () => undefined,
    },
  };

  const objects: ScalarDef[] = [
    { name: 'docsDevSwServer', oid: `${b}.1`, type: T.IpAddress, writable: true, get: () => m.server ?? '0.0.0.0' },
    { name: 'docsDevSwFilename', oid: `${b}.2`, type: T.OctetString, writable: true, get: () => m.file },
    {
      name: 'docsDevSwAdminStatus',
      oid: `${b}.3`,
      type: T.Integer,
      writable: true,
      get: (v) => {
        if (m.starting || (m.requested && operStatus(v.status) === OPER.inProgress)) return ADMIN.upgradeFromMgt;
        return (v.status.ignoreProvisioning ?? configIgnoresProvisioning) ? ADMIN.ignoreProvisioningUpgrade : ADMIN.allowProvisioningUpgrade;
      },
    },
    { name: 'docsDevSwOperStatus', oid: `${b}.4`, type: T.Integer, get: (v) => (m.starting ? OPER.inProgress : operStatus(v.status)) },
    { name: 'docsDevSwServerAddressType', oid: `${b}.6`, type: T.Integer, writable: true, get: () => (m.server ? IPV4 : 0) },
    { name: 'docsDevSwServerAddress', oid: `${b}.7`, type: T.OctetString, writable: true, get: () => ipv4Bytes(m.server) },
    { name: 'docsDevSwServerTransportProtocol', oid: `${b}.8`, type: T.Integer, writable: true, get: () => TFTP },
  ];
  return { objects, writables, preview };
}
