import { describe, expect, it } from 'vitest';
import { DryRunNet } from '../../../platform/net/dry-run.ts';
import { isAgentError } from '../../../agent/errors.ts';

const L = { iface: 'wan0', address: '198.18.16.100', prefixLength: 24, routers: ['198.18.16.1'], dns: [] };

describe('dry-run net backend', () => {
  it('records every call in order and tracks the applied lease', async () => {
    const net = new DryRunNet();
    await net.addBroadcastRoute('wan0');
    await net.applyLease(L);
    expect(net.applied).toEqual(L);
    await net.applyLease({ ...L, address: '198.18.16.101' }, L);
    await net.removeLease({ ...L, address: '198.18.16.101' });
    await net.removeBroadcastRoute('wan0');
    expect(net.ops()).toEqual(['addBroadcastRoute', 'applyLease', 'applyLease', 'removeLease', 'removeBroadcastRoute']);
    expect(net.calls[2]).toMatchObject({ op: 'applyLease', previous: { address: '198.18.16.100' } });
    expect(net.applied).toBeUndefined();
  });

  it('answers ARP probes from `inUse` and fails applyLease once on request', async () => {
    const net = new DryRunNet();
    net.inUse.add('198.18.16.7');
    expect(await net.addressInUse('wan0', '198.18.16.7')).toBe(true);
    expect(await net.addressInUse('wan0', '198.18.16.8')).toBe(false);
    net.failApply = 'NET_CMD_FAILED';
    await expect(net.applyLease(L)).rejects.toSatisfy((e: unknown) => isAgentError(e, 'NET_CMD_FAILED'));
    expect(net.applied).toBeUndefined();
    await net.applyLease(L);
    expect(net.applied).toEqual(L);
  });
});
