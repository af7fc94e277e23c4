import { describe, expect, it } from 'vitest';
import { isDuplicateAck, isDuplicateModemAck, isDuplicateRelease } from '../../../agent/leg/rules/duplicate.ts';
import { CPE, MODEM, T0, mapping, subscriberRec } from '../helpers.ts';

const W = 60_000;
const prev = mapping({ ip: '198.18.80.10', subscriber: 's', xid: 7, updatedAt: T0, expiresAt: T0 + 600_000 });

describe('duplicate ACKs are idempotent', () => {
  it.each([
    ['same xid, client, expiry, same instant (mirror copy)', prev, { xid: 7, chaddr: CPE, time: T0 }, T0 + 600_000, true],
    ['server answers a retransmitted REQUEST 4 s later', prev, { xid: 7, chaddr: CPE, time: T0 + 4000 }, T0 + 604_000, true],
    ['different xid → new transaction', prev, { xid: 8, chaddr: CPE, time: T0 }, T0 + 600_000, false],
    ['different client → not a repeat', prev, { xid: 7, chaddr: MODEM, time: T0 }, T0 + 600_000, false],
    ['same xid but half a lease later (renewal reusing an xid)', prev, { xid: 7, chaddr: CPE, time: T0 + 300_000 }, T0 + 900_000, false],
    ['outside the window', prev, { xid: 7, chaddr: CPE, time: T0 + 61_000 }, T0 + 600_000, false],
    ['mapping already logged out', { ...prev, active: false }, { xid: 7, chaddr: CPE, time: T0 }, T0 + 600_000, false],
    ['no mapping', undefined, { xid: 7, chaddr: CPE, time: T0 }, T0 + 600_000, false],
  ])('%s', (_n, p, t, exp, want) => {
    expect(isDuplicateAck(p, t, exp, 600, W)).toBe(want);
  });

  it.each([
    ['ACK to a renewal (ciaddr set) after the initial ACK, same xid (udhcpc), expiry unchanged (dhcpd cache threshold)', false, true, false],
    ['the renewal ACK seen twice (both legs of the relay)', true, true, true],
    ['the initial ACK seen twice', false, false, true],
    ['kind unknown on either side (RDR, or loaded from the database): by expiry as before', undefined, true, true],
    ['kind unknown in the transaction (RDR)', false, undefined, true],
  ])('%s', (_n, prevRenewing, txRenewing, want) => {
    const p = { ...prev, renewing: prevRenewing };
    expect(isDuplicateAck(p, { xid: 7, chaddr: CPE, time: T0 + 3000, renewing: txRenewing }, T0 + 600_000, 600, W)).toBe(want);
  });

  it('modem ACK repeats are recognised by the subscriber record', () => {
    const s = subscriberRec(MODEM, { modem: true, lastXid: 9, lastChaddr: MODEM, updatedAt: T0 });
    expect(isDuplicateModemAck(s, { xid: 9, chaddr: MODEM, time: T0 + 1 }, W)).toBe(true);
    expect(isDuplicateModemAck(s, { xid: 10, chaddr: MODEM, time: T0 + 1 }, W)).toBe(false);
    expect(isDuplicateModemAck({ ...s, modem: false }, { xid: 9, chaddr: MODEM, time: T0 + 1 }, W)).toBe(false);
  });

  it('a repeated RELEASE matches the release that ended the mapping', () => {
    const ended = { ...prev, active: false, endReason: 'release', xid: 11 };
    expect(isDuplicateRelease(ended, { xid: 11, chaddr: CPE, time: T0 + 10 }, W)).toBe(true);
    expect(isDuplicateRelease({ ...ended, endReason: 'expired' }, { xid: 11, chaddr: CPE, time: T0 + 10 }, W)).toBe(false);
    expect(isDuplicateRelease(ended, { xid: 12, chaddr: CPE, time: T0 + 10 }, W)).toBe(false);
  });
});
