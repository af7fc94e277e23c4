/**
 * The LEG's subscriber database as CPE-AGENT-MIB cpeLeg (<enterprise>.1.1.5), served as
 * virtual regions (agent/snmp/virtual.ts) straight from SQLite's sorted indexes:
 *
 *   cpeLegScalars .1       subscriber count, active mapping count
 *   cpeLegSubscriberTable .2.1.C.<ID bytes>   (IMPLIED) package, modem MAC, IP count, last logon
 *   cpeLegMappingTable    .3.1.C.a.b.c.d      subscriber, chaddr, lease expiry (active only)
 *   cpeLegCounterTable    .4.1.2.<name bytes> (IMPLIED) Counter64 of `leg counters`
 *
 * A GETNEXT is one seek: the subscriber and counter tables by their TEXT primary keys (SQLite
 * compares text as UTF-8 bytes, which is the OID order of an IMPLIED string), the mapping
 * table by the partial index on ip_num (schema 2). Reads go through their own read-only
 * connection, one read transaction per event-loop turn: every value of one request comes
 * from one committed state of the database, never from a batch the LEG is still applying.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import snmp, { type VarbindValue } from 'net-snmp';
import { compareSubs, type Cell, type Sub, type VirtualInstance, type VirtualRegion } from './virtual.ts';

const T = snmp.ObjectType;

/** CPE-AGENT-MIB names of the objects served here, by OID relative to cpeLeg (for the MIB tests). */
export const LEG_OBJECTS: Readonly<Record<string, string>> = {
  cpeLegSubscriberCount: '1.1',
  cpeLegMappingCount: '1.2',
  cpeLegSubscriberTable: '2',
  cpeLegSubscriberEntry: '2.1',
  cpeLegSubId: '2.1.1',
  cpeLegSubPackage: '2.1.2',
  cpeLegSubModemMac: '2.1.3',
  cpeLegSubIpCount: '2.1.4',
  cpeLegSubLastLogon: '2.1.5',
  cpeLegMappingTable: '3',
  cpeLegMappingEntry: '3.1',
  cpeLegMapIp: '3.1.1',
  cpeLegMapSubscriber: '3.1.2',
  cpeLegMapChaddr: '3.1.3',
  cpeLegMapLeaseExpiry: '3.1.4',
  cpeLegCounterTable: '4',
  cpeLegCounterEntry: '4.1',
  cpeLegCounterName: '4.1.1',
  cpeLegCounterValue: '4.1.2',
  // carried by the notifications (agent/snmp/leg-notify.ts)
  cpeLegEventSubscriber: '5.1',
  cpeLegEventIp: '5.2',
  cpeLegEventPackage: '5.3',
  cpeLegEventReason: '5.4',
};
/** longest subscriber ID with a row: 128 sub-ids minus the column OID's 13 minus margin */
export const MAX_ID_BYTES = 112;
const MAX_COUNTER_NAME = 64;

/** Rows of a table as the virtual region sees them. */
export interface TableSource<R> {
  /** column numbers served, ascending */
  columns: readonly number[];
  /** the first row whose index comes after `idx` in OID order ([] = the first row) */
  after(idx: Sub): R | undefined;
  /** the row whose index is exactly `idx` */
  at(idx: Sub): R | undefined;
  index(row: R): number[];
  cell(row: R, column: number): Cell;
}

/** A conceptual table (<entry>.<column>.<index>) walked column by column. */
export function tableRegion<R>(entryOid: string, t: TableSource<R>): VirtualRegion {
  return {
    oid: entryOid,
    next(after: Sub): VirtualInstance | undefined {
      const c = after.length === 0 ? 0 : (after[0] as number);
      let first: R | undefined | null = null;
      for (const col of t.columns) {
        if (col < c) continue;
        let row: R | undefined;
        if (col === c && after.length > 1) row = t.after(after.slice(1));
        else row = first === null ? (first = t.after([])) : first;
        if (row) return { sub: [col, ...t.index(row)], ...t.cell(row, col) };
      }
      return undefined;
    },
    get(sub: Sub): Cell | undefined {
      const col = sub[0];
      if (col === undefined || !t.columns.includes(col)) return undefined;
      const row = t.at(sub.slice(1));
      return row ? t.cell(row, col) : undefined;
    },
  };
}

/** Scalars (<group>.<n>.0). */
export function scalarRegion(groupOid: string, scalars: ReadonlyArray<{ n: number; get(): Cell }>): VirtualRegion {
  const sorted = [...scalars].sort((a, b) => a.n - b.n);
  return {
    oid: groupOid,
    next(after) {
      for (const s of sorted) if (compareSubs([s.n, 0], after) > 0) return { sub: [s.n, 0], ...s.get() };
      return undefined;
    },
    get(sub) {
      const s = sub.length === 2 && sub[1] === 0 ? sorted.find((x) => x.n === sub[0]) : undefined;
      return s?.get();
    },
  };
}

/** The longest leading run of ASCII bytes of an index, as text: a lower bound for the seek. */
function asciiPrefix(idx: Sub): string {
  let s = '';
  for (const b of idx) {
    if (b > 0x7f) break;
    s += String.fromCharCode(b);
  }
  return s;
}

/** The exact text of an index of bytes (UTF-8), or undefined when it is none. */
function textOf(idx: Sub, max: number): string | undefined {
  if (idx.length === 0 || idx.length > max || idx.some((b) => b > 255)) return undefined;
  const buf = Buffer.from(idx);
  const s = buf.toString('utf8');
  return Buffer.from(s, 'utf8').equals(buf) ? s : undefined;
}

/**
 * An IMPLIED text index over a TEXT key. Usually one seek: `next` (key > ? LIMIT 1) from the
 * index as text when it is all ASCII, taken when its bytes fit in an OID. Otherwise (non-ASCII
 * sub-ids in the start, or a key too long for an OID) `from` iterates rows with key ≥ the
 * index's ASCII prefix, in key order, and the first whose bytes come after `idx` and fit wins.
 */
function textAfter(q: { next: StatementSync; from: StatementSync }, key: (r: Record<string, unknown>) => string, idx: Sub, max: number): Record<string, unknown> | undefined {
  const prefix = asciiPrefix(idx);
  if (prefix.length === idx.length) {
    const r = q.next.get(prefix);
    if (!r) return undefined;
    const k = key(r);
    if (k.length <= max && Buffer.byteLength(k, 'utf8') <= max) return r;
  }
  for (const r of q.from.iterate(prefix)) {
    const b = [...Buffer.from(key(r), 'utf8')];
    if (b.length > max || b.length === 0) continue;
    if (compareSubs(b, idx) > 0) return r;
  }
  return undefined;
}

/** "aa:bb:cc:dd:ee:ff" → its bytes; anything else → no octets. */
export function macBytes(text: string | null | undefined): Buffer {
  if (!text || !/^[0-9a-f]{2}(:[0-9a-f]{2})*$/i.test(text)) return Buffer.alloc(0);
  return Buffer.from(text.replaceAll(':', ''), 'hex');
}

const MAC6 = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** DateAndTime (SNMPv2-TC) in UTC: 11 octets; null → no octets. */
export function dateAndTime(ms: number | null): Buffer {
  if (ms === null) return Buffer.alloc(0);
  const d = new Date(ms);
  const b = Buffer.alloc(11);
  b.writeUInt16BE(d.getUTCFullYear(), 0);
  b[2] = d.getUTCMonth() + 1;
  b[3] = d.getUTCDate();
  b[4] = d.getUTCHours();
  b[5] = d.getUTCMinutes();
  b[6] = d.getUTCSeconds();
  b[7] = Math.floor(d.getUTCMilliseconds() / 100);
  b[8] = 0x2b; // '+'
  return b;
}

/** IpAddress index (4 sub-ids) → the smallest ip_num of a row after it, or undefined (none can be). */
export function ipLowerBound(idx: Sub): number | undefined {
  let v = 0;
  for (let i = 0; i < 4; i++) {
    if (i >= idx.length) return v * 256 ** (4 - i); // a prefix: every address under it comes after
    const b = idx[i] as number;
    if (b > 255) {
      // nothing under this prefix is after idx: the next prefix
      if (i === 0) return undefined;
      return (v + 1) * 256 ** (4 - i);
    }
    v = v * 256 + b;
  }
  return v + 1; // the address itself (or a longer OID under it) comes before every later one
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));
const str = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? ''));

export interface LegTablesOptions {
  /** <enterprise>.1.1.5 */
  oid: string;
  /** Counter64 as the transport writes it (SNMP: BER content bytes; AgentX: a bigint) */
  counter64(n: number): VarbindValue;
}

export interface LegTables {
  regions: VirtualRegion[];
  begin(): void;
  end(): void;
}

export function legTables(db: DatabaseSync, o: LegTablesOptions): LegTables {
  const subCols = 's.id, s.package, s.updated_at';
  const q = {
    subNext: db.prepare(`SELECT ${subCols} FROM subscriber s WHERE s.id > ? ORDER BY s.id LIMIT 1`),
    subFrom: db.prepare(`SELECT ${subCols} FROM subscriber s WHERE s.id >= ? ORDER BY s.id`),
    subAt: db.prepare(`SELECT ${subCols} FROM subscriber s WHERE s.id = ?`),
    subIps: db.prepare('SELECT count(*) AS n FROM mapping WHERE subscriber = ? AND active = 1'),
    mapFrom: db.prepare('SELECT ip, ip_num, subscriber, chaddr, expires_at FROM mapping WHERE active = 1 AND ip_num >= ? ORDER BY ip_num LIMIT 1'),
    mapAt: db.prepare('SELECT ip, ip_num, subscriber, chaddr, expires_at FROM mapping WHERE active = 1 AND ip_num = ?'),
    ctrNext: db.prepare('SELECT name, value FROM counter WHERE name > ? ORDER BY name LIMIT 1'),
    ctrFrom: db.prepare('SELECT name, value FROM counter WHERE name >= ? ORDER BY name'),
    ctrAt: db.prepare('SELECT name, value FROM counter WHERE name = ?'),
    subCount: db.prepare('SELECT count(*) AS n FROM subscriber'),
    mapCount: db.prepare('SELECT count(*) AS n FROM mapping WHERE active = 1'),
  };
  type Row = Record<string, unknown>;
  const idBytes = (r: Row): number[] => {
    const id = str(r.id);
    const out: number[] = [];
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      if (c > 0x7f) return [...Buffer.from(id, 'utf8')];
      out.push(c);
    }
    return out;
  };

  const subscribers = tableRegion<Row>(`${o.oid}.2.1`, {
    columns: [2, 3, 4, 5],
    after: (idx) => textAfter({ next: q.subNext, from: q.subFrom }, (r) => str(r.id), idx, MAX_ID_BYTES),
    at(idx) {
      const id = textOf(idx, MAX_ID_BYTES);
      return id === undefined ? undefined : q.subAt.get(id);
    },
    index: idBytes,
    cell(r, col) {
      const id = str(r.id);
      switch (col) {
        case 2:
          return { type: T.OctetString, value: Buffer.from(r.package === null ? '' : str(r.package), 'utf8') };
        case 3:
          return { type: T.OctetString, value: MAC6.test(id) ? macBytes(id) : Buffer.alloc(0) };
        case 4:
          return { type: T.Gauge32, value: Math.min(num(q.subIps.get(id)?.n), 0xffffffff) };
        default:
          return { type: T.OctetString, value: dateAndTime(num(r.updated_at)) };
      }
    },
  });

  const ipOf = (r: Row): number[] => {
    const n = num(r.ip_num);
    return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  };
  const mappings = tableRegion<Row>(`${o.oid}.3.1`, {
    columns: [2, 3, 4],
    after(idx) {
      const lo = ipLowerBound(idx);
      return lo === undefined || lo > 0xffffffff ? undefined : q.mapFrom.get(lo);
    },
    at(idx) {
      if (idx.length !== 4 || idx.some((b) => b > 255)) return undefined;
      return q.mapAt.get(((idx[0] as number) * 2 ** 24 + (idx[1] as number) * 65536 + (idx[2] as number) * 256 + (idx[3] as number)));
    },
    index: ipOf,
    cell(r, col) {
      if (col === 2) return { type: T.OctetString, value: Buffer.from(str(r.subscriber), 'utf8') };
      if (col === 3) return { type: T.OctetString, value: macBytes(str(r.chaddr)) };
      return { type: T.OctetString, value: dateAndTime(r.expires_at === null || r.expires_at === undefined ? null : num(r.expires_at)) };
    },
  });

  const counters = tableRegion<Row>(`${o.oid}.4.1`, {
    columns: [2],
    after: (idx) => textAfter({ next: q.ctrNext, from: q.ctrFrom }, (r) => str(r.name), idx, MAX_COUNTER_NAME),
    at(idx) {
      const name = textOf(idx, MAX_COUNTER_NAME);
      return name === undefined ? undefined : q.ctrAt.get(name);
    },
    index: (r) => [...Buffer.from(str(r.name), 'utf8')],
    cell: (r) => ({ type: T.Counter64, value: o.counter64(num(r.value)) }),
  });

  const scalars = scalarRegion(`${o.oid}.1`, [
    { n: 1, get: () => ({ type: T.Gauge32, value: Math.min(num(q.subCount.get()?.n), 0xffffffff) }) },
    { n: 2, get: () => ({ type: T.Gauge32, value: Math.min(num(q.mapCount.get()?.n), 0xffffffff) }) },
  ]);

  let inTxn = false;
  return {
    regions: [scalars, subscribers, mappings, counters],
    begin() {
      if (inTxn) return;
      db.exec('BEGIN');
      inTxn = true;
    },
    end() {
      if (!inTxn) return;
      inTxn = false;
      db.exec('COMMIT');
    },
  };
}

/** Counter64 for the SNMP encoder: the minimal unsigned BER content octets. */
export function counter64Ber(n: number): Buffer {
  let h = BigInt(Math.max(0, Math.floor(n))).toString(16);
  if (h.length % 2) h = '0' + h;
  if (parseInt(h.slice(0, 2), 16) & 0x80) h = '00' + h;
  return Buffer.from(h, 'hex');
}
