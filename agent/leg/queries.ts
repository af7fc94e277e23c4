/**
 * Read-only views of the subscriber manager database for `leg show|list|counters` (and,
 * later, SNMP tables). They read SQLite directly, so they work beside a running LEG (WAL).
 */
import { DatabaseSync } from 'node:sqlite';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../errors.ts';
import { DB_FILE, SCHEMA_VERSION, rowToMapping, rowToSubscriber } from './store.ts';
import type { IpMapping, SubscriberRecord } from './state.ts';

export function openReadOnly(dir: string): DatabaseSync {
  const path = join(dir, DB_FILE);
  if (!existsSync(path)) throw new AgentError('LEG_STATE_MISSING', `no LEG database in ${dir}`, { dir });
  const db = new DatabaseSync(path, { readOnly: true });
  db.exec('PRAGMA busy_timeout = 5000');
  const v = Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
  if (v !== SCHEMA_VERSION) {
    db.close();
    throw new AgentError('LEG_STATE_VERSION', `${path} has schema ${v}, expected ${SCHEMA_VERSION} (run the LEG once to migrate)`, { path, version: v });
  }
  return db;
}

export interface MappingView {
  ip: string;
  subscriber: string;
  chaddr: string;
  active: boolean;
  leaseSeconds: number;
  expires: string | null;
  updated: string;
  endReason: string | null;
}

export interface SubscriberView {
  subscriber: string;
  package: string | null;
  modem: boolean;
  created: string;
  updated: string;
  ips: MappingView[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function mappingView(m: IpMapping): MappingView {
  return {
    ip: m.ip,
    subscriber: m.subscriber,
    chaddr: m.chaddr,
    active: m.active,
    leaseSeconds: m.leaseSeconds,
    expires: m.expiresAt === null ? null : iso(m.expiresAt),
    updated: iso(m.updatedAt),
    endReason: m.endReason,
  };
}

function subscriberView(s: SubscriberRecord, maps: IpMapping[]): SubscriberView {
  return { subscriber: s.id, package: s.package, modem: s.modem, created: iso(s.createdAt), updated: iso(s.updatedAt), ips: maps.map(mappingView) };
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** A subscriber by ID (with all its mappings), or the subscriber holding an IP. */
export function show(db: DatabaseSync, key: string): SubscriberView | undefined {
  let id = key;
  if (IPV4.test(key) && !key.startsWith('IP_')) {
    const m = db.prepare('SELECT subscriber FROM mapping WHERE ip = ?').get(key);
    if (!m) return undefined;
    id = String(m.subscriber);
  }
  const row = db.prepare('SELECT * FROM subscriber WHERE id = ?').get(id);
  if (!row) return undefined;
  const maps = db.prepare('SELECT * FROM mapping WHERE subscriber = ? ORDER BY active DESC, ip').all(id).map(rowToMapping);
  return subscriberView(rowToSubscriber(row), maps);
}

/** Subscribers with their active IP mappings. */
export function list(db: DatabaseSync): SubscriberView[] {
  const byId = new Map<string, IpMapping[]>();
  for (const r of db.prepare('SELECT * FROM mapping WHERE active = 1 ORDER BY subscriber, ip').iterate()) {
    const m = rowToMapping(r);
    const a = byId.get(m.subscriber);
    if (a) a.push(m);
    else byId.set(m.subscriber, [m]);
  }
  const out: SubscriberView[] = [];
  for (const r of db.prepare('SELECT * FROM subscriber ORDER BY id').iterate()) {
    const s = rowToSubscriber(r);
    out.push(subscriberView(s, byId.get(s.id) ?? []));
  }
  return out;
}

export function counters(db: DatabaseSync): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of db.prepare('SELECT name, value FROM counter ORDER BY name').iterate()) out[String(r.name)] = Number(r.value);
  return out;
}
