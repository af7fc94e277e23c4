/**
 * agent/snmp/virtual.ts + leg-tables.ts against an independent model: the cpeLeg instances of
 * a store, computed here as a sorted array of OIDs. GETNEXT from any start (fast-check:
 * random sub-ids, including values > 255, non-ASCII bytes, prefixes of real rows) must answer
 * the first instance of the array after the start; a GET answers exactly the array's cells.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { LegStore } from '../../agent/leg/store.ts';
import { openReadOnly } from '../../agent/leg/queries.ts';
import type { LogonOp } from '../../agent/leg/state.ts';
import { compareSubs, virtualNext, parseOid, type Sub } from '../../agent/snmp/virtual.ts';
import { counter64Ber, dateAndTime, ipLowerBound, legTables, macBytes, MAX_ID_BYTES, type LegTables } from '../../agent/snmp/leg-tables.ts';

const OID = '1.3.6.1.4.1.32473.1.1.5';
const T0 = Date.UTC(2026, 11, 3, 8, 0, 0, 250);
let dir: string;
let db: DatabaseSync;
let tables: LegTables;
/** every instance, sorted: [relative sub-ids below OID, type, value as hex/number] */
let model: Array<{ sub: number[]; value: unknown }>;

const ids = ['a', 'ab', 'b', 'B', 'aa:bb:cc:dd:ee:01', 'IP_10.0.0.9', 'z'.repeat(MAX_ID_BYTES), 'y'.repeat(MAX_ID_BYTES + 1), 'sub-é', 'a~', ''];
const ips = ['10.0.0.9', '10.0.0.10', '9.255.255.255', '198.18.0.1', '255.255.255.255', '0.0.0.1', '10.0.1.0'];

function logon(ip: string, sub: string, time: number, pkg: string | null): LogonOp {
  return { kind: 'logon', subscriber: sub, ip, modem: false, leaseSeconds: 600, expiresAt: time + 600_000, package: pkg, time, chaddr: '02:00:00:00:00:0' + (ip.length % 10), xid: 1, transaction: 'initial' };
}

const bytes = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const ipSubs = (ip: string): number[] => ip.split('.').map(Number);
const val = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString('hex') : v);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'leg-tables-'));
  const store = new LegStore(dir);
  ids.forEach((id, i) => {
    if (id === '') return;
    store.applyLogon(logon(ips[i % ips.length] as string, id, T0 + i * 1000, i % 3 === 0 ? null : `pkg${i}`));
  });
  // a mapping that ended: not in the mapping table, not counted
  store.applyLogout({ kind: 'logout', subscriber: 'b', ip: ips[2] as string, reason: 'release', time: T0 + 99_000, modem: false, chaddr: null, xid: null, transaction: 'release' });
  store.count('transactions', 2 ** 40);
  store.count('events.logon', 3);
  store.count('ignored.DISCOVER', 1);
  store.commit();
  store.close();
  db = openReadOnly(dir);
  tables = legTables(db, { oid: OID, counter64: counter64Ber });

  // the model, from the same inputs (not from the database)
  const subs = new Map<string, { pkg: string | null; time: number; ips: string[] }>();
  const maps = new Map<string, { sub: string; chaddr: string; exp: number }>();
  ids.forEach((id, i) => {
    if (id === '') return;
    const ip = ips[i % ips.length] as string;
    const prev = maps.get(ip);
    if (prev) subs.get(prev.sub)?.ips.splice(subs.get(prev.sub)?.ips.indexOf(ip) ?? 0, 1);
    const t = T0 + i * 1000;
    subs.set(id, { pkg: i % 3 === 0 ? null : `pkg${i}`, time: t, ips: [...(subs.get(id)?.ips ?? []), ip] });
    maps.set(ip, { sub: id, chaddr: '02:00:00:00:00:0' + (ip.length % 10), exp: t + 600_000 });
  });
  const ended = ips[2] as string;
  const b = maps.get(ended);
  if (b) {
    subs.get(b.sub)?.ips.splice(subs.get(b.sub)?.ips.indexOf(ended) ?? 0, 1);
    maps.delete(ended);
  }
  model = [
    { sub: [1, 1, 0], value: subs.size },
    { sub: [1, 2, 0], value: maps.size },
  ];
  const rows = [...subs.entries()].filter(([id]) => bytes(id).length <= MAX_ID_BYTES).sort(([a], [c]) => compareSubs(bytes(a), bytes(c)));
  for (const [col, f] of [
    [2, (s: { pkg: string | null }) => Buffer.from(s.pkg ?? '').toString('hex')],
    [3, (_s: unknown, id: string) => (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(id) ? id.replaceAll(':', '') : '')],
    [4, (s: { ips: string[] }) => s.ips.length],
    [5, (s: { time: number }) => dateAndTime(s.time).toString('hex')],
  ] as const) {
    for (const [id, s] of rows) model.push({ sub: [2, 1, col, ...bytes(id)], value: (f as (s: unknown, id: string) => unknown)(s, id) });
  }
  const mrows = [...maps.entries()].sort(([a], [c]) => compareSubs(ipSubs(a), ipSubs(c)));
  for (const col of [2, 3, 4]) {
    for (const [ip, m] of mrows) {
      const v = col === 2 ? Buffer.from(m.sub).toString('hex') : col === 3 ? m.chaddr.replaceAll(':', '') : dateAndTime(m.exp).toString('hex');
      model.push({ sub: [3, 1, col, ...ipSubs(ip)], value: v });
    }
  }
  for (const [name, n] of [['events.logon', 3], ['ignored.DISCOVER', 1], ['transactions', 2 ** 40]] as const) {
    model.push({ sub: [4, 1, 2, ...bytes(name)], value: counter64Ber(n).toString('hex') });
  }
  model.sort((a, c) => compareSubs(a.sub, c.sub));
});

afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const regions = (): Array<{ r: LegTables['regions'][number]; prefix: number[] }> => tables.regions.map((r) => ({ r, prefix: parseOid(r.oid) }));
const prefix = parseOid(OID);

function next(after: Sub): { sub: number[]; value: unknown } | undefined {
  const n = virtualNext(regions(), [...prefix, ...after]);
  return n ? { sub: n.oid.slice(prefix.length), value: val(n.cell.value) } : undefined;
}

describe('cpeLeg virtual tables', () => {
  it('a walk from the subtree root visits exactly the model, in order', () => {
    const seen: Array<{ sub: number[]; value: unknown }> = [];
    let at: number[] = [];
    for (let n = next(at); n; n = next(at)) {
      seen.push(n);
      at = n.sub;
      if (seen.length > model.length + 5) break;
    }
    expect(seen).toEqual(model);
  });

  it('GETNEXT from any start = the first model instance after it (fast-check)', () => {
    const known = (): fc.Arbitrary<number[]> => fc.constantFrom(...model.map((m) => m.sub));
    const start = fc.oneof(
      fc.array(fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 300 }), fc.constant(2 ** 32 - 1)), { maxLength: 8 }),
      known(),
      // a model instance cut short, or extended, or with one sub-id changed
      fc.tuple(known(), fc.nat(), fc.integer({ min: 0, max: 400 })).map(([s, i, v]) => s.slice(0, i % (s.length + 1))),
      fc.tuple(known(), fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 3 })).map(([s, e]) => [...s, ...e]),
      fc.tuple(known(), fc.nat(), fc.integer({ min: 0, max: 400 })).map(([s, i, v]) => s.map((x, j) => (j === i % s.length ? v : x))),
    );
    fc.assert(
      fc.property(start, (s) => {
        const want = model.find((m) => compareSubs(m.sub, s) > 0);
        expect(next(s)).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('GET answers the model cell, and nothing for an OID that is not an instance', () => {
    for (const m of model) {
      const r = tables.regions.find((x) => compareSubs(parseOid(x.oid), [...prefix, ...m.sub].slice(0, parseOid(x.oid).length)) === 0);
      const cell = r?.get([...prefix, ...m.sub].slice(parseOid(r.oid).length));
      expect(val(cell?.value)).toEqual(m.value);
    }
    const subs = tables.regions[1];
    expect(subs?.get([2, ...bytes('nobody')])).toBeUndefined();
    expect(subs?.get([9, ...bytes('a')])).toBeUndefined();
    expect(subs?.get([2, 300])).toBeUndefined();
    expect(tables.regions[2]?.get([2, 9, 255, 255, 255])).toBeUndefined(); // ended mapping
  });
});

describe('helpers', () => {
  it('ipLowerBound: the first address after an index', () => {
    expect(ipLowerBound([])).toBe(0);
    expect(ipLowerBound([10])).toBe(10 * 2 ** 24);
    expect(ipLowerBound([10, 0, 0, 9])).toBe(10 * 2 ** 24 + 10);
    expect(ipLowerBound([10, 0, 0, 9, 1])).toBe(10 * 2 ** 24 + 10);
    expect(ipLowerBound([10, 300])).toBe(11 * 2 ** 24);
    expect(ipLowerBound([300])).toBeUndefined();
    expect(ipLowerBound([255, 255, 255, 255])).toBe(2 ** 32);
  });
  it('DateAndTime in UTC, MAC bytes, minimal Counter64 octets', () => {
    expect(dateAndTime(T0).toString('hex')).toBe('07ea0c0308000002' + '2b0000');
    expect(dateAndTime(null).length).toBe(0);
    expect(macBytes('aa:bb:cc:dd:ee:ff').toString('hex')).toBe('aabbccddeeff');
    expect(macBytes('IP_1.2.3.4').length).toBe(0);
    expect(counter64Ber(0).toString('hex')).toBe('00');
    expect(counter64Ber(255).toString('hex')).toBe('00ff');
    expect(counter64Ber(2 ** 40).toString('hex')).toBe('010000000000');
  });
});
