/** The LEG config's `snmp` section (agent/snmp/leg.ts parseLegSnmp): the agent's keys plus subscriberNotifications. */
import { describe, expect, it } from 'vitest';
import { parseLegSnmp } from '../../agent/snmp/leg.ts';

describe('parseLegSnmp', () => {
  it('defaults: standalone on 161, notifications off at 10/s', () => {
    const c = parseLegSnmp({ community: { read: 'ro-x' } });
    expect(c.snmp).toMatchObject({ mode: 'standalone', listen: { address: '0.0.0.0', port: 161 }, enterpriseOid: '1.3.6.1.4.1.32473' });
    expect(c.subscriberNotifications).toEqual({ enabled: false, maxPerSecond: 10 });
  });

  it('AgentX needs no community; notifications with a rate and a burst', () => {
    const c = parseLegSnmp({ mode: 'agentx', agentx: { master: '/run/agentx' }, subscriberNotifications: { enabled: true, maxPerSecond: 2.5, burst: 20 } });
    expect(c.snmp.agentx.master).toBe('/run/agentx');
    expect(c.subscriberNotifications).toEqual({ enabled: true, maxPerSecond: 2.5, burst: 20 });
  });

  it('errors name the key under snmp and never echo a community', () => {
    const err = (input: unknown): string => {
      try {
        parseLegSnmp(input, 'leg.json');
      } catch (e) {
        return `${(e as { code?: string }).code ?? ''} ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(err({ community: { read: 'secret-ro' }, subscriberNotifications: { maxPerSecond: 0 } })).toMatch(/^CONFIG_INVALID leg\.json: snmp\.subscriberNotifications\.maxPerSecond: /);
    expect(err({ community: { read: 'secret-ro' }, subscriberNotifications: { enabled: true, foo: 1 } })).toMatch(/^CONFIG_INVALID leg\.json: snmp\.subscriberNotifications/);
    expect(err({ listen: { port: 99999 }, community: { read: 'secret-ro' } })).toMatch(/^CONFIG_INVALID leg\.json: snmp\.listen\.port: /);
    expect(err({})).toMatch(/^CONFIG_INVALID leg\.json: snmp\.community: /);
    expect(err([])).toMatch(/^CONFIG_INVALID leg\.json: snmp: expected an object/);
    expect(err({ community: { read: 'secret-ro' }, bogus: true })).not.toContain('secret-ro');
  });
});
