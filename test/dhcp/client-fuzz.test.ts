/**
 * Property tests of the state machine: any sequence of events (timers, well-formed and
 * malformed replies with right or foreign xid/chaddr, probe results, link changes, release,
 * stop, apply failures) never throws and keeps the invariants the runner relies on.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ClientAction, ClientEvent, ClientState } from '../../agent/dhcp/client-types.ts';
import { initialState, step } from '../../agent/dhcp/client.ts';
import { MessageType, Opt } from '../../agent/dhcp/message.ts';
import { config, reply, T0 } from './client-helpers.ts';

type Gen = (s: ClientState) => ClientEvent;

const arbEventGen: fc.Arbitrary<Gen> = fc.oneof(
  fc.constant<Gen>(() => ({ type: 'start' })),
  fc.constant<Gen>(() => ({
    type: 'start',
    remembered: { iface: 'wan0', address: '198.18.16.77', prefixLength: 24, routers: [], dns: [], serverId: '198.18.16.1', leaseSeconds: 60, renewSeconds: 30, rebindSeconds: 52, acquiredAt: T0, vendorClass: 'FS-0900E' },
  })),
  fc.constant<Gen>(() => ({ type: 'timer' })),
  fc.constant<Gen>(() => ({ type: 'release' })),
  fc.constant<Gen>(() => ({ type: 'stop' })),
  fc.constant<Gen>(() => ({ type: 'linkDown' })),
  fc.constant<Gen>(() => ({ type: 'linkUp' })),
  fc.constant<Gen>(() => ({ type: 'applyFailed', reason: 'EPERM' })),
  fc.boolean().map<Gen>((inUse) => (s) => ({ type: 'probeResult', address: s.candidate?.address ?? '198.18.16.100', inUse })),
  fc
    .record({
      type: fc.constantFrom(MessageType.OFFER, MessageType.ACK, MessageType.NAK, MessageType.DISCOVER, 99),
      rightXid: fc.boolean(),
      rightMac: fc.boolean(),
      lease: fc.option(fc.constantFrom(0, 1, 30, 600, 0xffffffff), { nil: null }),
      yiaddr: fc.constantFrom('198.18.16.100', '198.18.16.101', '0.0.0.0', '255.255.255.255'),
      serverId: fc.option(fc.constantFrom('198.18.16.1', '198.18.16.2'), { nil: null }),
      mask: fc.constantFrom('255.255.255.0', '255.0.255.0'),
      opt43: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: undefined }),
    })
    .map<Gen>((r) => (s) => ({
      type: 'packet',
      msg: reply(r.type, {
        xid: r.rightXid ? s.xid : (s.xid + 1) >>> 0,
        chaddr: r.rightMac ? undefined : Uint8Array.from([2, 9, 9, 9, 9, 9]),
        lease: r.lease,
        yiaddr: r.yiaddr,
        serverId: r.serverId,
        mask: r.mask,
        extra: r.opt43 ? [{ code: Opt.VENDOR_SPECIFIC, data: r.opt43 }] : [],
      }),
      from: '198.18.16.1',
    })),
);

const TIMED = new Set(['INIT', 'SELECTING', 'REQUESTING', 'INIT_REBOOT', 'RENEWING', 'REBINDING']);

describe('client state machine properties', () => {
  it('never throws; bound phases hold a lease; waiting phases have a timer; foreign replies change nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(arbEventGen, fc.nat(200_000), fc.boolean()), { maxLength: 60 }), fc.nat(), (events, seed) => {
        let s = initialState(config({ seed, arpCheck: seed % 2 === 0 }));
        let now = T0;
        for (const [gen, jump, toTimer] of events) {
          const ev = gen(s);
          if (ev.type === 'timer' && toTimer && s.timerAt !== undefined) now = Math.max(now, s.timerAt);
          else now += jump;
          const before = s;
          const r = step(s, ev, now);
          s = r.state;
          if (s.phase === 'BOUND' || s.phase === 'RENEWING' || s.phase === 'REBINDING') expect(s.lease).toBeDefined();
          if (TIMED.has(s.phase)) expect(s.timerAt).toBeDefined();
          if (s.phase === 'PROBING') expect(s.candidate).toBeDefined();
          if (ev.type === 'packet' && (ev.msg.xid >>> 0) !== before.xid) {
            expect(s.phase).toBe(before.phase);
            expect(r.actions.filter((a: ClientAction) => a.type !== 'log')).toEqual([]);
          }
          for (const a of r.actions) {
            if (a.type === 'send') {
              const t = a.msg.options.find((o) => o.code === Opt.MESSAGE_TYPE)?.data[0];
              const vc = a.msg.options.find((o) => o.code === Opt.VENDOR_CLASS);
              if (t === MessageType.DISCOVER || t === MessageType.REQUEST) expect(vc).toBeDefined();
              else expect(vc).toBeUndefined();
            }
            if (a.type === 'setTimer') expect(a.at).toBeGreaterThanOrEqual(now);
            if (a.type === 'bound') expect(a.lease.leaseSeconds).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
