import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { LegStore, DB_FILE, SCHEMA_VERSION } from '../../agent/leg/store.ts';
import type { LogonOp } from '../../agent/leg/state.ts';
import { CPE, T0 } from './helpers.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'leg-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function logon(ip: string, sub: string, time = T0, lease = 600): LogonOp {
  return { kind: 'logon', subscriber: sub, ip, modem: false, leaseSeconds: lease, expiresAt: time + lease * 1000, package: 'gold', time, chaddr: CPE, xid: 7, transaction: 'initial' };
}

describe('LegStore (node:sqlite)', () => {
  it('persists subscribers, mappings, counters and positions across a restart', () => {
    const dir = tmp();
    const a = new LegStore(dir);
    a.applyLogon(logon('198.18.80.10', 'sub1'));
    a.applyLogon(logon('198.18.80.11', 'sub1', T0 + 1000, 60));
    a.count('events.logon', 2);
    a.setPosition('replay', { captureId: 'abc', index: 42, time: T0 });
    a.commit();
    a.close();
    const b = new LegStore(dir);
    expect(b.mapping('198.18.80.10')).toMatchObject({ subscriber: 'sub1', active: true, expiresAt: T0 + 600_000, chaddr: CPE, xid: 7 });
    expect(b.subscriber('sub1')).toMatchObject({ package: 'gold', createdAt: T0, updatedAt: T0 + 1000 });
    expect(b.counterValues()).toEqual({ 'events.logon': 2 });
    expect(b.position('replay')).toEqual({ captureId: 'abc', index: 42, time: T0 });
    expect(b.activeMappings).toBe(2);
    // the expiry queue is rebuilt from the database
    expect(b.takeExpired(T0 + 70_000).map((m) => m.ip)).toEqual(['198.18.80.11']);
    b.close();
  });

  it('loses only what was never committed (a crash between batches)', () => {
    const dir = tmp();
    const a = new LegStore(dir);
    a.applyLogon(logon('198.18.80.10', 'sub1'));
    a.commit();
    a.applyLogon(logon('198.18.80.12', 'sub2'));
    a.close(); // no commit: as if the process died
    const b = new LegStore(dir);
    expect(b.mapping('198.18.80.10')?.active).toBe(true);
    expect(b.mapping('198.18.80.12')).toBeUndefined();
    expect(b.subscriber('sub2')).toBeUndefined();
    b.close();
  });

  it('uses WAL with synchronous=FULL and records the schema version', () => {
    const dir = tmp();
    const s = new LegStore(dir);
    expect(s.db.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
    expect(Number(s.db.prepare('PRAGMA synchronous').get()?.synchronous)).toBe(2);
    expect(Number(s.db.prepare('PRAGMA user_version').get()?.user_version)).toBe(SCHEMA_VERSION);
    s.close();
  });

  it('refuses a database from a newer agent', () => {
    const dir = tmp();
    const db = new DatabaseSync(join(dir, DB_FILE));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new LegStore(dir)).toThrow(expect.objectContaining({ code: 'LEG_STATE_NEWER' }));
    // the failed open released its lock
    expect(() => new LegStore(dir)).toThrow(expect.objectContaining({ code: 'LEG_STATE_NEWER' }));
  });

  it('one LEG per state directory; a stale lock of a dead process is taken over', () => {
    const dir = tmp();
    const a = new LegStore(dir);
    expect(() => new LegStore(dir)).toThrow(expect.objectContaining({ code: 'LEG_STATE_LOCKED' }));
    a.close();
    writeFileSync(join(dir, 'leg.lock'), '999999999\n');
    const b = new LegStore(dir);
    b.close();
  });

  it('logout keeps the mapping as history; renewals do not leave stale expiries behind', () => {
    const s = new LegStore();
    s.applyLogon(logon('198.18.80.10', 'sub1', T0, 10));
    s.applyLogon(logon('198.18.80.10', 'sub1', T0 + 5000, 10)); // renewed: now expires at T0+15 s
    expect(s.takeExpired(T0 + 12_000)).toEqual([]);
    expect(s.takeExpired(T0 + 16_000).map((m) => m.expiresAt)).toEqual([T0 + 15_000]);
    s.applyLogout({ kind: 'logout', subscriber: 'sub1', ip: '198.18.80.10', modem: false, reason: 'release', time: T0 + 16_000, chaddr: CPE, xid: 9, transaction: 'release' });
    expect(s.mapping('198.18.80.10')).toMatchObject({ active: false, endReason: 'release', xid: 9 });
    expect(s.activeMappings).toBe(0);
    s.close();
  });
});

describe('LegStore lookups used by the rules', () => {
  function modemLogon(mac: string, xid: number, time = T0): LogonOp {
    return { kind: 'logon', subscriber: mac, ip: '198.18.80.1', modem: true, leaseSeconds: 600, expiresAt: time + 600_000, package: null, time, chaddr: mac, xid, transaction: 'initial' };
  }
  const mac = (n: number): string => `02:0d:00:${((n >>> 16) & 255).toString(16).padStart(2, '0')}:${((n >>> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;

  // 300,000 logons and a restart: seconds of work, more on a loaded machine (not a timing test)
  it('modemCandidate: every modem is found by its last xid (also after a restart and filter rebuilds); most other xids need no lookup', { timeout: 60_000 }, () => {
    const dir = tmp();
    const s = new LegStore(dir);
    const last = new Map<string, number>();
    // more modem logons than the filter takes before it is rebuilt
    for (let i = 0; i < 300_000; i++) {
      const m = mac(i % 50_000);
      const xid = (i * 2654435761) >>> 0;
      s.applyLogon(modemLogon(m, xid, T0 + i));
      last.set(m, xid);
    }
    // a CPE logon of a modem's subscriber keeps the record a modem only when the op says so
    s.applyLogon(logon('198.18.80.10', mac(1)));
    for (const [m, xid] of last) {
      if (m === mac(1)) continue;
      expect(s.modemCandidate(m, xid)).toBe(s.subscriber(m));
    }
    let answered = 0;
    for (let x = 0; x < 10_000; x++) if (s.modemCandidate(mac(x % 50_000), 0x7fff0000 + x) !== undefined) answered++;
    expect(answered).toBeLessThan(5_000);
    s.commit();
    s.close();
    const b = new LegStore(dir);
    for (const [m, xid] of last) if (m !== mac(1)) expect(b.modemCandidate(m, xid)).toMatchObject({ id: m, modem: true, lastXid: xid });
    b.close();
  });

  it('mapping and subscriber lookups see records created and changed since the last lookup', () => {
    const s = new LegStore();
    expect(s.mapping('198.18.80.10')).toBeUndefined();
    expect(s.subscriber('sub1')).toBeUndefined();
    s.applyLogon(logon('198.18.80.10', 'sub1'));
    expect(s.mapping('198.18.80.10')).toMatchObject({ subscriber: 'sub1', active: true });
    expect(s.subscriber('sub1')).toMatchObject({ package: 'gold' });
    s.applyLogout({ kind: 'logout', subscriber: 'sub1', ip: '198.18.80.10', modem: false, reason: 'release', time: T0 + 1, chaddr: CPE, xid: 8, transaction: 'release' });
    expect(s.mapping('198.18.80.10')).toMatchObject({ active: false, endReason: 'release' });
    expect(s.mapping('198.18.80.11')).toBeUndefined();
    s.applyLogon(logon('198.18.80.11', 'sub2'));
    expect(s.mapping('198.18.80.11')).toMatchObject({ subscriber: 'sub2' });
    expect(s.subscriber('sub2')).toBeDefined();
    s.close();
  });
});
