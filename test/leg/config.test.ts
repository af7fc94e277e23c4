import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig, parseSelector } from '../../agent/leg/config.ts';

describe('LEG config', () => {
  it('the shipped example is valid', () => {
    const c = loadConfigFile(new URL('../../config/leg.example.json', import.meta.url).pathname);
    expect(c).toMatchObject({ cable: false, subscriberOption: '82.1', fallbackToIp: true, autoLogout: true, logFailures: true, policy: { defaultPackage: 'basic' } });
    expect(c).toMatchObject({ trustedServers: ['198.18.80.1'], rdr: { allow: ['127.0.0.0/8', '::1/128'], maxConnections: 64, maxConnectionsPerPeer: 4, maxFrameBytes: 10004 } });
  });

  it('trust defaults: every DHCP server; RDR peers on loopback only, with limits', () => {
    expect(parseConfig({})).toMatchObject({
      trustedServers: [],
      rdr: { allow: ['127.0.0.0/8', '::1/128'], maxConnections: 64, maxConnectionsPerPeer: 4, maxFrameBytes: 10004, idleTimeoutSeconds: 600, maxRecordsPerSecond: 20000 },
    });
    expect(parseConfig({ rdr: { allow: ['198.18.0.0/15', '198.18.80.7', '2001:db8::/32'] } }).rdr.allow).toHaveLength(3);
  });

  it('defaults: not cable, no option, no fallback, auto-logout and failure logging on', () => {
    expect(parseConfig({})).toMatchObject({
      cable: false,
      subscriberOption: null,
      fallbackToIp: false,
      autoLogout: true,
      logFailures: true,
      declineLogsOut: true,
      duplicateWindowSeconds: 60,
      policy: { options: [], packages: {}, defaultPackage: null },
    });
  });

  it.each([
    [{ cabel: true }, ''],
    [{ subscriberOption: 'x' }, 'subscriberOption'],
    [{ subscriberOption: '60.1' }, 'subscriberOption'],
    [{ policy: { options: ['82.300'] } }, 'policy.options.0'],
    [{ policy: { options: ['60'], defaultPackage: '' } }, 'policy.defaultPackage'],
    [{ duplicateWindowSeconds: -1 }, 'duplicateWindowSeconds'],
    [{ batch: { maxTransactions: 0 } }, 'batch.maxTransactions'],
    [{ trustedServers: ['dhcp.example'] }, 'trustedServers.0'],
    [{ trustedServers: '198.18.80.1' }, 'trustedServers'],
    [{ rdr: { allow: ['198.18.0.0/33'] } }, 'rdr.allow.0'],
    [{ rdr: { allow: ['any'] } }, 'rdr.allow.0'],
    [{ rdr: { maxFrameBytes: 65536 } }, 'rdr.maxFrameBytes'],
    [{ rdr: { maxConnections: 0 } }, 'rdr.maxConnections'],
    [{ rdr: { alow: [] } }, 'rdr'],
  ])('rejects %j naming the key', (input, path) => {
    expect(() => parseConfig(input)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', details: expect.objectContaining({ path }) }));
  });

  it.each([
    ['60', { code: 60, key: '60' }],
    ['82.1', { code: 82, sub: 1, key: '82.1' }],
    [' 82.6 ', { code: 82, sub: 6, key: '82.6' }],
  ])('selector %j', (text, want) => {
    expect(parseSelector(text)).toEqual(want);
  });

  it.each(['0', '255', '53', '52', '60.1', '82.256', 'abc', ''])('rejects selector %j', (text) => {
    expect(() => parseSelector(text)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
