import { describe, expect, it } from 'vitest';
import { releaseRule } from '../../../agent/leg/rules/release.ts';
import { declineRule } from '../../../agent/leg/rules/decline.ts';
import { MessageType } from '../../../agent/dhcp/message.ts';
import { CPE, MODEM, cfg, mapping, subscriberRec, tx, view } from '../helpers.ts';

const IP = '198.18.80.10';
const held = mapping({ ip: IP, subscriber: MODEM, chaddr: CPE, xid: 0x1234 });
const rel = (s: Parameters<typeof tx>[0] = {}) => tx({ type: MessageType.RELEASE, lease: null, releasedIp: IP, xid: 0x99, ...s });

describe('release → logout of the CPE IP', () => {
  it.each([
    ['held by the releasing client → logout', view([held]), rel(), { kind: 'logout', subscriber: MODEM, ip: IP, reason: 'release' }],
    ['no ciaddr in the RELEASE → rejected', view([held]), tx({ type: MessageType.RELEASE, lease: null }), { kind: 'rejected', reason: 'release-without-ciaddr' }],
    ['IP not logged on → rejected', view([]), rel(), { kind: 'rejected', reason: 'not-logged-on', ip: IP }],
    ['IP already logged out → rejected', view([{ ...held, active: false, endReason: 'expired' }]), rel(), { kind: 'rejected', reason: 'not-logged-on' }],
    ['another client releases it → rejected', view([held]), rel({ chaddr: '02:00:00:00:00:09' }), { kind: 'rejected', reason: 'release-client-mismatch' }],
    ['same RELEASE seen twice → duplicate', view([{ ...held, active: false, endReason: 'release', xid: 0x99 }]), rel(), { kind: 'duplicate', reason: 'RELEASE' }],
  ])('%s', (_n, v, t, want) => {
    const ops = releaseRule(t, v, cfg());
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject(want);
  });

  it('cable: a modem releasing its own (never mapped) IP is ignored', () => {
    const ops = releaseRule(rel({ chaddr: MODEM }), view([], [subscriberRec(MODEM, { modem: true })]), cfg({ cable: true }));
    expect(ops).toEqual([expect.objectContaining({ kind: 'ignored', reason: 'modem-RELEASE' })]);
  });
});

describe('decline → logout of the address the client refused', () => {
  const dec = (s: Parameters<typeof tx>[0] = {}) => tx({ type: MessageType.DECLINE, lease: null, ...s });
  it.each([
    ['option 50 names a held IP of this client → logout', view([held]), dec({ releasedIp: IP }), { kind: 'logout', ip: IP, reason: 'decline', subscriber: MODEM }],
    ['no option 50: matched by the ACK (chaddr, xid) → logout', view([held]), dec({ xid: 0x1234 }), { kind: 'logout', ip: IP, reason: 'decline' }],
    ['no option 50, no matching ACK → ignored', view([held]), dec({ xid: 0x4321 }), { kind: 'ignored', reason: 'DECLINE-not-logged-on' }],
    ['IP held by another client → ignored', view([held]), dec({ releasedIp: IP, chaddr: '02:00:00:00:00:09' }), { kind: 'ignored', reason: 'DECLINE-not-logged-on' }],
  ])('%s', (_n, v, t, want) => {
    expect(declineRule(t, v, cfg())).toEqual([expect.objectContaining(want)]);
  });
  it('declineLogsOut: false ignores every DECLINE', () => {
    expect(declineRule(dec({ releasedIp: IP }), view([held]), cfg({ declineLogsOut: false }))).toEqual([expect.objectContaining({ kind: 'ignored', reason: 'DECLINE' })]);
  });
});
