/**
 * LEG logon/logout notifications (CPE-AGENT-MIB cpeLegLogon(6), cpeLegLogout(7)) to the
 * managers of snmp.notify. Off by default (`snmp.subscriberNotifications.enabled`); when on,
 * a token bucket limits them to `maxPerSecond` (bursts of up to `burst`): a LEG that logs on
 * 10⁴ subscribers after a DHCP server restart must not flood the NMS. What the bucket drops
 * is counted and logged once per minute at most.
 *
 *   logon                       → cpeLegLogon  (subscriber, ip, package)
 *   logout, auto-logout         → cpeLegLogout (subscriber, ip, reason)
 *   extend, rejected, modem logon without an IP → nothing
 */
import * as z from '../util/zod.ts';
import snmp, { type Varbind } from 'net-snmp';
import type { Logger } from '../log.ts';
import type { LegEvent } from '../leg/events.ts';
import type { Managers } from './notify.ts';

export const subscriberNotificationsSchema = z.strictObject({
  /** send cpeLegLogon / cpeLegLogout to the managers of snmp.notify */
  enabled: z._default(z.boolean(), false),
  /** sustained rate … */
  maxPerSecond: z._default(z.number().check(z.gte(0.01), z.lte(10_000)), 10),
  /** … and the burst above it (default: one second's worth, at least 1) */
  burst: z.optional(z.int().check(z.gte(1), z.lte(100_000))),
});

export const LEG_NOTIFICATIONS = { cpeLegLogon: 6, cpeLegLogout: 7 } as const;

/** The notification for an event, or null (pure). */
export function legNotificationFor(e: LegEvent, enterprise: string): { oid: string; varbinds: Varbind[] } | null {
  if (e.subscriber === null || e.ip === null || !/^\d+\.\d+\.\d+\.\d+$/.test(e.ip)) return null;
  const o = `${enterprise}.1.1.5.5`;
  const sub: Varbind = { oid: `${o}.1.0`, type: snmp.ObjectType.OctetString, value: e.subscriber };
  const ip: Varbind = { oid: `${o}.2.0`, type: snmp.ObjectType.IpAddress, value: e.ip };
  if (e.event === 'logon' && !e.modem) {
    return { oid: `${enterprise}.1.4.0.${LEG_NOTIFICATIONS.cpeLegLogon}`, varbinds: [sub, ip, { oid: `${o}.3.0`, type: snmp.ObjectType.OctetString, value: e.package ?? '' }] };
  }
  if (e.event === 'logout' || e.event === 'auto-logout') {
    return { oid: `${enterprise}.1.4.0.${LEG_NOTIFICATIONS.cpeLegLogout}`, varbinds: [sub, ip, { oid: `${o}.4.0`, type: snmp.ObjectType.OctetString, value: e.reason ?? '' }] };
  }
  return null;
}

/** Token bucket (pure: time is passed in). */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly burst: number;
  constructor(rate: number, burst: number, now: number) {
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface LegNotifier {
  enabled: boolean;
  sent: number;
  dropped: number;
  event(e: LegEvent): void;
  close(): void;
}

export function legNotifier(cfg: z.infer<typeof subscriberNotificationsSchema>, managers: Managers, enterprise: string, log: Logger, now: () => number = Date.now): LegNotifier {
  const bucket = new TokenBucket(cfg.maxPerSecond, cfg.burst ?? Math.max(1, Math.ceil(cfg.maxPerSecond)), now());
  let droppedSinceLog = 0;
  let lastLog = -Infinity;
  const n: LegNotifier = {
    enabled: cfg.enabled && managers.count > 0,
    sent: 0,
    dropped: 0,
    event(e) {
      if (!n.enabled) return;
      const x = legNotificationFor(e, enterprise);
      if (!x) return;
      const t = now();
      if (!bucket.take(t)) {
        n.dropped++;
        droppedSinceLog++;
        if (t - lastLog >= 60_000) {
          log.warn({ event: 'snmp.leg.notify.dropped', dropped: droppedSinceLog, maxPerSecond: cfg.maxPerSecond }, `subscriber notifications over ${cfg.maxPerSecond}/s: ${droppedSinceLog} dropped`);
          lastLog = t;
          droppedSinceLog = 0;
        }
        return;
      }
      n.sent++;
      managers.send(x.oid, x.varbinds);
    },
    close: () => managers.close(),
  };
  return n;
}
