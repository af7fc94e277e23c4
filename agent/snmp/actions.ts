/**
 * What SNMP sets do to the agent. Every action goes through the daemon's own paths:
 * docsDevResetNow true(1) → Daemon.requestReboot('snmp') (release the lease, flush the state,
 * reboot through the platform), once, on the commit pass only.
 */
import snmp, { type ErrorStatusValue, type VarbindValue } from 'net-snmp';
import type { Logger } from '../log.ts';
import type { Writable } from './mib.ts';
import { FALSE, TRUE } from './objects.ts';

/** The part of the daemon SNMP uses (agent/daemon/service.ts Daemon satisfies it). */
export interface SnmpDaemon {
  status(): import('../status/model.ts').StatusSnapshot;
  requestReboot(source: 'snmp'): Promise<void>;
  /** docsDevSwAdminStatus upgradeFromMgt(1); throws when an upgrade or reboot is in progress */
  requestManagementUpgrade(req: { server: string; file: string }): void;
  /** docsDevSwAdminStatus allow(2) / ignore(3) provisioning upgrades; persisted */
  setIgnoreProvisioning(ignore: boolean): Promise<void>;
  /** each new history entry (notifications) */
  onHistory(fn: (e: import('../state/schema.ts').HistoryEntry) => void): void;
}

export function resetNow(daemon: SnmpDaemon, log: Logger): Writable {
  let fired = false;
  return {
    test(v: VarbindValue | undefined): ErrorStatusValue {
      return v === TRUE || v === FALSE ? snmp.ErrorStatus.NoError : snmp.ErrorStatus.WrongValue;
    },
    commit(v) {
      if (v !== TRUE || fired) return;
      fired = true;
      log.info({ event: 'snmp.reset' }, 'docsDevResetNow set to true: releasing the lease and rebooting');
      // after the response has gone out
      setImmediate(() => void daemon.requestReboot('snmp').catch((e: unknown) => log.error({ event: 'snmp.reset.failed', error: e instanceof Error ? e.message : String(e) }, 'SNMP reboot failed')));
    },
  };
}
