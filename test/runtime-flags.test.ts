import { describe, expect, it } from 'vitest';
import { DEVICE_FLAGS, RELAUNCHED_ENV, SERVER_FLAGS, serverRelaunch } from '../agent/runtime-flags.ts';

describe('serverRelaunch: the LEG leaves the device V8 flags', () => {
  const node = '/opt/node';
  it('SEA under the device flags: leg re-runs itself with --node-options=SERVER_FLAGS, arguments kept', () => {
    const r = serverRelaunch(['/usr/bin/cpe-agent', '/usr/bin/cpe-agent', 'leg', 'replay', 'x.pcap'], DEVICE_FLAGS, '/usr/bin/cpe-agent', true, {});
    expect(r).toEqual({ file: '/usr/bin/cpe-agent', args: ['/usr/bin/cpe-agent', `--node-options=${SERVER_FLAGS.join(' ')}`, 'leg', 'replay', 'x.pcap'] });
  });
  it('node + bundle launcher: the server flags come after the device flags, before the script', () => {
    const r = serverRelaunch([node, '/d/cpe-agent.cjs', 'leg', 'run'], DEVICE_FLAGS, node, false, {});
    expect(r?.args).toEqual([node, ...DEVICE_FLAGS, ...SERVER_FLAGS, '/d/cpe-agent.cjs', 'leg', 'run']);
  });
  it('the daemon and every other command stay as they are', () => {
    for (const cmd of ['run', 'status', 'reboot', 'dhcp', 'image', '--version', undefined]) {
      const argv = cmd === undefined ? [node, 's'] : [node, 's', cmd];
      expect(serverRelaunch(argv, DEVICE_FLAGS, node, true, {})).toBeUndefined();
    }
  });
  it('never twice, and not without the device flags (dist/cpe-agent on a server)', () => {
    expect(serverRelaunch([node, 's', 'leg'], DEVICE_FLAGS, node, true, { [RELAUNCHED_ENV]: '1' })).toBeUndefined();
    expect(serverRelaunch([node, 's', 'leg'], [], node, false, {})).toBeUndefined();
  });
});
