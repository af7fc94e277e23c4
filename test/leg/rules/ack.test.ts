import { describe, expect, it } from 'vitest';
import { decide } from '../../../agent/leg/decide.ts';
import type { LegConfigInput } from '../../../agent/leg/config.ts';
import type { StateView } from '../../../agent/leg/state.ts';
import type { LegTransaction } from '../../../agent/leg/transaction.ts';
import { CPE, MODEM, T0, cfg, enc, mapping, subscriberRec, tx, view } from '../helpers.ts';

const IP = '198.18.80.10';
type Row = [string, LegConfigInput, StateView, LegTransaction, Record<string, unknown>[]];

const cable: LegConfigInput = { cable: true, policy: { defaultPackage: 'basic' } };
const held = (sub: string) => mapping({ ip: IP, subscriber: sub, xid: 0x1, updatedAt: T0 - 300_000 });

describe('ACK: initial logon and lease extension', () => {
  it.each<Row>([
    ['cable: CPE initial logon → logon with IP, lease, default package', cable, view(), tx({ remoteId: MODEM, lease: 900 }),
      [{ kind: 'logon', subscriber: MODEM, ip: IP, modem: false, leaseSeconds: 900, expiresAt: T0 + 900_000, package: 'basic', transaction: 'initial' }]],
    ['cable: modem transaction → logon, marked modem (no mapping)', cable, view(), tx({ remoteId: MODEM, chaddr: MODEM }),
      [{ kind: 'logon', subscriber: MODEM, modem: true, package: 'basic' }]],
    ['cable: modem extension of a known modem → extend', cable, view([], [subscriberRec(MODEM, { package: 'gold', modem: true })]), tx({ remoteId: MODEM, chaddr: MODEM, ciaddr: IP }),
      [{ kind: 'extend', subscriber: MODEM, modem: true, package: 'gold' }]],
    ['cable: initial without option 82 → rejected', cable, view(), tx({}), [{ kind: 'rejected', reason: 'missing-option-82', ip: IP }]],
    ['cable: extension without option 82, IP known → extend for its subscriber', cable, view([held(MODEM)]), tx({ ciaddr: IP }),
      [{ kind: 'extend', subscriber: MODEM, ip: IP, transaction: 'extension' }]],
    ['cable: extension without option 82, IP unknown → rejected', cable, view(), tx({ ciaddr: IP }), [{ kind: 'rejected', reason: 'no-option-82-and-ip-unknown' }]],
    ['cable: extension with option 82 of an unknown IP → logon', cable, view(), tx({ ciaddr: IP, remoteId: MODEM }), [{ kind: 'logon', subscriber: MODEM, transaction: 'extension' }]],
    ['no lease time → rejected with the subscriber', cable, view(), tx({ remoteId: MODEM, lease: null }),
      [{ kind: 'rejected', reason: 'missing-lease-time', subscriber: MODEM, leaseSeconds: null }]],
    ['chain a: option → logon', { subscriberOption: '82.1' }, view(), tx({ opts: { '82.1': enc('eth0') } }), [{ kind: 'logon', subscriber: 'eth0', package: null }]],
    ['chain b: fallback → IP_ subscriber', { subscriberOption: '82.1', fallbackToIp: true }, view(), tx({}), [{ kind: 'logon', subscriber: `IP_${IP}` }]],
    ['chain c: no ID, IP known → extend by IP alone', { subscriberOption: '82.1' }, view([held('eth0')]), tx({ ciaddr: IP }), [{ kind: 'extend', subscriber: 'eth0' }]],
    ['chain c: no ID, IP unknown → rejected', { subscriberOption: '82.1' }, view(), tx({ ciaddr: IP }), [{ kind: 'rejected', reason: 'no-subscriber-id-and-ip-unknown' }]],
    ['re-logon (initial) of an IP the subscriber holds → logon', { subscriberOption: '82.1' }, view([held('eth0')]), tx({ opts: { '82.1': enc('eth0') } }), [{ kind: 'logon', subscriber: 'eth0' }]],
    ['IP moves to another subscriber → logout (reassigned), then logon', { subscriberOption: '82.1' }, view([held('eth0')]), tx({ opts: { '82.1': enc('eth1') } }),
      [{ kind: 'logout', subscriber: 'eth0', ip: IP, reason: 'reassigned' }, { kind: 'logon', subscriber: 'eth1', ip: IP }]],
    ['package from the policy table', { subscriberOption: '82.1', policy: { options: ['60'], packages: { gold: 'P1' }, defaultPackage: 'basic' } }, view(),
      tx({ opts: { '82.1': enc('eth0'), '60': enc('gold') } }), [{ kind: 'logon', package: 'P1' }]],
    ['extension without package info keeps the known package', { subscriberOption: '82.1', policy: { defaultPackage: 'basic' } },
      view([held('eth0')], [subscriberRec('eth0', { package: 'P1' })]), tx({ ciaddr: IP, opts: { '82.1': enc('eth0') } }), [{ kind: 'extend', package: 'P1' }]],
    ['duplicate of the applied ACK → duplicate, no event', { subscriberOption: '82.1' },
      view([mapping({ ip: IP, subscriber: 'eth0', xid: 0x55, updatedAt: T0, expiresAt: T0 + 600_000 })]), tx({ xid: 0x55, opts: { '82.1': enc('eth0') } }),
      [{ kind: 'duplicate', reason: 'ACK' }]],
    ['client-side copy of a relayed ACK (no option 82) is the same transaction', cable,
      view([mapping({ ip: IP, subscriber: MODEM, xid: 0x55, updatedAt: T0, expiresAt: T0 + 600_000 })]), tx({ xid: 0x55 }), [{ kind: 'duplicate' }]],
  ])('%s', (_n, c, v, t, want) => {
    const ops = decide(t, v, cfg(c));
    expect(ops).toHaveLength(want.length);
    want.forEach((w, i) => expect(ops[i]).toMatchObject(w));
  });

  it('CPE chaddr is kept with the logon (the RELEASE/DECLINE holder check uses it)', () => {
    const [op] = decide(tx({ remoteId: MODEM }), view(), cfg({ cable: true }));
    expect(op).toMatchObject({ chaddr: CPE, xid: 0x1234 });
  });
});
