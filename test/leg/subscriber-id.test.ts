import { describe, expect, it } from 'vitest';
import { resolveSubscriberId } from '../../agent/leg/subscriber-id.ts';
import { CPE, MODEM, cfg, enc, tx } from './helpers.ts';

describe('subscriber ID, cable mode (modem MAC from option 82 remote-ID)', () => {
  const cable = cfg({ cable: true });
  it.each([
    ['initial, remote-ID = modem MAC ≠ chaddr → CPE transaction', tx({ remoteId: MODEM }), { kind: 'id', id: MODEM, modem: false, via: 'remote-id' }],
    ['initial, remote-ID = chaddr → modem transaction', tx({ remoteId: MODEM, chaddr: MODEM }), { kind: 'id', id: MODEM, modem: true, via: 'remote-id' }],
    ['initial without option 82 → no logon', tx({}), { kind: 'reject', reason: 'missing-option-82' }],
    ['extension without option 82 → database lookup', tx({ ciaddr: '198.18.80.10' }), { kind: 'lookup', via: 'no-option-82' }],
    ['RDR ACK (kind unknown) without option 82 → lookup', tx({ renewing: undefined }), { kind: 'lookup', via: 'no-option-82' }],
    ['remote-ID that is not 6 bytes → rejected', tx({ opts: { '82.2': enc('xyz') } }), { kind: 'reject', reason: 'remote-id-not-mac' }],
    ['configured subscriber option is ignored in cable mode', tx({ remoteId: MODEM, opts: { '82.1': enc('port1') } }), { kind: 'id', id: MODEM, modem: false, via: 'remote-id' }],
  ])('%s', (_name, t, want) => {
    expect(resolveSubscriberId(t, { ...cable, subscriberOption: '82.1' })).toEqual(want);
  });
});

describe('subscriber ID chain, other networks', () => {
  it.each([
    ['a. configured option present (printable → text)', { subscriberOption: '82.1' }, tx({ opts: { '82.1': enc('eth0/1') } }), { kind: 'id', id: 'eth0/1', modem: false, via: 'option' }],
    ['a. binary option value → lowercase hex', { subscriberOption: '61' }, tx({ opts: { '61': new Uint8Array([1, 0xaa, 0xbb, 0, 1]) } }), { kind: 'id', id: '01aabb0001', modem: false, via: 'option' }],
    ['a. option 82.6 subscriber-ID', { subscriberOption: '82.6' }, tx({ opts: { '82.6': enc('-subID-') } }), { kind: 'id', id: '-subID-', modem: false, via: 'option' }],
    ['a. wins over the fallback', { subscriberOption: '60', fallbackToIp: true }, tx({ opts: { '60': enc('gold') } }), { kind: 'id', id: 'gold', modem: false, via: 'option' }],
    ['b. option absent, fallback enabled → IP_a.b.c.d', { subscriberOption: '82.1', fallbackToIp: true }, tx({}), { kind: 'id', id: 'IP_198.18.80.10', modem: false, via: 'fallback-ip' }],
    ['b. empty option value counts as absent', { subscriberOption: '82.1', fallbackToIp: true }, tx({ opts: { '82.1': new Uint8Array(0) } }), { kind: 'id', id: 'IP_198.18.80.10', modem: false, via: 'fallback-ip' }],
    ['c. option absent, no fallback → extend by IP alone', { subscriberOption: '82.1' }, tx({}), { kind: 'lookup', via: 'no-subscriber-option' }],
    ['c. no option configured, no fallback → lookup', {}, tx({ opts: { '82.1': enc('x') } }), { kind: 'lookup', via: 'no-subscriber-option' }],
    ['never a modem transaction outside cable mode', { subscriberOption: '82.2' }, tx({ remoteId: CPE }), { kind: 'id', id: 'aabbcc000001', modem: false, via: 'option' }],
  ])('%s', (_name, c, t, want) => {
    expect(resolveSubscriberId(t, cfg(c))).toEqual(want);
  });
});
