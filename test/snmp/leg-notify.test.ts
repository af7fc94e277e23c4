/**
 * LEG logon/logout notifications (agent/snmp/leg-notify.ts): which events notify with which
 * varbinds, off by default, and the token bucket: a burst of 1,000 logons within one second
 * sends `burst`, then `maxPerSecond` per second; the rest is counted as dropped and logged
 * once per minute.
 */
import { describe, expect, it } from 'vitest';
import snmp, { type Varbind } from 'net-snmp';
import { legNotificationFor, legNotifier, subscriberNotificationsSchema, TokenBucket } from '../../agent/snmp/leg-notify.ts';
import type { Managers } from '../../agent/snmp/notify.ts';
import type { LegEvent } from '../../agent/leg/events.ts';
import { silentLogger, type Logger } from '../../agent/log.ts';

const E = '1.3.6.1.4.1.32473';
const ev = (e: Partial<LegEvent>): LegEvent => ({ event: 'logon', time: '', subscriber: 'sub1', ip: '198.18.0.9', modem: false, leaseSeconds: 600, package: 'gold', reason: null, transaction: 'initial', chaddr: null, xid: null, ...e });

function fakeManagers(): Managers & { sent: Array<{ oid: string; varbinds: Varbind[] }> } {
  const sent: Array<{ oid: string; varbinds: Varbind[] }> = [];
  return { count: 1, sent, send: (oid, varbinds) => sent.push({ oid, varbinds }), close: () => undefined };
}

describe('LEG notifications', () => {
  it('logon → cpeLegLogon (subscriber, ip, package); logout and auto-logout → cpeLegLogout (reason); nothing else', () => {
    expect(legNotificationFor(ev({}), E)).toEqual({
      oid: `${E}.1.4.0.6`,
      varbinds: [
        { oid: `${E}.1.1.5.5.1.0`, type: snmp.ObjectType.OctetString, value: 'sub1' },
        { oid: `${E}.1.1.5.5.2.0`, type: snmp.ObjectType.IpAddress, value: '198.18.0.9' },
        { oid: `${E}.1.1.5.5.3.0`, type: snmp.ObjectType.OctetString, value: 'gold' },
      ],
    });
    expect(legNotificationFor(ev({ event: 'auto-logout', reason: 'expired' }), E)?.varbinds[2]).toEqual({ oid: `${E}.1.1.5.5.4.0`, type: snmp.ObjectType.OctetString, value: 'expired' });
    expect(legNotificationFor(ev({ event: 'logout', reason: 'release' }), E)?.oid).toBe(`${E}.1.4.0.7`);
    for (const e of [ev({ event: 'extend' }), ev({ event: 'rejected', reason: 'x' }), ev({ modem: true }), ev({ ip: null })]) expect(legNotificationFor(e, E)).toBeNull();
  });

  it('off by default: nothing is sent', () => {
    const m = fakeManagers();
    const n = legNotifier(subscriberNotificationsSchema.parse({}), m, E, silentLogger());
    n.event(ev({}));
    expect(n.enabled).toBe(false);
    expect(m.sent).toHaveLength(0);
  });

  it('rate-limited: 1,000 logons in one second → burst sent, the rest dropped; refills at maxPerSecond; one log line a minute', () => {
    const m = fakeManagers();
    let now = 1_000_000;
    const warns: unknown[] = [];
    const log = { ...silentLogger(), warn: (o: unknown) => warns.push(o) } as unknown as Logger;
    const n = legNotifier(subscriberNotificationsSchema.parse({ enabled: true, maxPerSecond: 5, burst: 20 }), m, E, log, () => now);
    for (let i = 0; i < 1000; i++) n.event(ev({ subscriber: `s${i}` }));
    expect(m.sent.length).toBe(20); // the burst
    now += 1000; // 1 s of refill at 5/s
    for (let i = 0; i < 100; i++) n.event(ev({}));
    expect(m.sent.length).toBe(25);
    expect(n.dropped).toBe(1075);
    expect(warns).toHaveLength(1);
    now += 10_000; // 10 s idle: the bucket is full again (20), not 50
    for (let i = 0; i < 100; i++) n.event(ev({}));
    expect(m.sent.length).toBe(45);
    expect(m.sent[0]?.varbinds[0]?.value).toBe('s0');
    now += 60_000;
    n.event(ev({}));
    n.event(ev({}));
    expect(warns.length).toBeGreaterThanOrEqual(1);
  });

  it('TokenBucket: never more than rate × time + burst', () => {
    const b = new TokenBucket(10, 3, 0);
    let ok = 0;
    for (let t = 0; t <= 2000; t += 7) if (b.take(t)) ok++;
    expect(ok).toBeLessThanOrEqual(10 * 2 + 3);
    expect(ok).toBeGreaterThanOrEqual(10 * 2);
  });
});
