import { describe, expect, it } from 'vitest';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { memorySink } from '../../agent/leg/events.ts';
import type { LegConfigInput } from '../../agent/leg/config.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { T0, cfg, enc, tx } from './helpers.ts';

function setup(c: LegConfigInput = {}) {
  const sink = memorySink();
  const engine = new LegEngine(cfg({ subscriberOption: '82.1', policy: { defaultPackage: 'basic' }, ...c }), new LegStore(), sink);
  return { engine, sink };
}
const sub = (s: string) => ({ '82.1': enc(s) });
const iso = (ms: number) => new Date(ms).toISOString();

describe('LegEngine', () => {
  it('auto-logouts come out at their expiry time, interleaved in time order', () => {
    const { engine, sink } = setup();
    engine.process(tx({ time: T0, yiaddr: '198.18.80.1', lease: 10, opts: sub('a'), xid: 1 }));
    engine.process(tx({ time: T0 + 5000, yiaddr: '198.18.80.2', lease: 100, opts: sub('b'), xid: 2, chaddr: '02:00:00:00:00:02' }));
    engine.process(tx({ time: T0 + 8000, yiaddr: '198.18.80.3', lease: 1, opts: sub('c'), xid: 3, chaddr: '02:00:00:00:00:03' }));
    engine.process(tx({ time: T0 + 20_000, yiaddr: '198.18.80.4', lease: 100, opts: sub('d'), xid: 4, chaddr: '02:00:00:00:00:04' }));
    engine.flush();
    expect(sink.events.map((e) => [e.event, e.subscriber, e.time])).toEqual([
      ['logon', 'a', iso(T0)],
      ['logon', 'b', iso(T0 + 5000)],
      ['logon', 'c', iso(T0 + 8000)],
      ['auto-logout', 'c', iso(T0 + 9000)],
      ['auto-logout', 'a', iso(T0 + 10_000)],
      ['logon', 'd', iso(T0 + 20_000)],
    ]);
  });

  it('a renewal before expiry moves the auto-logout; a lease ending after the last packet is not logged out', () => {
    const { engine, sink } = setup();
    engine.process(tx({ time: T0, lease: 10, opts: sub('a'), xid: 1 }));
    engine.process(tx({ time: T0 + 5000, lease: 10, opts: sub('a'), xid: 2, ciaddr: '198.18.80.10' }));
    engine.process(tx({ time: T0 + 12_000, type: MessageType.DISCOVER, xid: 3 }));
    engine.flush();
    expect(sink.events.map((e) => e.event)).toEqual(['logon', 'extend']);
    engine.process(tx({ time: T0 + 16_000, type: MessageType.DISCOVER, xid: 4 }));
    engine.flush();
    expect(sink.events.map((e) => [e.event, e.time])).toEqual([
      ['logon', iso(T0)],
      ['extend', iso(T0 + 5000)],
      ['auto-logout', iso(T0 + 15_000)],
    ]);
  });

  it('autoLogout: false keeps expired mappings', () => {
    const { engine, sink } = setup({ autoLogout: false });
    engine.process(tx({ time: T0, lease: 1, opts: sub('a') }));
    engine.tick(T0 + 100_000);
    engine.flush();
    expect(sink.events.map((e) => e.event)).toEqual(['logon']);
    expect(engine.store.mapping('198.18.80.10')?.active).toBe(true);
  });

  it('a retransmitted identical ACK produces one logon and counts a duplicate', () => {
    const { engine, sink } = setup();
    const ack = tx({ time: T0, opts: sub('a'), xid: 9 });
    engine.process(ack);
    engine.process({ ...ack, time: T0 + 2 });
    engine.flush();
    expect(sink.events.map((e) => e.event)).toEqual(['logon']);
    expect(engine.counters()).toMatchObject({ 'duplicate.ACK': 1, 'events.logon': 1, transactions: 2 });
  });

  it('counts rejections by reason and ignored messages by type; emits a rejected event with its reason', () => {
    const { engine, sink } = setup({ fallbackToIp: false });
    engine.process(tx({ time: T0, lease: null, opts: sub('a') }));
    engine.process(tx({ time: T0 + 1, type: MessageType.NAK }));
    engine.process(tx({ time: T0 + 2, type: MessageType.OFFER }));
    engine.malformed('dhcp', 'DHCP_TRUNCATED_HEADER', T0 + 3);
    engine.flush();
    expect(sink.events).toEqual([
      {
        event: 'rejected',
        time: iso(T0),
        subscriber: 'a',
        ip: '198.18.80.10',
        modem: false,
        leaseSeconds: null,
        package: null,
        reason: 'missing-lease-time',
        transaction: 'initial',
        chaddr: 'aa:bb:cc:00:00:01',
        xid: '0x00001234',
      },
    ]);
    expect(engine.counters()).toMatchObject({ 'rejected.missing-lease-time': 1, 'ignored.NAK': 1, 'ignored.OFFER': 1, 'malformed.dhcp': 1, 'events.rejected': 1 });
  });

  it('writes a batch of events only after committing it', () => {
    const { engine, sink } = setup({ batch: { maxTransactions: 3, maxDelayMs: 100 } });
    engine.process(tx({ time: T0, opts: sub('a'), xid: 1, yiaddr: '198.18.80.1' }));
    engine.process(tx({ time: T0, opts: sub('b'), xid: 2, yiaddr: '198.18.80.2' }));
    expect(sink.events).toHaveLength(0);
    expect(engine.store.dirty).toBe(true);
    engine.process(tx({ time: T0, opts: sub('c'), xid: 3, yiaddr: '198.18.80.3' }));
    expect(sink.events).toHaveLength(3);
    expect(engine.store.dirty).toBe(false);
  });
});
