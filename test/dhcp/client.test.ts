import { describe, expect, it } from 'vitest';
import { BOOTREQUEST, BROADCAST_FLAG, MessageType, Opt } from '../../agent/dhcp/message.ts';
import type { Lease } from '../../agent/dhcp/lease.ts';
import { initialState, step } from '../../agent/dhcp/client.ts';
import { ADDR, Driver, MAC, SERVER, T0, config, onlySend, opt, reply, sends, timerOf, types, u32 } from './client-helpers.ts';

const FS = [...Buffer.from('FS-0900E')];

describe('client: DISCOVER and SELECTING', () => {
  it('start sends a broadcast DISCOVER with the CTS fingerprint, vendor class, client id and broadcast flag', () => {
    const d = new Driver();
    const a = d.on({ type: 'start' });
    expect(d.state.phase).toBe('SELECTING');
    const s = onlySend(a);
    expect(s.to).toBe('broadcast');
    expect(s.msg.op).toBe(BOOTREQUEST);
    expect(s.msg.flags & BROADCAST_FLAG).toBe(BROADCAST_FLAG);
    expect(s.msg.xid).toBe(d.state.xid);
    expect(s.msg.ciaddr).toBe('0.0.0.0');
    expect([...s.msg.chaddr.slice(0, 6)]).toEqual([...MAC]);
    expect(opt(s.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DISCOVER]);
    expect(opt(s.msg, Opt.VENDOR_CLASS)).toEqual(FS);
    expect(opt(s.msg, Opt.PARAMETER_LIST)).toEqual([54, 51, 58, 59, 1, 3, 6, 15, 28, 43]);
    expect(opt(s.msg, Opt.MAX_MESSAGE_SIZE)).toEqual([2, 64]);
    expect(opt(s.msg, Opt.CLIENT_ID)).toEqual([1, ...MAC]);
    const t = timerOf(a);
    expect(t).toBeGreaterThanOrEqual(T0 + 3000);
    expect(t).toBeLessThanOrEqual(T0 + 5000);
  });

  it('retransmits DISCOVER after 4, 8, 16, 32, 64 s (± 1 s) with the same xid, then starts a new exchange', () => {
    const d = new Driver();
    d.on({ type: 'start' });
    const xid = d.state.xid;
    let sentAt = d.now;
    for (const base of [4, 8, 16, 32, 64]) {
      const a = d.fire();
      const waited = d.now - sentAt;
      expect(waited).toBeGreaterThanOrEqual((base - 1) * 1000);
      expect(waited).toBeLessThanOrEqual((base + 1) * 1000);
      const s = onlySend(a);
      expect(opt(s.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DISCOVER]);
      expect(s.msg.xid).toBe(xid);
      expect(s.msg.secs).toBe(Math.floor((d.now - T0) / 1000));
      sentAt = d.now;
    }
    const a = d.fire();
    expect(d.now - sentAt).toBeGreaterThanOrEqual(63_000);
    expect(d.now - sentAt).toBeLessThanOrEqual(65_000);
    const s = onlySend(a);
    expect(s.msg.xid).not.toBe(xid);
    expect(s.msg.secs).toBe(0);
    expect(d.state.phase).toBe('SELECTING');
  });

  it('jitter comes from the seed: same seed, same schedule; other seed, other schedule', () => {
    const schedule = (seed: number): number[] => {
      const d = new Driver(config({ seed }));
      d.on({ type: 'start' });
      const out: number[] = [d.state.timerAt ?? 0];
      for (let i = 0; i < 4; i++) {
        d.fire();
        out.push(d.state.timerAt ?? 0);
      }
      return out;
    };
    expect(schedule(7)).toEqual(schedule(7));
    expect(schedule(7)).not.toEqual(schedule(8));
  });

  it('OFFER → REQUESTING: broadcast REQUEST with options 50 and 54, same xid, vendor class and fingerprint', () => {
    const d = new Driver();
    d.on({ type: 'start' });
    const xid = d.state.xid;
    const a = d.packet(reply(MessageType.OFFER, { xid }));
    expect(d.state.phase).toBe('REQUESTING');
    const s = onlySend(a);
    expect(s.to).toBe('broadcast');
    expect(s.msg.xid).toBe(xid);
    expect(opt(s.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.REQUEST]);
    expect(opt(s.msg, Opt.REQUESTED_IP)).toEqual([198, 18, 16, 100]);
    expect(opt(s.msg, Opt.SERVER_ID)).toEqual([198, 18, 16, 1]);
    expect(opt(s.msg, Opt.VENDOR_CLASS)).toEqual(FS);
    expect(opt(s.msg, Opt.PARAMETER_LIST)).toBeDefined();
    expect(s.msg.ciaddr).toBe('0.0.0.0');
    expect(s.msg.flags & BROADCAST_FLAG).toBe(BROADCAST_FLAG);
  });
});

describe('client: replies that must be ignored (never acted on, always counted)', () => {
  const cases: Array<[string, (xid: number) => Parameters<typeof reply>]> = [
    ['foreign xid', (xid) => [MessageType.OFFER, { xid: (xid + 1) >>> 0 }]],
    ['foreign chaddr', (xid) => [MessageType.OFFER, { xid, chaddr: Uint8Array.from([2, 0, 0, 0, 0, 9]) }]],
    ['a BOOTREQUEST', (xid) => [MessageType.OFFER, { xid, op: BOOTREQUEST }]],
    ['OFFER without server id', (xid) => [MessageType.OFFER, { xid, serverId: null }]],
    ['OFFER with yiaddr 0.0.0.0', (xid) => [MessageType.OFFER, { xid, yiaddr: '0.0.0.0' }]],
    ['an ACK while selecting', (xid) => [MessageType.ACK, { xid }]],
  ];
  for (const [name, make] of cases) {
    it(`SELECTING ignores ${name}`, () => {
      const d = new Driver();
      d.on({ type: 'start' });
      const before = d.state;
      const a = d.packet(reply(...make(before.xid)));
      expect(d.state.phase).toBe('SELECTING');
      expect(types(a)).toEqual([]);
      expect(d.state.ignored).toBe(before.ignored + 1);
      expect(d.state.timerAt).toBe(before.timerAt);
      expect(a.some((x) => x.type === 'log' && x.reason !== undefined)).toBe(true);
    });
  }

  it('REQUESTING ignores an ACK with a foreign xid and an ACK without lease time (with a reason)', () => {
    const d = new Driver();
    d.on({ type: 'start' });
    d.packet(reply(MessageType.OFFER, { xid: d.state.xid }));
    let a = d.packet(reply(MessageType.ACK, { xid: (d.state.xid ^ 0xffff) >>> 0 }));
    expect(types(a)).toEqual([]);
    a = d.packet(reply(MessageType.ACK, { xid: d.state.xid, lease: null }));
    expect(types(a)).toEqual([]);
    expect(a.find((x) => x.type === 'log' && x.level === 'warn')).toMatchObject({ reason: expect.stringContaining('option 51') });
    expect(d.state.phase).toBe('REQUESTING');
    expect(d.state.ignored).toBe(2);
  });

  it('REQUESTING ignores an ACK from a server it did not select', () => {
    const d = new Driver();
    d.on({ type: 'start' });
    d.packet(reply(MessageType.OFFER, { xid: d.state.xid }));
    const a = d.packet(reply(MessageType.ACK, { xid: d.state.xid, serverId: '198.18.16.2' }));
    expect(types(a)).toEqual([]);
    expect(d.state.phase).toBe('REQUESTING');
  });

  it('replies are ignored in BOUND (no exchange in progress)', () => {
    const d = new Driver();
    d.bind();
    const a = d.packet(reply(MessageType.ACK, { xid: d.state.xid }));
    expect(types(a)).toEqual([]);
    expect(d.state.phase).toBe('BOUND');
  });
});

describe('client: REQUESTING → BOUND', () => {
  it('ACK binds: applyLease, bound(bind), timer at T1 = 0.5 × lease', () => {
    const d = new Driver();
    const a = d.bind(3600);
    expect(d.state.phase).toBe('BOUND');
    expect(types(a)).toEqual(['applyLease', 'bound', 'setTimer']);
    const bound = a.find((x) => x.type === 'bound');
    if (bound?.type !== 'bound') throw new Error('no bound');
    expect(bound.how).toBe('bind');
    expect(bound.lease).toMatchObject({
      iface: 'wan0',
      address: ADDR,
      prefixLength: 24,
      routers: [SERVER],
      dns: ['198.18.16.53', '198.18.16.54'],
      serverId: SERVER,
      leaseSeconds: 3600,
      renewSeconds: 1800,
      rebindSeconds: 3150,
      acquiredAt: T0,
      vendorClass: 'FS-0900E',
    });
    expect(timerOf(a)).toBe(T0 + 1_800_000);
  });

  it('T1/T2 from options 58/59 are used when consistent, defaults otherwise', () => {
    const d = new Driver();
    d.bind(1000, { t1: 300, t2: 700 });
    expect(d.state.lease).toMatchObject({ renewSeconds: 300, rebindSeconds: 700 });
    const e = new Driver();
    e.bind(1000, { t1: 900, t2: 800 });
    expect(e.state.lease).toMatchObject({ renewSeconds: 500, rebindSeconds: 800 });
  });

  it('retransmits REQUEST 4, 8, 16 s, then gives up and DISCOVERs with a new xid', () => {
    const d = new Driver();
    d.on({ type: 'start' });
    d.packet(reply(MessageType.OFFER, { xid: d.state.xid }));
    const xid = d.state.xid;
    for (const base of [4, 8, 16]) {
      const from = d.now;
      const s = onlySend(d.fire());
      expect(d.now - from).toBeGreaterThanOrEqual((base - 1) * 1000);
      expect(d.now - from).toBeLessThanOrEqual((base + 1) * 1000);
      expect(opt(s.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.REQUEST]);
      expect(s.msg.xid).toBe(xid);
    }
    const s = onlySend(d.fire());
    expect(opt(s.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DISCOVER]);
    expect(s.msg.xid).not.toBe(xid);
    expect(d.state.phase).toBe('SELECTING');
  });

  it('NAK → INIT, 3 s pause, then a fresh DISCOVER', () => {
    const d = new Driver();
    d.on({ type: 'start' });
    d.packet(reply(MessageType.OFFER, { xid: d.state.xid }));
    const xid = d.state.xid;
    const a = d.packet(reply(MessageType.NAK, { xid }));
    expect(d.state.phase).toBe('INIT');
    expect(types(a)).toEqual(['setTimer']);
    expect(timerOf(a)).toBe(d.now + 3000);
    const s = onlySend(d.fire());
    expect(opt(s.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DISCOVER]);
    expect(s.msg.xid).not.toBe(xid);
  });

  it('a bad option 43 sets option43Error and still binds', () => {
    const d = new Driver();
    d.bind(3600, { extra: [{ code: Opt.VENDOR_SPECIFIC, data: Uint8Array.from([1, 200, 0]) }] });
    expect(d.state.phase).toBe('BOUND');
    expect(d.state.lease?.option43Hex).toBe('01c800');
    expect(d.state.lease?.option43Error?.code).toMatch(/^[A-Z0-9_]+$/);
    expect(d.state.lease?.option43).toBeUndefined();
  });
});

describe('client: ARP probe and DECLINE', () => {
  function probing(): Driver {
    const d = new Driver(config({ arpCheck: true }));
    d.on({ type: 'start' });
    d.packet(reply(MessageType.OFFER, { xid: d.state.xid }));
    const a = d.packet(reply(MessageType.ACK, { xid: d.state.xid }));
    expect(d.state.phase).toBe('PROBING');
    expect(types(a)).toEqual(['clearTimer', 'probe']);
    expect(a.find((x) => x.type === 'probe')).toEqual({ type: 'probe', address: ADDR });
    return d;
  }

  it('free address → BOUND', () => {
    const d = probing();
    const a = d.on({ type: 'probeResult', address: ADDR, inUse: false });
    expect(d.state.phase).toBe('BOUND');
    expect(types(a)).toEqual(['applyLease', 'bound', 'setTimer']);
  });

  it('address answers ARP → DECLINE (50 + 54), INIT, a new DISCOVER no sooner than 10 s', () => {
    const d = probing();
    const a = d.on({ type: 'probeResult', address: ADDR, inUse: true });
    expect(d.state.phase).toBe('INIT');
    const s = onlySend(a);
    expect(s.to).toBe('broadcast');
    expect(opt(s.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DECLINE]);
    expect(opt(s.msg, Opt.REQUESTED_IP)).toEqual([198, 18, 16, 100]);
    expect(opt(s.msg, Opt.SERVER_ID)).toEqual([198, 18, 16, 1]);
    expect(s.msg.ciaddr).toBe('0.0.0.0');
    expect(types(a)).not.toContain('applyLease');
    expect(timerOf(a)).toBe(d.now + 10_000);
    const s2 = onlySend(d.fire());
    expect(opt(s2.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DISCOVER]);
  });

  it('a probe result for another address is ignored', () => {
    const d = probing();
    const a = d.on({ type: 'probeResult', address: '198.18.16.7', inUse: true });
    expect(types(a)).toEqual([]);
    expect(d.state.phase).toBe('PROBING');
  });
});

describe('client: RENEWING, REBINDING, expiry', () => {
  it('T1 → RENEWING: unicast REQUEST to the server, ciaddr set, no 50/54, new xid; ACK → bound(renew)', () => {
    const d = new Driver();
    d.bind(3600);
    const bindXid = d.state.xid;
    const a = d.fire();
    expect(d.now).toBe(T0 + 1_800_000);
    expect(d.state.phase).toBe('RENEWING');
    const s = onlySend(a);
    expect(s.to).toBe(SERVER);
    expect(s.msg.ciaddr).toBe(ADDR);
    expect(opt(s.msg, Opt.REQUESTED_IP)).toBeUndefined();
    expect(opt(s.msg, Opt.SERVER_ID)).toBeUndefined();
    expect(opt(s.msg, Opt.VENDOR_CLASS)).toEqual(FS);
    expect(s.msg.xid).not.toBe(bindXid);
    // half of the time to T2 (3150 - 1800 = 1350 s → 675 s)
    expect(timerOf(a)).toBe(d.now + 675_000);
    const r = d.packet(reply(MessageType.ACK, { xid: s.msg.xid, lease: 3600 }));
    expect(types(r)).toEqual(['applyLease', 'bound', 'setTimer']);
    const apply = r.find((x) => x.type === 'applyLease');
    expect(apply).toMatchObject({ previous: { address: ADDR, acquiredAt: T0 } });
    expect(r.find((x) => x.type === 'bound')).toMatchObject({ how: 'renew', lease: { acquiredAt: d.now } });
    expect(d.state.phase).toBe('BOUND');
    expect(timerOf(r)).toBe(d.now + 1_800_000);
  });

  it('RENEWING retransmits at half the remaining time to T2, never less than 60 s, then T2 → REBINDING (broadcast)', () => {
    const d = new Driver();
    d.bind(3600);
    d.fire(); // T1
    const t2 = T0 + 3_150_000;
    const seen: number[] = [];
    while (d.state.phase === 'RENEWING') {
      const before = d.now;
      const at = d.state.timerAt ?? 0;
      seen.push(at - before);
      const a = d.fire();
      if (d.state.phase === 'RENEWING') expect(onlySend(a).to).toBe(SERVER);
    }
    expect(seen).toEqual([675_000, 337_500, 168_750, 84_375, 60_000, 24_375]);
    expect(d.now).toBe(t2);
    expect(d.state.phase).toBe('REBINDING');
    const s = onlySend(d.last);
    expect(s.to).toBe('broadcast');
    expect(s.msg.ciaddr).toBe(ADDR);
    expect(opt(s.msg, Opt.SERVER_ID)).toBeUndefined();
    const r = d.packet(reply(MessageType.ACK, { xid: s.msg.xid, serverId: '198.18.16.2' }));
    expect(r.find((x) => x.type === 'bound')).toMatchObject({ how: 'rebind', lease: { serverId: '198.18.16.2' } });
  });

  it('no answer while REBINDING → at expiry: removeLease, lost, new DISCOVER', () => {
    const d = new Driver();
    d.bind(3600);
    let guard = 0;
    while (d.state.phase !== 'SELECTING' && guard++ < 50) d.fire();
    expect(d.now).toBe(T0 + 3_600_000);
    expect(types(d.last).slice(0, 3)).toEqual(['removeLease', 'lost', 'send']);
    expect(opt(onlySend(d.last).msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DISCOVER]);
    expect(d.state.lease).toBeUndefined();
  });

  it('a RENEWING timer that fires after expiry (suspend, clock jump) drops the lease at once: no REBINDING, no timer in the past', () => {
    // found by client-fuzz: REBINDING was entered with a REQUEST for the expired address and a timer set before now
    const d = new Driver();
    d.bind(60);
    d.fire(); // T1 = 30 s
    expect(d.state.phase).toBe('RENEWING');
    d.now = T0 + 60_001;
    const a = d.on({ type: 'timer' });
    expect(types(a).slice(0, 3)).toEqual(['removeLease', 'lost', 'send']);
    expect(opt(onlySend(a).msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DISCOVER]);
    expect(d.state.lease).toBeUndefined();
    expect(timerOf(a)).toBeGreaterThanOrEqual(d.now);
  });

  it('link down after the lease expired drops it at once instead of arming a timer in the past', () => {
    // found by client-fuzz: LINK_DOWN armed the expiry timer before now
    const d = new Driver();
    d.bind(60);
    d.now = T0 + 60_001;
    const a = d.on({ type: 'linkDown' });
    expect(types(a)).toEqual(['removeLease', 'lost', 'clearTimer']);
    expect(d.state.phase).toBe('LINK_DOWN');
    expect(d.state.lease).toBeUndefined();
  });

  it('NAK while RENEWING → removeLease, lost, INIT', () => {
    const d = new Driver();
    d.bind(3600);
    d.fire();
    const a = d.packet(reply(MessageType.NAK, { xid: d.state.xid }));
    expect(types(a)).toEqual(['removeLease', 'lost', 'setTimer']);
    expect(d.state.phase).toBe('INIT');
    expect(d.state.lease).toBeUndefined();
  });

  it('an ACK without lease time while RENEWING is ignored with a reason; the lease stays', () => {
    const d = new Driver();
    d.bind(3600);
    d.fire();
    const a = d.packet(reply(MessageType.ACK, { xid: d.state.xid, lease: null }));
    expect(types(a)).toEqual([]);
    expect(d.state.phase).toBe('RENEWING');
    expect(d.state.lease?.address).toBe(ADDR);
  });

  it('a timer that fires early is re-armed, not acted on', () => {
    const d = new Driver();
    d.bind(3600);
    d.now += 1000;
    const a = d.on({ type: 'timer' });
    expect(types(a)).toEqual(['setTimer']);
    expect(timerOf(a)).toBe(T0 + 1_800_000);
    expect(d.state.phase).toBe('BOUND');
  });

  it('a 1-second lease does not turn into a REQUEST loop: T1 ≥ 1 s, then expiry → DISCOVER', () => {
    const d = new Driver();
    const a = d.bind(1);
    expect(timerOf(a)).toBe(T0 + 1000);
    const b = d.fire();
    expect(types(b).slice(0, 3)).toEqual(['removeLease', 'lost', 'send']);
    expect(d.state.phase).toBe('SELECTING');
  });

  it('an infinite lease sets no renewal timer', () => {
    const d = new Driver();
    const a = d.bind(0xffffffff);
    expect(types(a)).toEqual(['applyLease', 'bound', 'clearTimer']);
    expect(d.state.phase).toBe('BOUND');
  });
});

describe('client: INIT-REBOOT', () => {
  const remembered: Lease = {
    iface: 'wan0',
    address: '198.18.16.77',
    prefixLength: 24,
    routers: [SERVER],
    dns: [],
    serverId: SERVER,
    leaseSeconds: 600,
    renewSeconds: 300,
    rebindSeconds: 525,
    acquiredAt: T0 - 100_000,
    vendorClass: 'FS-0900E',
  };

  it('REQUEST broadcast with option 50, no server id, ciaddr 0; ACK → bound(reboot)', () => {
    const d = new Driver();
    const a = d.on({ type: 'start', remembered });
    expect(d.state.phase).toBe('INIT_REBOOT');
    const s = onlySend(a);
    expect(s.to).toBe('broadcast');
    expect(opt(s.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.REQUEST]);
    expect(opt(s.msg, Opt.REQUESTED_IP)).toEqual([198, 18, 16, 77]);
    expect(opt(s.msg, Opt.SERVER_ID)).toBeUndefined();
    expect(s.msg.ciaddr).toBe('0.0.0.0');
    const r = d.packet(reply(MessageType.ACK, { xid: s.msg.xid, yiaddr: '198.18.16.77' }));
    expect(r.find((x) => x.type === 'bound')).toMatchObject({ how: 'reboot', lease: { address: '198.18.16.77' } });
    expect(d.state.phase).toBe('BOUND');
  });

  it('NAK → the remembered address is removed from the interface (no lost: it was not bound here), INIT, DISCOVER', () => {
    const d = new Driver();
    d.on({ type: 'start', remembered });
    const a = d.packet(reply(MessageType.NAK, { xid: d.state.xid }));
    expect(types(a)).toEqual(['removeLease', 'setTimer']);
    expect(a.find((x) => x.type === 'removeLease')).toMatchObject({ lease: { address: '198.18.16.77' } });
    expect(d.state.phase).toBe('INIT');
    expect(opt(onlySend(d.fire()).msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DISCOVER]);
  });

  it('no answer → 2 REQUESTs (0, 4 s ± 1) then DISCOVER after another 8 s ± 1', () => {
    const d = new Driver();
    d.on({ type: 'start', remembered });
    expect(opt(onlySend(d.fire()).msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.REQUEST]);
    expect(opt(onlySend(d.fire()).msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.DISCOVER]);
    expect(d.state.phase).toBe('SELECTING');
    expect(d.now - T0).toBeGreaterThanOrEqual(10_000);
    expect(d.now - T0).toBeLessThanOrEqual(14_000);
  });

  it('no answer, then a different address by DISCOVER: the remembered one is replaced (applyLease previous)', () => {
    const d = new Driver();
    d.on({ type: 'start', remembered });
    d.fire();
    d.fire();
    expect(d.state.phase).toBe('SELECTING');
    d.packet(reply(MessageType.OFFER, { xid: d.state.xid }));
    const a = d.packet(reply(MessageType.ACK, { xid: d.state.xid }));
    expect(a.find((x) => x.type === 'applyLease')).toMatchObject({ lease: { address: ADDR }, previous: { address: '198.18.16.77' } });
    expect(d.state.stale).toBeUndefined();
  });

  it('a remembered lease for another interface is not used', () => {
    const d = new Driver();
    d.on({ type: 'start', remembered: { ...remembered, iface: 'eth9' } });
    expect(d.state.phase).toBe('SELECTING');
  });
});

describe('client: RELEASE, stop, link', () => {
  it('RELEASE when bound: unicast RELEASE (ciaddr, 54, 61), removeLease, STOPPED', () => {
    const d = new Driver();
    d.bind();
    const a = d.on({ type: 'release' });
    expect(types(a)).toEqual(['send', 'removeLease', 'clearTimer']);
    const s = onlySend(a);
    expect(s.to).toBe(SERVER);
    expect(opt(s.msg, Opt.MESSAGE_TYPE)).toEqual([MessageType.RELEASE]);
    expect(s.msg.ciaddr).toBe(ADDR);
    expect(opt(s.msg, Opt.SERVER_ID)).toEqual([198, 18, 16, 1]);
    expect(opt(s.msg, Opt.CLIENT_ID)).toEqual([1, ...MAC]);
    expect(d.state.phase).toBe('STOPPED');
    expect(d.state.lease).toBeUndefined();
    // stopped: packets and timers do nothing
    expect(types(d.on({ type: 'timer' }))).toEqual([]);
  });

  it('RELEASE without a lease sends nothing', () => {
    const d = new Driver();
    d.on({ type: 'start' });
    const a = d.on({ type: 'release' });
    expect(types(a)).toEqual(['clearTimer']);
    expect(d.state.phase).toBe('STOPPED');
  });

  it('stop keeps the lease; a later start INIT-REBOOTs it', () => {
    const d = new Driver();
    d.bind();
    expect(types(d.on({ type: 'stop' }))).toEqual(['clearTimer']);
    expect(d.state.lease?.address).toBe(ADDR);
    d.on({ type: 'start' });
    expect(d.state.phase).toBe('INIT_REBOOT');
  });

  it('link down keeps the lease until expiry; link up → INIT-REBOOT', () => {
    const d = new Driver();
    d.bind(3600);
    const a = d.on({ type: 'linkDown' });
    expect(d.state.phase).toBe('LINK_DOWN');
    expect(timerOf(a)).toBe(T0 + 3_600_000);
    d.now += 5000;
    const b = d.on({ type: 'linkUp' });
    expect(d.state.phase).toBe('INIT_REBOOT');
    expect(opt(onlySend(b).msg, Opt.REQUESTED_IP)).toEqual([198, 18, 16, 100]);
  });

  it('lease expiring while the link is down is removed; link up then DISCOVERs', () => {
    const d = new Driver();
    d.bind(3600);
    d.on({ type: 'linkDown' });
    const a = d.fire();
    expect(types(a)).toEqual(['removeLease', 'lost', 'clearTimer']);
    expect(d.state.phase).toBe('LINK_DOWN');
    d.on({ type: 'linkUp' });
    expect(d.state.phase).toBe('SELECTING');
  });
});

describe('client: transition table', () => {
  // [setup, event, expected phase, expected non-log action types]
  const offer = (d: Driver): ReturnType<typeof reply> => reply(MessageType.OFFER, { xid: d.state.xid });
  const ack = (d: Driver): ReturnType<typeof reply> => reply(MessageType.ACK, { xid: d.state.xid });
  const nak = (d: Driver): ReturnType<typeof reply> => reply(MessageType.NAK, { xid: d.state.xid });
  const at = {
    IDLE: (): Driver => new Driver(),
    SELECTING: (): Driver => {
      const d = new Driver();
      d.on({ type: 'start' });
      return d;
    },
    REQUESTING: (): Driver => {
      const d = at.SELECTING();
      d.packet(offer(d));
      return d;
    },
    BOUND: (): Driver => {
      const d = new Driver();
      d.bind();
      return d;
    },
    RENEWING: (): Driver => {
      const d = at.BOUND();
      d.fire();
      return d;
    },
  };
  type From = keyof typeof at;
  const rows: Array<[From, string, (d: Driver) => Parameters<Driver['on']>[0], string, string[]]> = [
    ['IDLE', 'start', () => ({ type: 'start' }), 'SELECTING', ['send', 'setTimer']],
    ['IDLE', 'timer', () => ({ type: 'timer' }), 'IDLE', []],
    ['SELECTING', 'OFFER', (d) => ({ type: 'packet', msg: offer(d) }), 'REQUESTING', ['send', 'setTimer']],
    ['SELECTING', 'start again', () => ({ type: 'start' }), 'SELECTING', []],
    ['SELECTING', 'link down', () => ({ type: 'linkDown' }), 'LINK_DOWN', ['clearTimer']],
    ['REQUESTING', 'ACK', (d) => ({ type: 'packet', msg: ack(d) }), 'BOUND', ['applyLease', 'bound', 'setTimer']],
    ['REQUESTING', 'NAK', (d) => ({ type: 'packet', msg: nak(d) }), 'INIT', ['setTimer']],
    ['REQUESTING', 'OFFER', (d) => ({ type: 'packet', msg: offer(d) }), 'REQUESTING', []],
    ['REQUESTING', 'stop', () => ({ type: 'stop' }), 'STOPPED', ['clearTimer']],
    ['BOUND', 'timer (T1)', () => ({ type: 'timer' }), 'RENEWING', ['send', 'setTimer']],
    ['BOUND', 'release', () => ({ type: 'release' }), 'STOPPED', ['send', 'removeLease', 'clearTimer']],
    ['BOUND', 'apply failed', () => ({ type: 'applyFailed', reason: 'EPERM' }), 'INIT', ['removeLease', 'lost', 'setTimer']],
    ['RENEWING', 'ACK', (d) => ({ type: 'packet', msg: ack(d) }), 'BOUND', ['applyLease', 'bound', 'setTimer']],
    ['RENEWING', 'NAK', (d) => ({ type: 'packet', msg: nak(d) }), 'INIT', ['removeLease', 'lost', 'setTimer']],
    ['RENEWING', 'release', () => ({ type: 'release' }), 'STOPPED', ['send', 'removeLease', 'clearTimer']],
  ];
  for (const [from, name, ev, phase, acts] of rows) {
    it(`${from} --${name}--> ${phase}`, () => {
      const d = at[from]();
      if (name.startsWith('timer') && d.state.timerAt !== undefined) d.now = d.state.timerAt;
      const a = d.on(ev(d));
      expect(d.state.phase).toBe(phase);
      expect(types(a)).toEqual(acts);
    });
  }

  it('step is pure: the input state is not modified', () => {
    const s0 = initialState(config());
    const snapshot = JSON.stringify({ ...s0, config: undefined });
    const r = step(s0, { type: 'start' }, T0);
    expect(JSON.stringify({ ...s0, config: undefined })).toBe(snapshot);
    expect(r.state).not.toBe(s0);
    expect(u32(1)).toEqual([0, 0, 0, 1]);
  });

  it('sends() helper sees every send', () => {
    const d = new Driver();
    expect(sends(d.on({ type: 'start' }))).toHaveLength(1);
  });
});
