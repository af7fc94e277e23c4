/**
 * The modem's SNMP objects as data: OID, SMI type, access, and a getter from the one status
 * model (agent/status/model.ts). Pure: no library, no I/O. agent/snmp/mib.ts turns these into
 * net-snmp providers; mibs/CPE-AGENT-MIB.txt declares the enterprise part.
 *
 *   SNMPv2-MIB system group        1.3.6.1.2.1.1          (standalone mode only)
 *   DOCS-CABLE-DEVICE-MIB objects  1.3.6.1.2.1.69.1.1.3 docsDevResetNow, 69.1.3 docsDevSoftware
 *   CPE-AGENT-MIB                  <enterprise>.1.1       offer, images, upgrade
 */
import type { StatusSnapshot, RuntimePhase } from '../status/model.ts';

/** SMI types used here (the numbers are the BER tags net-snmp uses). */
export const T = { Integer: 2, OctetString: 4, OID: 6, IpAddress: 64, Counter32: 65, Gauge32: 66, TimeTicks: 67 } as const;
export type SmiType = (typeof T)[keyof typeof T];
export type Value = string | number | Buffer;

export interface View {
  status: StatusSnapshot;
  /** hundredths of a second since the SNMP engine started */
  uptimeTicks: number;
  sysName: string;
  sysContact: string;
  sysLocation: string;
  model: string;
  enterprise: string;
  counters: SecurityCounters;
}

export interface SecurityCounters {
  snmpInBadVersions: number;
  snmpInBadCommunityNames: number;
  usmStatsUnknownUserNames: number;
  usmStatsWrongDigests: number;
  usmStatsDecryptionErrors: number;
}

export interface ScalarDef {
  /** the MIB name (also the provider name) */
  name: string;
  /** object OID without the `.0` instance */
  oid: string;
  type: SmiType;
  writable?: boolean;
  get(v: View): Value;
}

export const OID = {
  system: '1.3.6.1.2.1.1',
  snmp: '1.3.6.1.2.1.11',
  usmStats: '1.3.6.1.6.3.15.1.1',
  docsDevResetNow: '1.3.6.1.2.1.69.1.1.3',
  docsDevSoftware: '1.3.6.1.2.1.69.1.3',
} as const;

/** TruthValue (SNMPv2-TC). */
export const TRUE = 1;
export const FALSE = 2;
const truth = (b: boolean): number => (b ? TRUE : FALSE);

/** cpeDaemonPhase enumeration (CPE-AGENT-MIB); 0 = the daemon does not run. */
export const PHASES: readonly RuntimePhase[] = ['starting', 'waiting-for-lease', 'deciding', 'downloading', 'staging', 'idle', 'waiting', 'rebooting', 'stopped'];
export const phaseNumber = (p: RuntimePhase | null): number => (p === null ? 0 : PHASES.indexOf(p) + 1);

const slotNumber = (s: 'A' | 'B' | undefined): number => (s === 'A' ? 1 : s === 'B' ? 2 : 0);
const gauge = (n: number): number => Math.max(0, Math.min(0xffffffff, Math.floor(n)));
const text = (s: string | null | undefined): string => s ?? '';

/** The system group (SNMPv2-MIB); sysObjectID is <enterprise>.1.2.1 (CPE-AGENT-MIB cpeAgentModem). */
export function systemObjects(): ScalarDef[] {
  const s = OID.system;
  return [
    {
      name: 'sysDescr',
      oid: `${s}.1`,
      type: T.OctetString,
      get: (v) => `cpe-agent ${v.model} running ${v.status.running?.version ?? 'unknown version'} (slot ${v.status.running?.slot ?? '?'})`,
    },
    { name: 'sysObjectID', oid: `${s}.2`, type: T.OID, get: (v) => `${v.enterprise}.1.2.1` },
    { name: 'sysUpTime', oid: `${s}.3`, type: T.TimeTicks, get: (v) => gauge(v.uptimeTicks) },
    { name: 'sysContact', oid: `${s}.4`, type: T.OctetString, get: (v) => v.sysContact },
    { name: 'sysName', oid: `${s}.5`, type: T.OctetString, get: (v) => v.sysName },
    { name: 'sysLocation', oid: `${s}.6`, type: T.OctetString, get: (v) => v.sysLocation },
    // sysServices: application layer (7) → 2^(7-1)
    { name: 'sysServices', oid: `${s}.7`, type: T.Integer, get: () => 64 },
  ];
}

/** Authentication failure counters (SNMPv2-MIB snmp group, SNMP-USER-BASED-SM-MIB usmStats). */
export function counterObjects(): ScalarDef[] {
  return [
    { name: 'snmpInBadVersions', oid: `${OID.snmp}.3`, type: T.Counter32, get: (v) => v.counters.snmpInBadVersions },
    { name: 'snmpInBadCommunityNames', oid: `${OID.snmp}.4`, type: T.Counter32, get: (v) => v.counters.snmpInBadCommunityNames },
    { name: 'usmStatsUnknownUserNames', oid: `${OID.usmStats}.3`, type: T.Counter32, get: (v) => v.counters.usmStatsUnknownUserNames },
    { name: 'usmStatsWrongDigests', oid: `${OID.usmStats}.5`, type: T.Counter32, get: (v) => v.counters.usmStatsWrongDigests },
    { name: 'usmStatsDecryptionErrors', oid: `${OID.usmStats}.6`, type: T.Counter32, get: (v) => v.counters.usmStatsDecryptionErrors },
  ];
}

/** docsDevResetNow: reads false(2); its set is handled by agent/snmp/actions.ts. */
export function resetObject(): ScalarDef {
  return { name: 'docsDevResetNow', oid: OID.docsDevResetNow, type: T.Integer, writable: true, get: () => FALSE };
}

/** docsDevSwCurrentVers (RFC 4639): the running image's version. */
export function currentVersionObject(): ScalarDef {
  return { name: 'docsDevSwCurrentVers', oid: `${OID.docsDevSoftware}.5`, type: T.OctetString, get: (v) => text(v.status.running?.version) };
}

/** CPE-AGENT-MIB: cpeAgentObjects = <enterprise>.1.1 */
export function enterpriseObjects(enterprise: string): ScalarDef[] {
  const o = `${enterprise}.1.1`;
  const offer = (v: View): NonNullable<StatusSnapshot['lastOffer']> | null => v.status.lastOffer;
  const progress = (v: View): StatusSnapshot['daemon']['progress'] => v.status.daemon.progress;
  return [
    // cpeOffer: the last option 43 offer seen (never the password)
    { name: 'cpeOfferProtocol', oid: `${o}.1.1`, type: T.Integer, get: (v) => (offer(v)?.protocol === 'tftp' ? 1 : offer(v)?.protocol === 'ftp' ? 2 : 0) },
    { name: 'cpeOfferServer', oid: `${o}.1.2`, type: T.OctetString, get: (v) => text(offer(v)?.server) },
    { name: 'cpeOfferUser', oid: `${o}.1.3`, type: T.OctetString, get: (v) => text(offer(v)?.user) },
    { name: 'cpeOfferFile', oid: `${o}.1.4`, type: T.OctetString, get: (v) => text(offer(v)?.softwareFile) },
    { name: 'cpeOfferMd5', oid: `${o}.1.5`, type: T.OctetString, get: (v) => text(offer(v)?.softwareMd5) },
    { name: 'cpeOfferUrgent', oid: `${o}.1.6`, type: T.Integer, get: (v) => truth(offer(v)?.urgent === true) },
    { name: 'cpeOfferTime', oid: `${o}.1.7`, type: T.OctetString, get: (v) => text(v.status.lastOfferAt) },
    // cpeImage: running and staged slot
    { name: 'cpeRunningSlot', oid: `${o}.2.1`, type: T.Integer, get: (v) => slotNumber(v.status.running?.slot) },
    { name: 'cpeRunningVersion', oid: `${o}.2.2`, type: T.OctetString, get: (v) => text(v.status.running?.version) },
    { name: 'cpeRunningMd5', oid: `${o}.2.3`, type: T.OctetString, get: (v) => text(v.status.running?.md5) },
    { name: 'cpeStagedSlot', oid: `${o}.2.4`, type: T.Integer, get: (v) => slotNumber(v.status.staged?.slot) },
    { name: 'cpeStagedVersion', oid: `${o}.2.5`, type: T.OctetString, get: (v) => text(v.status.staged?.version) },
    { name: 'cpeStagedMd5', oid: `${o}.2.6`, type: T.OctetString, get: (v) => text(v.status.staged?.md5) },
    { name: 'cpeRebootPending', oid: `${o}.2.7`, type: T.Integer, get: (v) => truth(v.status.staged !== null) },
    { name: 'cpeTrialBoot', oid: `${o}.2.8`, type: T.Integer, get: (v) => truth(v.status.daemon.trial) },
    // cpeUpgrade: state, attempts, last error, daemon phase, download progress
    { name: 'cpeAgentState', oid: `${o}.3.1`, type: T.OctetString, get: (v) => v.status.state },
    { name: 'cpeAttemptCount', oid: `${o}.3.2`, type: T.Gauge32, get: (v) => gauge(v.status.attempts.failures) },
    { name: 'cpeAttemptFailuresTotal', oid: `${o}.3.3`, type: T.Counter32, get: (v) => gauge(v.status.attempts.totalFailures) },
    { name: 'cpeLastErrorCode', oid: `${o}.3.4`, type: T.OctetString, get: (v) => text(v.status.lastError?.code) },
    { name: 'cpeLastErrorText', oid: `${o}.3.5`, type: T.OctetString, get: (v) => text(v.status.lastError?.message).slice(0, 255) },
    { name: 'cpeLastErrorTime', oid: `${o}.3.6`, type: T.OctetString, get: (v) => text(v.status.lastError?.at) },
    { name: 'cpeDaemonPhase', oid: `${o}.3.7`, type: T.Integer, get: (v) => phaseNumber(v.status.daemon.phase) },
    { name: 'cpeDownloadFile', oid: `${o}.3.8`, type: T.OctetString, get: (v) => text(progress(v)?.file) },
    { name: 'cpeDownloadBytes', oid: `${o}.3.9`, type: T.Gauge32, get: (v) => gauge(progress(v)?.bytes ?? 0) },
    { name: 'cpeDownloadTotal', oid: `${o}.3.10`, type: T.Gauge32, get: (v) => gauge(progress(v)?.total ?? 0) },
    {
      name: 'cpeDownloadPercent',
      oid: `${o}.3.11`,
      type: T.Gauge32,
      get: (v) => {
        const p = progress(v);
        return p && p.total ? gauge((100 * p.bytes) / p.total) : 0;
      },
    },
  ];
}
