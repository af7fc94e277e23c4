/**
 * The LEG's SNMP face (`cpe-agent leg run` with an `snmp` section in the LEG config): the
 * subscriber database as CPE-AGENT-MIB cpeLeg (agent/snmp/leg-tables.ts), standalone on UDP
 * (with a system group of its own: sysObjectID cpeAgentLeg) or as an AgentX subagent of a
 * Net-SNMP snmpd; logon/logout notifications (agent/snmp/leg-notify.ts), off by default.
 *
 * The tables read the database through their own read-only connection: they show what the
 * LEG committed, at most one batch (batch.maxDelayMs) behind its events.
 */
import { hostname } from 'node:os';
import type * as z from '../util/zod.ts';
import snmp, { type Mib, type MibRequest } from 'net-snmp';
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from '../log.ts';
import { AgentError } from '../errors.ts';
import { snmpSchema, type SnmpConfig } from '../config/schema.ts';
import { openReadOnly } from '../leg/queries.ts';
import type { LegEvent } from '../leg/events.ts';
import { createMib } from './lib.ts';
import { AgentxLink } from './agentx.ts';
import { startStandalone } from './standalone.ts';
import { attachVirtual, fixGetBulk, type AgentxTarget, type BulkAgent } from './virtual.ts';
import { counter64Ber, legTables } from './leg-tables.ts';
import { legNotifier, subscriberNotificationsSchema, type LegNotifier } from './leg-notify.ts';
import { openManagers } from './notify.ts';

export interface LegSnmpConfig {
  snmp: SnmpConfig;
  subscriberNotifications: z.infer<typeof subscriberNotificationsSchema>;
}

/** The LEG config's `snmp` section: the agent's snmp keys plus `subscriberNotifications`. */
export function parseLegSnmp(input: unknown, where = 'config'): LegSnmpConfig {
  const fail = (path: ReadonlyArray<PropertyKey>, message: string): never => {
    const p = ['snmp', ...path.map(String)].join('.');
    throw new AgentError('CONFIG_INVALID', `${where}: ${p}: ${message}`, { path: p });
  };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return fail([], 'expected an object');
  const { subscriberNotifications, ...rest } = input as Record<string, unknown>;
  const s = snmpSchema.safeParse(rest);
  if (!s.success) return fail(s.error.issues[0]?.path ?? [], s.error.issues[0]?.message ?? 'invalid');
  const n = subscriberNotificationsSchema.safeParse(subscriberNotifications ?? {});
  if (!n.success) return fail(['subscriberNotifications', ...(n.error.issues[0]?.path ?? [])], n.error.issues[0]?.message ?? 'invalid');
  return { snmp: s.data, subscriberNotifications: n.data };
}

export interface LegSnmp {
  /** UDP port bound (standalone); 0 in AgentX mode */
  port: number;
  agentx?: AgentxLink;
  notifier: LegNotifier;
  /** the engine's event lines (JSON lines, as the sink gets them) */
  events(lines: string): void;
  close(): Promise<void>;
}

/** sysDescr, sysObjectID (cpeAgentLeg), sysUpTime, sysContact, sysName, sysLocation. */
function registerSystem(mib: Mib, cfg: SnmpConfig, version: string, sysName: string): void {
  const started = Date.now();
  const scalars: Array<[string, number, number, () => string | number]> = [
    ['sysDescr', 1, snmp.ObjectType.OctetString, () => `cpe-agent ${version} DHCP login event generator`],
    ['sysObjectID', 2, snmp.ObjectType.OID, () => `${cfg.enterpriseOid}.1.2.2`],
    ['sysUpTime', 3, snmp.ObjectType.TimeTicks, () => Math.floor((Date.now() - started) / 10) % 2 ** 32],
    ['sysContact', 4, snmp.ObjectType.OctetString, () => cfg.sysContact],
    ['sysName', 5, snmp.ObjectType.OctetString, () => sysName],
    ['sysLocation', 6, snmp.ObjectType.OctetString, () => cfg.sysLocation],
  ];
  for (const [name, n, type, get] of scalars) {
    mib.registerProvider({
      name,
      type: snmp.MibProviderType.Scalar,
      oid: `1.3.6.1.2.1.1.${n}`,
      scalarType: type as 4,
      maxAccess: snmp.MaxAccess['read-only'],
      handler: (req: MibRequest) => {
        req.instanceNode.value = get();
        req.done();
      },
    });
    mib.setScalarValue(name, get());
  }
}

export async function startLegSnmp(c: LegSnmpConfig, stateDir: string, version: string, log: Logger): Promise<LegSnmp> {
  const cfg = c.snmp;
  const slog = log.child({ module: 'snmp' });
  const notifier = legNotifier(c.subscriberNotifications, openManagers(cfg, slog), cfg.enterpriseOid, slog);
  const events = (lines: string): void => {
    if (!notifier.enabled) return;
    for (const l of lines.split('\n')) if (l) notifier.event(JSON.parse(l) as LegEvent);
  };
  const db: DatabaseSync = openReadOnly(stateDir);
  const oid = `${cfg.enterpriseOid}.1.1.5`;
  const mib = createMib();
  const agentx = cfg.mode === 'agentx';
  const tables = legTables(db, { oid, counter64: agentx ? (n) => BigInt(Math.max(0, Math.floor(n))) : counter64Ber });
  const virtual = attachVirtual(mib, tables.regions, { begin: tables.begin, end: tables.end });
  const closeDb = (): void => {
    tables.end();
    db.close();
  };
  if (agentx) {
    const link = new AgentxLink({
      master: cfg.agentx.master,
      mib,
      regions: [oid],
      log: slog,
      description: `cpe-agent ${version} LEG`,
      onSubagent: (sub) => virtual.serveAgentx(sub as unknown as AgentxTarget),
    });
    link.start();
    return {
      port: 0,
      agentx: link,
      notifier,
      events,
      close: async () => {
        notifier.close();
        await link.close();
        closeDb();
      },
    };
  }
  const sysName = cfg.sysName ?? hostname();
  registerSystem(mib, cfg, version, sysName);
  let s;
  try {
    s = await startStandalone(cfg, mib, sysName, slog);
  } catch (e) {
    notifier.close();
    closeDb();
    throw e;
  }
  const standalone = s;
  virtual.serve(standalone.agent);
  fixGetBulk(standalone.agent as unknown as BulkAgent);
  return {
    port: standalone.port,
    notifier,
    events,
    close: async () => {
      notifier.close();
      await standalone.close();
      closeDb();
    },
  };
}
