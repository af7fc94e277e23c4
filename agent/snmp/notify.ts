/**
 * Notifications to the configured managers (snmp.notify): v2c traps, v3 informs (acknowledged,
 * retried). Sent for the daemon's history entries (Daemon.onHistory), in the order they happen:
 *
 *   cpeImageStaged(1)     staged           cpeStagedSlot, cpeStagedVersion, cpeStagedMd5
 *   cpeUpgradeFailed(2)   download/verify failed   cpeLastErrorCode, cpeLastErrorText
 *   cpeRebooting(3)       reboot-requested cpeEventDetail (the reason)
 *   cpeBootedNewImage(4)  booted a newly staged slot   cpeRunningSlot, cpeRunningVersion, cpeRunningMd5
 *   cpeRollback(5)        fallback         cpeRunningSlot, cpeEventDetail
 *
 * Notification OIDs are <enterprise>.1.4.0.N (CPE-AGENT-MIB cpeAgentNotifications).
 */
import snmp, { type Session, type Varbind } from 'net-snmp';
import type { Logger } from '../log.ts';
import type { SnmpConfig } from '../config/schema.ts';
import type { HistoryEntry } from '../state/schema.ts';
import type { StatusSnapshot } from '../status/model.ts';

export const NOTIFICATIONS = { cpeImageStaged: 1, cpeUpgradeFailed: 2, cpeRebooting: 3, cpeBootedNewImage: 4, cpeRollback: 5 } as const;

const slotNumber = (s: 'A' | 'B' | null | undefined): number => (s === 'A' ? 1 : s === 'B' ? 2 : 0);

/** The notification for a history entry, or null (pure). */
export function notificationFor(e: HistoryEntry, status: StatusSnapshot, enterprise: string): { oid: string; varbinds: Varbind[] } | null {
  const o = `${enterprise}.1.1`;
  const str = (oid: string, v: string | null | undefined): Varbind => ({ oid: `${oid}.0`, type: snmp.ObjectType.OctetString, value: v ?? '' });
  const int = (oid: string, v: number): Varbind => ({ oid: `${oid}.0`, type: snmp.ObjectType.Integer, value: v });
  const n = (k: keyof typeof NOTIFICATIONS): string => `${enterprise}.1.4.0.${NOTIFICATIONS[k]}`;
  switch (e.event) {
    case 'staged':
      return { oid: n('cpeImageStaged'), varbinds: [int(`${o}.2.4`, slotNumber(e.slot)), str(`${o}.2.5`, e.version), str(`${o}.2.6`, e.md5)] };
    case 'download-failed':
    case 'verify-failed':
      return { oid: n('cpeUpgradeFailed'), varbinds: [str(`${o}.3.4`, status.lastError?.code), str(`${o}.3.5`, (status.lastError?.message ?? e.detail ?? '').slice(0, 255))] };
    case 'reboot-requested':
      return { oid: n('cpeRebooting'), varbinds: [str(`${o}.4.1`, e.detail)] };
    case 'booted':
      if (!/^(trial )?boot of slot/.test(e.detail ?? '')) return null; // a restart of the same image
      return { oid: n('cpeBootedNewImage'), varbinds: [int(`${o}.2.1`, slotNumber(e.slot)), str(`${o}.2.2`, e.version), str(`${o}.2.3`, e.md5)] };
    case 'fallback':
      return { oid: n('cpeRollback'), varbinds: [int(`${o}.2.1`, slotNumber(e.slot)), str(`${o}.4.1`, e.detail)] };
    default:
      return null;
  }
}

export interface Notifier {
  send(e: HistoryEntry): void;
  close(): void;
}

/** Sessions to the configured managers (snmp.notify): `send` traps (v2c) or informs (v3) to each. */
export interface Managers {
  count: number;
  send(oid: string, varbinds: Varbind[]): void;
  close(): void;
}

export function openManagers(cfg: SnmpConfig, log: Logger): Managers {
  const sessions: Array<{ s: Session; v3: boolean; to: string }> = cfg.notify.map((n) => {
    const to = `${n.host}:${n.port}`;
    if (n.version === 'v3') {
      const u = cfg.users.find((x) => x.name === n.user);
      if (!u) throw new Error(`notify user ${n.user ?? ''} not configured`);
      const s = snmp.createV3Session(
        n.host,
        {
          name: u.name,
          level: snmp.SecurityLevel.authPriv,
          authProtocol: u.authProtocol === 'sha256' ? snmp.AuthProtocols.sha256 : snmp.AuthProtocols.sha,
          authKey: u.authKey,
          privProtocol: snmp.PrivProtocols.aes,
          privKey: u.privKey,
        },
        { port: n.port, trapPort: n.port, retries: n.retries, timeout: n.timeoutSeconds * 1000 },
      );
      return { s, v3: true, to };
    }
    const s = snmp.createSession(n.host, n.community ?? '', { version: snmp.Version2c, trapPort: n.port, port: n.port });
    return { s, v3: false, to };
  });
  for (const x of sessions) x.s.on('error', (e) => log.warn({ event: 'snmp.notify.error', to: x.to, error: e.message }, 'SNMP notification socket error'));
  return {
    count: sessions.length,
    send(oid, varbinds) {
      for (const x of sessions) {
        const done = (err: Error | null): void => {
          if (err) log.warn({ event: 'snmp.notify.failed', to: x.to, notification: oid, error: err.message }, `SNMP ${x.v3 ? 'inform' : 'trap'} to ${x.to} failed`);
          else log.debug({ event: 'snmp.notify.sent', to: x.to, notification: oid }, `SNMP ${x.v3 ? 'inform' : 'trap'} sent`);
        };
        try {
          if (x.v3) x.s.inform(oid, varbinds, done);
          else x.s.trap(oid, varbinds, done);
        } catch (err) {
          done(err instanceof Error ? err : new Error(String(err)));
        }
      }
    },
    close() {
      for (const x of sessions) x.s.close();
    },
  };
}

export function createNotifier(cfg: SnmpConfig, status: () => StatusSnapshot, log: Logger): Notifier {
  const managers = openManagers(cfg, log);
  return {
    send(e) {
      if (managers.count === 0) return;
      const n = notificationFor(e, status(), cfg.enterpriseOid);
      if (n) managers.send(n.oid, n.varbinds);
    },
    close: () => managers.close(),
  };
}
