/**
 * The subscriber manager's database: node:sqlite (WAL), authoritative on disk, with a
 * write-behind cache in memory so the hot path never waits for SQLite.
 *
 * Durability: changes are applied to the cache and written to SQLite in one transaction per
 * batch (`commit`), together with the counters and the replay position of the source. The
 * engine writes a batch's events only after its commit returned, so an event that was
 * reported is on disk (synchronous=FULL: the WAL is fsynced at every commit; NORMAL could
 * lose the last batches on power loss and the restarted LEG would report them again). A
 * crash loses at most the uncommitted batch, which was never reported; a replay restarts
 * from the committed position and reproduces it.
 *
 * Schema versions live in PRAGMA user_version; MIGRATIONS[i] upgrades i → i+1.
 * Version 2 adds mapping.ip_num (the address as an unsigned 32-bit number) with a partial
 * index over the active mappings, and an index of the active mappings by subscriber: the SNMP
 * tables (agent/snmp/leg-tables.ts) answer GETNEXT with one seek in those indexes.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../errors.ts';
import type { IpMapping, LogonOp, LogoutOp, StateView, SubscriberRecord } from './state.ts';
import { ExpiryHeap } from './expiry-heap.ts';
import { KeyTable, NO_KEY, ipKey, macKey } from './key-table.ts';

export const DB_FILE = 'leg.sqlite';
const LOCK_FILE = 'leg.lock';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE subscriber (
     id TEXT PRIMARY KEY,
     package TEXT,
     modem INTEGER NOT NULL,
     last_xid INTEGER NOT NULL,
     last_chaddr TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE mapping (
     ip TEXT PRIMARY KEY,
     subscriber TEXT NOT NULL,
     chaddr TEXT NOT NULL,
     xid INTEGER NOT NULL,
     lease_seconds INTEGER NOT NULL,
     expires_at INTEGER,
     updated_at INTEGER NOT NULL,
     active INTEGER NOT NULL,
     end_reason TEXT
   ) WITHOUT ROWID;
   CREATE INDEX mapping_subscriber ON mapping(subscriber);
   CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE position (source TEXT PRIMARY KEY, capture_id TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL) WITHOUT ROWID;`,
  `ALTER TABLE mapping ADD COLUMN ip_num INTEGER NOT NULL DEFAULT -1;
   UPDATE mapping SET ip_num = cpe_ip_num(ip);
   CREATE INDEX mapping_active_ip_num ON mapping(ip_num) WHERE active = 1;
   CREATE INDEX mapping_active_subscriber ON mapping(subscriber) WHERE active = 1;`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

export interface Position {
  /** identifies the capture (hash of its first packet) so a different file starts at 0 */
  captureId: string;
  /** packets of that capture already processed */
  index: number;
  /** capture time (ms) of the last processed packet */
  time: number;
}

export function openDatabase(path: string): DatabaseSync {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = 5000');
    if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
  } catch (e) {
    throw new AgentError('LEG_STATE_OPEN', `cannot open the LEG database ${path}: ${e instanceof Error ? e.message : String(e)}`, { path });
  }
  migrate(db, path);
  return db;
}

/** a.b.c.d → its unsigned 32-bit value; -1 when not an IPv4 address (sorts first, never served) */
export function ipNum(ip: string): number {
  const k = ipKey(ip);
  return k === NO_KEY ? -1 : k;
}

function migrate(db: DatabaseSync, path: string): void {
  db.function('cpe_ip_num', { deterministic: true }, (ip) => ipNum(String(ip)));
  const row = db.prepare('PRAGMA user_version').get();
  const version = Number(row?.user_version ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new AgentError('LEG_STATE_NEWER', `${path} has schema ${version}, this agent knows up to ${SCHEMA_VERSION}`, { path, version });
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(MIGRATIONS[v] as string);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw new AgentError('LEG_STATE_MIGRATE', `migrating ${path} to schema ${v + 1} failed: ${e instanceof Error ? e.message : String(e)}`, { path });
    }
  }
}

/** One LEG process per state directory: a pid lock file, stale locks (dead pid) are taken over. */
function acquireLock(dir: string): string {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return file;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw new AgentError('LEG_STATE_LOCK', `cannot lock ${dir}: ${String(e)}`, { dir });
      const pid = Number(readFileSync(file, 'utf8').trim());
      let alive = false;
      try {
        if (Number.isInteger(pid) && pid > 0) {
          process.kill(pid, 0);
          alive = true;
        }
      } catch {
        alive = false;
      }
      if (alive) throw new AgentError('LEG_STATE_LOCKED', `${dir} is in use by LEG process ${pid}`, { dir, pid });
      rmSync(file, { force: true });
    }
  }
  throw new AgentError('LEG_STATE_LOCK', `cannot lock ${dir}`, { dir });
}

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : Number(v ?? 0);
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : String(v ?? '');
}

export function rowToMapping(r: Record<string, unknown>): IpMapping {
  return {
    ip: str(r.ip),
    subscriber: str(r.subscriber),
    chaddr: str(r.chaddr),
    xid: num(r.xid),
    leaseSeconds: num(r.lease_seconds),
    expiresAt: r.expires_at === null || r.expires_at === undefined ? null : num(r.expires_at),
    updatedAt: num(r.updated_at),
    active: num(r.active) === 1,
    endReason: r.end_reason === null || r.end_reason === undefined ? null : str(r.end_reason),
    renewing: undefined,
  };
}

export function rowToSubscriber(r: Record<string, unknown>): SubscriberRecord {
  return {
    id: str(r.id),
    package: r.package === null || r.package === undefined ? null : str(r.package),
    modem: num(r.modem) === 1,
    lastXid: num(r.last_xid),
    lastChaddr: str(r.last_chaddr),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

/** The kind of ACK a logon came from (the duplicate rule tells a renewal from the initial ACK). */
function renewingOf(op: LogonOp): boolean | undefined {
  return op.transaction === 'extension' ? true : op.transaction === 'initial' ? false : undefined;
}

const MODEM_FILTER_BITS = 1 << 20;
function xidHash(xid: number): number {
  return (Math.imul(xid >>> 0, 0x9e3779b1) >>> 12) & (MODEM_FILTER_BITS - 1);
}

export class LegStore implements StateView {
  readonly db: DatabaseSync;
  private readonly lockFile: string | undefined;
  private readonly maps = new KeyTable<IpMapping>(ipKey);
  /** subscriber IDs: modem MACs (cable) by number, other IDs by text */
  private readonly subs = new KeyTable<SubscriberRecord>(macKey);
  private readonly dirtyMaps = new Set<IpMapping>();
  private readonly dirtySubs = new Set<SubscriberRecord>();
  /** counter cells: one lookup per count (every message counts twice) */
  private readonly counters = new Map<string, { value: number }>();
  private countersDirty = false;
  private changed = false;
  private readonly positions = new Map<string, Position>();
  private readonly dirtyPositions = new Set<string>();
  /** chaddr → the mapping of the last ACK applied for that client (DECLINE without option 50) */
  private readonly recentAcks = new KeyTable<IpMapping>(macKey);
  private readonly heap = new ExpiryHeap<IpMapping>();
  // The last lookup of each table: an ACK asks for its IP and subscriber in the rule and
  // again when applied (a lookup in a table of 10^5 entries misses the CPU caches).
  private memoIp: string | undefined;
  private memoMap: IpMapping | undefined;
  private memoSubId: string | undefined;
  private memoSub: SubscriberRecord | undefined;
  /**
   * One bit per xid hash, set for the last xid of every modem subscriber: a CPE ACK whose
   * xid no modem used needs no modem-duplicate lookup. Bits are only added (a stale bit costs
   * a lookup, never a wrong answer); rebuilt from the subscribers when many were set.
   */
  private readonly modemXids = new Uint8Array(MODEM_FILTER_BITS >>> 3);
  private modemMarks = 0;
  private modemRebuildAt = MODEM_FILTER_BITS >>> 3;
  private activeCount = 0;
  private closed = false;
  /** no state directory: the cache is the whole database (nothing outlives the process) */
  private readonly ephemeral: boolean;
  private readonly stmt: {
    upMap: StatementSync;
    upSub: StatementSync;
    upCounter: StatementSync;
    upPos: StatementSync;
  };

  /**
   * Opens (creating) the store in `dir`. Without `dir` the store is temporary: state lives in
   * memory only (an in-memory SQLite database holds the schema but is never written).
   */
  constructor(dir?: string) {
    this.ephemeral = dir === undefined;
    if (dir !== undefined) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new AgentError('LEG_STATE_OPEN', `cannot create state directory ${dir}: ${e instanceof Error ? e.message : String(e)}`, { dir });
      }
      this.lockFile = acquireLock(dir);
    }
    try {
      this.db = openDatabase(dir === undefined ? ':memory:' : join(dir, DB_FILE));
    } catch (e) {
      if (this.lockFile) rmSync(this.lockFile, { force: true });
      throw e;
    }
    this.stmt = {
      upMap: this.db.prepare(
        `INSERT INTO mapping (ip, subscriber, chaddr, xid, lease_seconds, expires_at, updated_at, active, end_reason, ip_num) VALUES (?,?,?,?,?,?,?,?,?,?)
         ON CONFLICT(ip) DO UPDATE SET subscriber=excluded.subscriber, chaddr=excluded.chaddr, xid=excluded.xid, lease_seconds=excluded.lease_seconds,
           expires_at=excluded.expires_at, updated_at=excluded.updated_at, active=excluded.active, end_reason=excluded.end_reason`,
      ),
      upSub: this.db.prepare(
        `INSERT INTO subscriber (id, package, modem, last_xid, last_chaddr, created_at, updated_at) VALUES (?,?,?,?,?,?,?)
         ON CONFLICT(id) DO UPDATE SET package=excluded.package, modem=excluded.modem, last_xid=excluded.last_xid,
           last_chaddr=excluded.last_chaddr, updated_at=excluded.updated_at`,
      ),
      upCounter: this.db.prepare('INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value'),
      upPos: this.db.prepare(
        'INSERT INTO position (source, capture_id, idx, time) VALUES (?,?,?,?) ON CONFLICT(source) DO UPDATE SET capture_id=excluded.capture_id, idx=excluded.idx, time=excluded.time',
      ),
    };
    this.load();
  }

  private load(): void {
    for (const r of this.db.prepare('SELECT * FROM subscriber').iterate()) {
      const s = rowToSubscriber(r);
      this.subs.set(s.id, s);
      if (s.modem) this.markModemXid(s.lastXid);
    }
    for (const r of this.db.prepare('SELECT * FROM mapping').iterate()) {
      const m = rowToMapping(r);
      this.maps.set(m.ip, m);
      if (m.active) {
        this.activeCount++;
        if (m.expiresAt !== null) this.heap.push(m.expiresAt, m);
        this.recentAcks.set(m.chaddr, m);
      }
    }
    for (const r of this.db.prepare('SELECT name, value FROM counter').iterate()) this.counters.set(str(r.name), { value: num(r.value) });
    for (const r of this.db.prepare('SELECT * FROM position').iterate()) {
      this.positions.set(str(r.source), { captureId: str(r.capture_id), index: num(r.idx), time: num(r.time) });
    }
  }

  // --- StateView
  mapping(ip: string): IpMapping | undefined {
    if (ip === this.memoIp) return this.memoMap;
    const m = this.maps.get(ip);
    this.memoIp = ip;
    this.memoMap = m;
    return m;
  }
  subscriber(id: string): SubscriberRecord | undefined {
    if (id === this.memoSubId) return this.memoSub;
    const s = this.subs.get(id);
    this.memoSubId = id;
    this.memoSub = s;
    return s;
  }
  modemCandidate(chaddr: string, xid: number): SubscriberRecord | undefined {
    const h = xidHash(xid);
    if (((this.modemXids[h >>> 3] as number) & (1 << (h & 7))) === 0) return undefined;
    return this.subscriber(chaddr);
  }
  private markModemXid(xid: number): void {
    if (++this.modemMarks > this.modemRebuildAt) {
      // many stale bits: start again from the modems' current xids (amortised: the next
      // rebuild comes after at least twice as many marks as there are modems)
      this.modemXids.fill(0);
      let modems = 0;
      for (const s of this.subs.values()) {
        if (!s.modem) continue;
        this.setModemBit(s.lastXid);
        modems++;
      }
      this.modemMarks = 0;
      this.modemRebuildAt = Math.max(MODEM_FILTER_BITS >>> 3, 2 * modems);
    }
    this.setModemBit(xid);
  }
  private setModemBit(xid: number): void {
    const h = xidHash(xid);
    this.modemXids[h >>> 3] = (this.modemXids[h >>> 3] as number) | (1 << (h & 7));
  }
  mappingByAck(chaddr: string, xid: number): IpMapping | undefined {
    const m = this.recentAcks.get(chaddr);
    return m && m.chaddr === chaddr && m.xid === xid ? m : undefined;
  }

  get subscriberCount(): number {
    return this.subs.size;
  }
  get activeMappings(): number {
    return this.activeCount;
  }

  // --- changes (cache now, disk at commit)
  // Records are updated in place: the cache owns them, and StateView callers only read.
  applyLogon(op: LogonOp): void {
    const s = this.logonSubscriber(op);
    if (op.modem) this.markModemXid(op.xid ?? 0);
    // The client as text the store already holds when there is one: a fresh copy per ACK
    // stored in a long-lived record would only become old-generation garbage.
    let c = op.chaddr ?? '';
    if (!op.modem && op.ip !== null) c = this.logonMapping(op, op.ip).chaddr;
    else if (c === s.id) c = s.id;
    if (s.lastChaddr !== c) s.lastChaddr = c;
  }

  private logonSubscriber(op: LogonOp): SubscriberRecord {
    let s = this.subscriber(op.subscriber);
    if (s) {
      s.package = op.package;
      s.modem = op.modem;
      s.lastXid = op.xid ?? 0;
      s.updatedAt = op.time;
    } else {
      s = {
        id: op.subscriber,
        package: op.package,
        modem: op.modem,
        lastXid: op.xid ?? 0,
        lastChaddr: op.chaddr ?? '',
        createdAt: op.time,
        updatedAt: op.time,
      };
      this.subs.set(op.subscriber, s);
      this.memoSubId = op.subscriber;
      this.memoSub = s;
    }
    this.markSub(s);
    return s;
  }

  private logonMapping(op: LogonOp, ip: string): IpMapping {
    let m = this.mapping(ip);
    if (!m?.active) this.activeCount++;
    if (m) {
      // equal text keeps the stored string (see applyLogon)
      if (m.subscriber !== op.subscriber) m.subscriber = op.subscriber;
      const c = op.chaddr ?? '';
      if (m.chaddr !== c) m.chaddr = c;
      m.xid = op.xid ?? 0;
      m.leaseSeconds = op.leaseSeconds;
      m.expiresAt = op.expiresAt;
      m.updatedAt = op.time;
      m.active = true;
      m.endReason = null;
      m.renewing = renewingOf(op);
    } else {
      m = {
        ip,
        subscriber: op.subscriber,
        chaddr: op.chaddr ?? '',
        xid: op.xid ?? 0,
        leaseSeconds: op.leaseSeconds,
        expiresAt: op.expiresAt,
        updatedAt: op.time,
        active: true,
        endReason: null,
        renewing: renewingOf(op),
      };
      this.maps.set(ip, m);
      this.memoIp = ip;
      this.memoMap = m;
    }
    this.markMap(m);
    if (m.expiresAt !== null) this.heap.push(m.expiresAt, m);
    this.recentAcks.set(m.chaddr, m);
    if (this.heap.size > 2 * this.activeCount + 4096) this.compactHeap();
    return m;
  }

  applyLogout(op: LogoutOp): void {
    const m = this.mapping(op.ip);
    if (!m || !m.active) return;
    this.activeCount--;
    m.active = false;
    m.endReason = op.reason;
    m.updatedAt = op.time;
    if (op.reason === 'release' || op.reason === 'decline') {
      m.xid = op.xid ?? m.xid;
      m.chaddr = op.chaddr ?? m.chaddr;
    }
    this.markMap(m);
  }

  // A temporary store is never written: no per-record dirty tracking, only "something changed".
  private markSub(s: SubscriberRecord): void {
    if (this.ephemeral) this.changed = true;
    else this.dirtySubs.add(s);
  }
  private markMap(m: IpMapping): void {
    if (this.ephemeral) this.changed = true;
    else this.dirtyMaps.add(m);
  }

  /** Earliest expiry time of an active mapping, if any (stale heap entries are dropped). */
  nextExpiry(): number | undefined {
    for (;;) {
      const t = this.heap.peekTime();
      if (t === undefined) return undefined;
      const m = this.heap.peekItem() as IpMapping;
      if (m.active && m.expiresAt === t) return t;
      this.heap.pop();
    }
  }

  /** Active mappings whose expiry is before `now`, earliest first (not yet logged out). */
  takeExpired(now: number): IpMapping[] {
    const out: IpMapping[] = [];
    for (;;) {
      const t = this.nextExpiry();
      if (t === undefined || t >= now) return out;
      out.push(this.heap.pop() as IpMapping);
    }
  }

  private compactHeap(): void {
    this.heap.compact((t, m) => m.active && m.expiresAt === t);
  }

  count(name: string, by = 1): void {
    const c = this.counters.get(name);
    if (c) c.value += by;
    else this.counters.set(name, { value: by });
    this.countersDirty = true;
  }
  counterValues(): Record<string, number> {
    return Object.fromEntries([...this.counters.entries()].map(([n, c]): [string, number] => [n, c.value]).sort(([a], [b]) => a.localeCompare(b)));
  }

  position(source: string): Position | undefined {
    return this.positions.get(source);
  }
  setPosition(source: string, p: Position): void {
    this.positions.set(source, p);
    this.dirtyPositions.add(source);
  }

  get dirty(): boolean {
    return this.changed || this.countersDirty || this.dirtyMaps.size + this.dirtySubs.size + this.dirtyPositions.size > 0;
  }

  /** Writes every change since the last commit in one SQLite transaction. */
  commit(): void {
    if (!this.dirty) return;
    if (this.ephemeral) {
      // A temporary database would be thrown away with the process: the in-memory cache
      // already answers every question, so skip writing it.
      this.clearDirty();
      return;
    }
    const { upMap, upSub, upCounter, upPos } = this.stmt;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const s of this.dirtySubs) {
        upSub.run(s.id, s.package, s.modem ? 1 : 0, s.lastXid, s.lastChaddr, s.createdAt, s.updatedAt);
      }
      for (const m of this.dirtyMaps) {
        upMap.run(m.ip, m.subscriber, m.chaddr, m.xid, m.leaseSeconds, m.expiresAt, m.updatedAt, m.active ? 1 : 0, m.endReason, ipNum(m.ip));
      }
      if (this.countersDirty) for (const [n, c] of this.counters) upCounter.run(n, c.value);
      for (const s of this.dirtyPositions) {
        const p = this.positions.get(s) as Position;
        upPos.run(s, p.captureId, p.index, p.time);
      }
      this.db.exec('COMMIT');
    } catch (e) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        /* the transaction is already gone */
      }
      throw new AgentError('LEG_STATE_WRITE', `committing LEG state failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.clearDirty();
  }

  private clearDirty(): void {
    this.changed = false;
    this.dirtySubs.clear();
    this.dirtyMaps.clear();
    this.countersDirty = false;
    this.dirtyPositions.clear();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } finally {
      if (this.lockFile) rmSync(this.lockFile, { force: true });
    }
  }
}
