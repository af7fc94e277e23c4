/**
 * The agent's SNMP face: one Mib (agent/snmp/objects.ts) over the daemon's status model,
 * served standalone on UDP (agent/snmp/standalone.ts). Started by `cpe-agent run` when the
 * config has an `snmp` section; nothing else imports this folder.
 */
import { hostname } from 'node:os';
import { createMib } from './lib.ts';
import type { Logger } from '../log.ts';
import type { AgentConfig, SnmpConfig } from '../config/schema.ts';
import { AgentError } from '../errors.ts';
import type { StatusSnapshot } from '../status/model.ts';
import { counterObjects, currentVersionObject, enterpriseObjects, resetObject, systemObjects, type SecurityCounters, type View } from './objects.ts';
import { registerScalars } from './mib.ts';
import { resetNow, type SnmpDaemon } from './actions.ts';
import { startStandalone, type Standalone } from './standalone.ts';
import { docsSoftware } from './docsis.ts';

export type { SnmpDaemon } from './actions.ts';

export interface SnmpService {
  /** UDP port actually bound (standalone) */
  port: number;
  counters: SecurityCounters;
  close(): Promise<void>;
}

/** Status once per event-loop turn: a walk of 40 objects builds the snapshot once, not 40 times. */
function viewSource(daemon: SnmpDaemon, base: Omit<View, 'status' | 'uptimeTicks'>, startedAt: number): { view(): View } {
  let cached: StatusSnapshot | undefined;
  return {
    view() {
      if (!cached) {
        cached = daemon.status();
        setImmediate(() => (cached = undefined));
      }
      return { ...base, status: cached, uptimeTicks: Math.floor((Date.now() - startedAt) / 10) };
    },
  };
}

export async function startSnmp(config: AgentConfig, daemon: SnmpDaemon, log: Logger): Promise<SnmpService | null> {
  const cfg: SnmpConfig | undefined = config.snmp;
  if (!cfg) return null;
  if (cfg.mode === 'agentx') throw new AgentError('SNMP_MODE', 'snmp.mode agentx is not available in this build; use standalone', { path: 'snmp.mode' });
  const slog = log.child({ module: 'snmp' });
  const sysName = cfg.sysName ?? hostname();
  const counters: SecurityCounters = { snmpInBadVersions: 0, snmpInBadCommunityNames: 0, usmStatsUnknownUserNames: 0, usmStatsWrongDigests: 0, usmStatsDecryptionErrors: 0 };
  let standalone: Standalone | undefined;
  const source = viewSource(
    daemon,
    {
      sysName,
      sysContact: cfg.sysContact,
      sysLocation: cfg.sysLocation,
      model: config.vendorClass,
      enterprise: cfg.enterpriseOid,
      get counters() {
        return standalone?.guard.counters ?? counters;
      },
    },
    Date.now(),
  );
  const mib = createMib();
  const docs = docsSoftware(daemon, config.policy.ignoreProvisioning, slog);
  registerScalars(mib, [...systemObjects(), ...counterObjects(), resetObject(), currentVersionObject(), ...docs.objects, ...enterpriseObjects(cfg.enterpriseOid)], source, {
    docsDevResetNow: resetNow(daemon, slog),
    ...docs.writables,
  });
  standalone = await startStandalone(cfg, mib, sysName, slog, (vbs) => docs.preview(vbs));
  const s = standalone;
  return { port: s.port, counters: s.guard.counters, close: () => s.close() };
}
