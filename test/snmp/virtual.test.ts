/**
 * agent/snmp/virtual.ts inside net-snmp's own agent (UDP on 127.0.0.1, npm net-snmp as the
 * manager): a virtual table between scalars of the Mib's tree is walked in OID order by
 * GETNEXT and GETBULK, its rows never enter the tree, a missing row is noSuchInstance, a SET
 * is notWritable, and the end of the MIB ends a GETBULK (one endOfMibView, not a response full).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import snmp, { type Agent, type Mib, type Varbind } from 'net-snmp';
import { createMib } from '../../agent/snmp/lib.ts';
import { attachVirtual, type AgentxTarget } from '../../agent/snmp/virtual.ts';
import { tableRegion } from '../../agent/snmp/leg-tables.ts';
import { compareSubs } from '../../agent/snmp/virtual.ts';
import { freePort } from './fixtures.ts';
import { set, v2 } from './client.ts';

const TABLE = '1.3.6.1.4.1.32473.1.1.5.3.1';
const rows = [
  [10, 0, 0, 1],
  [10, 0, 0, 2],
  [10, 0, 1, 0],
  [198, 18, 0, 7],
];
let agent: Agent;
let mib: Mib;
let port: number;
let seeks = 0;

beforeAll(async () => {
  port = await freePort();
  mib = createMib();
  for (const [name, oid] of [
    ['before', '1.3.6.1.2.1.1.1'],
    ['after', '1.3.6.1.4.1.32473.1.1.6'],
  ] as const) {
    mib.registerProvider({ name, type: snmp.MibProviderType.Scalar, oid, scalarType: snmp.ObjectType.OctetString, maxAccess: snmp.MaxAccess['read-only'] });
    mib.setScalarValue(name, name);
  }
  const region = tableRegion<number[]>(TABLE, {
    columns: [2, 3],
    after(idx) {
      seeks++;
      return rows.find((r) => compareSubs(r, idx) > 0);
    },
    at: (idx) => rows.find((r) => compareSubs(r, idx) === 0),
    index: (r) => r,
    cell: (r, col) => (col === 2 ? { type: snmp.ObjectType.OctetString, value: `row ${r.join('.')}` } : { type: snmp.ObjectType.Gauge32, value: r[3] as number }),
  });
  const v = attachVirtual(mib, [region]);
  agent = snmp.createAgent({ port, address: '127.0.0.1', accessControlModelType: snmp.AccessControlModelType.Simple }, () => undefined, mib);
  agent.getAuthorizer().addCommunity('pub');
  agent.getAuthorizer().getAccessControlModel().setCommunityAccess('pub', snmp.AccessLevel.ReadOnly);
  agent.getAuthorizer().addCommunity('priv');
  agent.getAuthorizer().getAccessControlModel().setCommunityAccess('priv', snmp.AccessLevel.ReadWrite);
  v.serve(agent);
});
afterAll(() => agent?.close());

const expected = [
  '1.3.6.1.2.1.1.1.0',
  ...[2, 3].flatMap((c) => rows.map((r) => `${TABLE}.${c}.${r.join('.')}`)),
  '1.3.6.1.4.1.32473.1.1.6.0',
];

function call<T>(fn: (cb: (err: Error | null, v?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
}

describe('virtual regions in net-snmp', () => {
  it('GETNEXT walks tree, table (column by column, rows in index order), tree, then endOfMibView', async () => {
    const s = v2(port, 'pub');
    const seen: Varbind[] = [];
    let at = '1.3.6.1';
    for (;;) {
      const vb = (await call<Varbind[]>((cb) => s.getNext([at], cb)))[0] as Varbind;
      if (vb.type === snmp.ObjectType.EndOfMibView) break;
      seen.push(vb);
      at = vb.oid;
      if (seen.length > 20) break;
    }
    s.close();
    expect(seen.map((v) => v.oid)).toEqual(expected);
    expect(seen[1]).toMatchObject({ type: snmp.ObjectType.OctetString });
    expect(String(seen[1]?.value)).toBe('row 10.0.0.1');
    expect(seen[5]).toMatchObject({ type: snmp.ObjectType.Gauge32, value: 1 });
    // the rows live in the source only: the Mib's tree has no node under the table
    expect((mib as unknown as { lookupAddress(a: number[]): unknown }).lookupAddress(TABLE.split('.').map(Number))).toBeNull();
  });

  it('GETBULK returns the same sequence and stops at the end of the MIB', async () => {
    const s = v2(port, 'pub');
    const vbs = await call<Varbind[]>((cb) => s.getBulk(['1.3.6.1'], 0, 50, cb as never));
    s.close();
    const flat = vbs.flat();
    expect(flat.filter((v) => v.type !== snmp.ObjectType.EndOfMibView).map((v) => v.oid)).toEqual(expected);
    expect(flat.filter((v) => v.type === snmp.ObjectType.EndOfMibView)).toHaveLength(1);
  });

  it('GET of a row: its value; of a missing row: noSuchInstance; SET: notWritable', async () => {
    const s = v2(port, 'pub');
    const got = await call<Varbind[]>((cb) => s.get([`${TABLE}.3.198.18.0.7`, `${TABLE}.3.198.18.0.8`, `${TABLE}.9.10.0.0.1`], cb));
    expect(got[0]).toMatchObject({ type: snmp.ObjectType.Gauge32, value: 7 });
    expect(got[1]?.type).toBe(snmp.ObjectType.NoSuchInstance);
    expect(got[2]?.type).toBe(snmp.ObjectType.NoSuchInstance);
    s.close();
    const w = v2(port, 'priv');
    const r = await set(w, [{ oid: `${TABLE}.3.198.18.0.7`, type: snmp.ObjectType.Gauge32, value: 1 }]);
    w.close();
    expect(!r.ok && r.error.status).toBe(snmp.ErrorStatus.NotWritable);
  });

  it('one seek per GETNEXT inside the table', async () => {
    const s = v2(port, 'pub');
    const before = seeks;
    await call<Varbind[]>((cb) => s.getNext([`${TABLE}.2.10.0.0.1`], cb));
    s.close();
    expect(seeks - before).toBe(1);
  });
});

describe('AgentX GetNext shortcut (serveAgentx)', () => {
  function fakeSub(): { sub: AgentxTarget; library: string[][]; sent: Array<Array<{ oid: string; type: number; value: unknown }>> } {
    const library: string[][] = [];
    const sent: Array<Array<{ oid: string; type: number; value: unknown }>> = [];
    const sub: AgentxTarget = {
      addGetNextVarbind: () => null,
      getNextRequest: (pdu) => void library.push(pdu.searchRangeList.map((r) => r.start)),
      sendResponse: (_pdu, vbs) => void sent.push(vbs ?? []),
    };
    return { sub, library, sent };
  }
  const pdu = (...starts: string[]) => ({ searchRangeList: starts.map((start) => ({ start })), getResponsePduForRequest: () => ({}) });

  it('answers from the regions at once; a tree object goes the library\'s way; the end is endOfMibView', () => {
    const m = createMib();
    m.registerProvider({ name: 'tree', type: snmp.MibProviderType.Scalar, oid: '1.3.6.1.4.1.32473.1.1.6', scalarType: snmp.ObjectType.OctetString, maxAccess: snmp.MaxAccess['read-only'] });
    m.setScalarValue('tree', 'x');
    const region = tableRegion<number[]>(TABLE, {
      columns: [2],
      after: (idx) => rows.find((r) => compareSubs(r, idx) > 0),
      at: (idx) => rows.find((r) => compareSubs(r, idx) === 0),
      index: (r) => r,
      cell: (r) => ({ type: snmp.ObjectType.Gauge32, value: r[3] as number }),
    });
    const v = attachVirtual(m, [region]);
    const { sub, library, sent } = fakeSub();
    v.serveAgentx(sub);
    sub.getNextRequest(pdu(TABLE, `${TABLE}.2.10.0.0.2`));
    expect(library).toEqual([]);
    expect(sent).toEqual([
      [
        { oid: `${TABLE}.2.10.0.0.1`, type: snmp.ObjectType.Gauge32, value: 1 },
        { oid: `${TABLE}.2.10.0.1.0`, type: snmp.ObjectType.Gauge32, value: 0 },
      ],
    ]);
    sub.getNextRequest(pdu(`${TABLE}.2.198.18.0.7`));
    expect(library).toEqual([[`${TABLE}.2.198.18.0.7`]]);
    sub.getNextRequest(pdu('1.3.6.1.4.1.32473.1.1.6.0'));
    expect(sent[1]).toEqual([{ oid: '1.3.6.1.4.1.32473.1.1.6.0', type: snmp.ObjectType.EndOfMibView, value: null }]);
  });
});

