/**
 * The agent's SNMP face: one Mib (agent/snmp/objects.ts) over the daemon's status model,
 * served standalone on UDP (agent/snmp/standalone.ts) or through a Net-SNMP master as an
 * AgentX subagent (agent/snmp/agentx.ts). Started by `cpe-agent run` when the
 * config has an `snmp` section; nothing else imports this folder.
 */
import { hostname } from 'node:os';
import { createMib } from './lib.ts';
import type { Logger } from '../log.ts';
import type { AgentConfig, SnmpConfig } from '../config/schema.ts';
import type { StatusSnapshot } from '../status/model.ts';
import { AgentxLink } from './agentx.ts';
import { OID, counterObjects, currentVersionObject, enterpriseObjects, resetObject, systemObjects, type SecurityCounters, type View } from './objects.ts';
import { prepareSet, registerScalars } from './mib.ts';
import { resetNow, type SnmpDaemon } from './actions.ts';
import { startStandalone, type Standalone } from './standalone.ts';
import { docsSoftware } from './docsis.ts';
import { createNotifier } from './notify.ts';

export type { SnmpDaemon } from './actions.ts';

export interface SnmpService {
  /** UDP port actually bound (standalone); 0 in AgentX mode */
  port: number;
  counters: SecurityCounters;
  /** AgentX mode: the link to the master */
  agentx?: AgentxLink;
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

/**
 * `onActivity`: called on each request (run passes agent/util/heap.ts compactHeapSoon: a walk
 * leaves garbage that is collected 0.5 s after the last request instead of about 8 s later).
 */
export async function startSnmp(config: AgentConfig, daemon: SnmpDaemon, log: Logger, onActivity?: () => void): Promise<SnmpService | null> {
  const cfg: SnmpConfig | undefined = config.snmp;
  if (!cfg) return null;
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
  const notifier = createNotifier(cfg, () => daemon.status(), slog);
  daemon.onHistory((e) => notifier.send(e));
  const docs = docsSoftware(daemon, config.policy.ignoreProvisioning, slog);
  const ours = [resetObject(), currentVersionObject(), ...docs.objects, ...enterpriseObjects(cfg.enterpriseOid)];
  const writables = { docsDevResetNow: resetNow(daemon, slog), ...docs.writables };
  if (cfg.mode === 'agentx') {
    // snmpd serves the system group and does the access control; we serve our subtrees
    registerScalars(mib, ours, source, writables);
    const link = new AgentxLink({
      master: cfg.agentx.master,
      mib,
      regions: [OID.docsDevResetNow, OID.docsDevSoftware, `${cfg.enterpriseOid}.1.1`],
      log: slog,
      description: `cpe-agent ${config.vendorClass}`,
      beforeSet: (vbs) => {
        prepareSet(mib, vbs);
        docs.preview(vbs);
      },
      ...(onActivity ? { onActivity } : {}),
    });
    link.start();
    return { port: 0, counters, agentx: link, close: () => (notifier.close(), link.close()) };
  }
  registerScalars(mib, [...systemObjects(), ...counterObjects(), ...ours], source, writables);
  standalone = await startStandalone(cfg, mib, sysName, slog, (vbs) => docs.preview(vbs), onActivity);
  const s = standalone;
  return { port: s.port, counters: s.guard.counters, close: () => (notifier.close(), s.close()) };
}
