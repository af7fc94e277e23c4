/**
 * Schema 1 → 2 (agent/leg/store.ts): a database written by the previous agent (schema 1, as
 * it shipped) gains mapping.ip_num for every row and the two partial indexes; nothing else
 * changes, and the SNMP seeks use the indexes (query plan).
 */
import { afterEach, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DB_FILE, LegStore, SCHEMA_VERSION, ipNum } from '../../agent/leg/store.ts';
import { list, openReadOnly } from '../../agent/leg/queries.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** schema 1 exactly as agent/leg/store.ts created it before schema 2 */
const SCHEMA_1 = `CREATE TABLE subscriber (id TEXT PRIMARY KEY, package TEXT, modem INTEGER NOT NULL, last_xid INTEGER NOT NULL, last_chaddr TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE mapping (ip TEXT PRIMARY KEY, subscriber TEXT NOT NULL, chaddr TEXT NOT NULL, xid INTEGER NOT NULL, lease_seconds INTEGER NOT NULL, expires_at INTEGER, updated_at INTEGER NOT NULL, active INTEGER NOT NULL, end_reason TEXT) WITHOUT ROWID;
  CREATE INDEX mapping_subscriber ON mapping(subscriber);
  CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE position (source TEXT PRIMARY KEY, capture_id TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL) WITHOUT ROWID;
  PRAGMA user_version = 1;`;

it('migrates a schema-1 database: ip_num for every mapping, partial indexes, rows unchanged', () => {
  expect(SCHEMA_VERSION).toBe(2);
  const dir = mkdtempSync(join(tmpdir(), 'leg-migrate-'));
  dirs.push(dir);
  const v1 = new DatabaseSync(join(dir, DB_FILE));
  v1.exec(SCHEMA_1);
  v1.exec(`INSERT INTO subscriber VALUES ('sub1', 'gold', 0, 7, '02:00:00:00:00:01', 1000, 2000), ('sub2', NULL, 0, 8, '02:00:00:00:00:02', 1000, 3000);
    INSERT INTO mapping VALUES ('10.0.0.9', 'sub1', '02:00:00:00:00:01', 7, 600, 602000, 2000, 1, NULL),
      ('198.18.0.255', 'sub1', '02:00:00:00:00:01', 7, 600, 602000, 2000, 1, NULL),
      ('10.0.0.10', 'sub2', '02:00:00:00:00:02', 8, 600, 603000, 3000, 0, 'release');
    INSERT INTO counter VALUES ('transactions', 5);`);
  v1.close();

  const store = new LegStore(dir);
  expect(store.subscriber('sub1')).toMatchObject({ package: 'gold', updatedAt: 2000 });
  expect(store.activeMappings).toBe(2);
  // a new mapping written by schema 2 carries its ip_num too
  store.applyLogon({ kind: 'logon', subscriber: 'sub2', ip: '9.0.0.1', modem: false, leaseSeconds: 60, expiresAt: 70_000, package: null, time: 10_000, chaddr: '02:00:00:00:00:02', xid: 9, transaction: 'initial' });
  store.commit();
  store.close();

  const db = openReadOnly(dir);
  expect(Number(db.prepare('PRAGMA user_version').get()?.user_version)).toBe(2);
  const rows = db.prepare('SELECT ip, ip_num FROM mapping ORDER BY ip').all();
  expect(rows).toEqual([
    { ip: '10.0.0.10', ip_num: 10 * 2 ** 24 + 10 },
    { ip: '10.0.0.9', ip_num: 10 * 2 ** 24 + 9 },
    { ip: '198.18.0.255', ip_num: 198 * 2 ** 24 + 18 * 65536 + 255 },
    { ip: '9.0.0.1', ip_num: 9 * 2 ** 24 + 1 },
  ]);
  const plan = (sql: string, ...args: Array<string | number>): string =>
    db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...args)
      .map((r) => String(r.detail))
      .join('; ');
  expect(plan('SELECT ip FROM mapping WHERE active = 1 AND ip_num >= ? ORDER BY ip_num LIMIT 1', 0)).toContain('mapping_active_ip_num');
  expect(plan('SELECT count(*) FROM mapping m WHERE m.subscriber = ? AND m.active = 1', 'sub1')).toContain('mapping_active_subscriber');
  expect(list(db).map((s) => [s.subscriber, s.ips.map((m) => m.ip)])).toEqual([
    ['sub1', ['10.0.0.9', '198.18.0.255']],
    ['sub2', ['9.0.0.1']],
  ]);
  db.close();
  expect(ipNum('300.1.1.1')).toBe(-1);
});
