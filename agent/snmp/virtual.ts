/**
 * Virtual regions of a net-snmp `Mib`: subtrees whose instances are not stored in the Mib's
 * tree but found on demand, so a table of 10⁵ rows answers GETNEXT/GETBULK with one index seek
 * per value instead of a copy of every row in the library's tree.
 *
 * net-snmp 3.29 answers GetNext and GetBulk (SNMP agent and AgentX subagent alike) through the
 * instance method `addGetNextVarbind(varbinds, startOid)` and then runs every varbind through
 * `mib.lookup(oid)` → `getProviderNodeForInstance(node)` → `isAllowed` → the provider's handler
 * (none: the node's value is answered). attachVirtual() overrides:
 *   - `addGetNextVarbind` on the agent: the next instance is the smaller of the tree's next and
 *     the first virtual instance after the start (`region.next`);
 *   - `mib.lookup`: an OID under a region is looked up with `region.get`, giving a detached
 *     node whose provider is a read-only scalar (so SET answers notWritable, GET the value);
 *   - `mib.getAncestorProviderFromOid`: a missing instance under a region is noSuchInstance.
 * Instances found by a GetNext are remembered until the end of the event-loop turn, so the
 * library's lookup of the same OID right after costs no second seek.
 */
import snmp, { type Mib, type ObjectTypeValue, type ProviderDefinition, type VarbindValue } from 'net-snmp';

export type Sub = readonly number[];

export interface Cell {
  type: ObjectTypeValue;
  value: VarbindValue;
}

/** An instance below a region: its sub-identifiers relative to the region's OID, and its value. */
export interface VirtualInstance extends Cell {
  sub: number[];
}

export interface VirtualRegion {
  /** the region's OID; every instance lies strictly below it */
  readonly oid: string;
  /** the first instance after `after` (relative sub-ids; [] = before the first instance) */
  next(after: Sub): VirtualInstance | undefined;
  /** the instance at exactly `sub`, if there is one */
  get(sub: Sub): Cell | undefined;
}

/** OID order (RFC 3416): sub-identifier by sub-identifier, a prefix before its extensions. */
export function compareSubs(a: Sub, b: Sub): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export const parseOid = (oid: string): number[] => (oid === '' ? [] : oid.split('.').map(Number));

interface Region {
  r: VirtualRegion;
  prefix: number[];
}

/** Where `oid` stands against the region: below it (relative sub-ids), before it, or after it. */
function relate(prefix: number[], oid: number[]): { at: 'before' | 'after' } | { at: 'in'; sub: number[] } {
  const n = Math.min(prefix.length, oid.length);
  for (let i = 0; i < n; i++) {
    const d = (oid[i] as number) - (prefix[i] as number);
    if (d < 0) return { at: 'before' };
    if (d > 0) return { at: 'after' };
  }
  if (oid.length <= prefix.length) return { at: 'before' }; // the region's OID or an ancestor
  return { at: 'in', sub: oid.slice(prefix.length) };
}

/** The first virtual instance after `oid` in any region (regions sorted, disjoint). */
export function virtualNext(regions: readonly Region[], oid: number[]): { oid: number[]; cell: Cell } | undefined {
  for (const { r, prefix } of regions) {
    const rel = relate(prefix, oid);
    if (rel.at === 'after') continue;
    const found = r.next(rel.at === 'in' ? rel.sub : []);
    if (found) return { oid: [...prefix, ...found.sub], cell: found };
  }
  return undefined;
}

interface NodeLike {
  oid: string;
  valueType: ObjectTypeValue;
  value: VarbindValue;
}

/** The agent or subagent whose GetNext/GetBulk goes through `addGetNextVarbind`. */
export interface GetNextTarget {
  addGetNextVarbind(varbinds: Array<{ oid: string; type: number; value: unknown; previousOid?: string }>, startOid: string): unknown;
}

interface MibHooks {
  lookup(oid: string | number[]): unknown;
  getTreeNode(oid: string): { getNextInstanceNode(): NodeLike | null };
  getAncestorProviderFromOid(oid: string): ProviderDefinition | null;
}

export interface VirtualOptions {
  /** runs before the first virtual access of an event-loop turn (e.g. opens a read snapshot) */
  begin?: () => void;
  /** runs at the end of that turn */
  end?: () => void;
}

/** net-snmp's Subagent as the AgentX fast path sees it. */
export interface AgentxTarget extends GetNextTarget {
  getNextRequest(pdu: AgentxGetNext): void;
  sendResponse(pdu: unknown, varbinds?: Array<{ oid: string; type: number; value: unknown }>): void;
}
interface AgentxGetNext {
  searchRangeList: Array<{ start: string }>;
  getResponsePduForRequest(): unknown;
}

export interface Virtual {
  /** answers GetNext/GetBulk of this agent or subagent (each new AgentX session's too) */
  serve(target: GetNextTarget): void;
  /**
   * serve() for an AgentX subagent, plus a shorter path for GetNext, the PDU snmpd sends for
   * every value of a walk: when every answer lies in a virtual region (or is endOfMibView), the
   * response is built from the found values at once, without the library's per-varbind lookup
   * and request objects (instances in the tree still take the library's path: their handlers).
   */
  serveAgentx(sub: AgentxTarget): void;
}

interface BulkMessage {
  pdu: { nonRepeaters: number; maxRepetitions: number; varbinds: Array<{ oid: string; type: number; value: unknown }> };
}
/** The SNMP agent's GetBulk entry point (net-snmp Agent). */
export interface BulkAgent extends GetNextTarget {
  getBulkRequest(socket: unknown, message: BulkMessage, rinfo: unknown): void;
  request(socket: unknown, message: BulkMessage, rinfo: unknown): void;
}

/** varbinds per GetBulk response at most (about 40 KiB for table rows: below the UDP limit) */
export const MAX_BULK_VARBINDS = 1000;

/**
 * GetBulk as RFC 3416 4.2.3 defines it: the non-repeaters once, then up to max-repetitions
 * rounds of every repeater (net-snmp 3.29 stops at max-repetitions varbinds in all, so a
 * table fetched by columns, as `snmptable` does, got its last row split across two requests
 * and two states of the database). A repeater at the end of the MIB repeats endOfMibView;
 * the rounds stop when all are there or the response reaches MAX_BULK_VARBINDS.
 */
export function fixGetBulk(agent: BulkAgent): void {
  agent.getBulkRequest = (socket, message, rinfo) => {
    const pdu = message.pdu;
    const vbs = pdu.varbinds;
    const n = Math.max(0, Math.min(pdu.nonRepeaters, vbs.length));
    const out: Array<{ oid: string; type: number; value: unknown }> = [];
    for (let i = 0; i < n; i++) agent.addGetNextVarbind(out, (vbs[i] as { oid: string }).oid);
    const starts = vbs.slice(n).map((v) => v.oid);
    for (let r = 0; r < pdu.maxRepetitions && starts.length > 0 && out.length + starts.length <= Math.max(MAX_BULK_VARBINDS, n + starts.length); r++) {
      let ended = 0;
      for (let j = 0; j < starts.length; j++) {
        const node = agent.addGetNextVarbind(out, starts[j] as string) as { oid: string; type?: number } | null;
        if (!node || node.type === snmp.ObjectType.EndOfMibView) ended++;
        else starts[j] = node.oid;
      }
      if (ended === starts.length) break;
    }
    pdu.varbinds = out;
    agent.request(socket, message, rinfo);
  };
}

/**
 * Serves `regions` from `mib`. Regions must not overlap one another or any provider
 * registered in the Mib.
 */
export function attachVirtual(mib: Mib, regions: readonly VirtualRegion[], o: VirtualOptions = {}): Virtual {
  const rs: Region[] = regions.map((r) => ({ r, prefix: parseOid(r.oid) })).sort((a, b) => compareSubs(a.prefix, b.prefix));
  const m = mib as unknown as MibHooks;
  const treeLookup = m.lookup.bind(mib);
  const ancestor = m.getAncestorProviderFromOid.bind(mib);
  const providers = new Map<Region, { provider: ProviderDefinition }>();
  for (const x of rs) {
    providers.set(x, { provider: { name: `virtual:${x.r.oid}`, type: snmp.MibProviderType.Scalar, oid: x.r.oid, maxAccess: snmp.MaxAccess['read-only'] } });
  }
  // per-turn state: the snapshot is open, and the cells found by GetNext in this turn
  let open = false;
  const found = new Map<string, Cell>();
  const enter = (): void => {
    if (open) return;
    open = true;
    o.begin?.();
    setImmediate(() => {
      open = false;
      found.clear();
      o.end?.();
    });
  };
  const regionOf = (oid: number[]): { x: Region; sub: number[] } | undefined => {
    for (const x of rs) {
      const rel = relate(x.prefix, oid);
      if (rel.at === 'in') return { x, sub: rel.sub };
    }
    return undefined;
  };
  const node = (x: Region, oid: string, cell: Cell): unknown => {
    const p = providers.get(x);
    return { oid, valueType: cell.type, value: cell.value, provider: undefined, getAncestorProvider: () => p, getTableColumnFromInstanceNode: () => null, validateValue: () => false };
  };

  m.lookup = (oid: string | number[]): unknown => {
    // the library passes a string, or (setScalarValue) an array of sub-ids
    const a = typeof oid === 'string' ? parseOid(oid) : oid.map(Number);
    if (typeof oid !== 'string') oid = a.join('.');
    const hit = a.every((n) => Number.isInteger(n) && n >= 0) ? regionOf(a) : undefined;
    if (!hit) return treeLookup(oid);
    enter();
    const cell = found.get(oid) ?? hit.x.r.get(hit.sub);
    return cell ? node(hit.x, oid, cell) : null;
  };
  m.getAncestorProviderFromOid = (oid: string): ProviderDefinition | null => {
    const hit = regionOf(parseOid(oid));
    return hit ? (providers.get(hit.x)?.provider ?? null) : ancestor(oid);
  };

  const addGetNextVarbind: GetNextTarget['addGetNextVarbind'] = (varbinds, startOid) => {
    let start = parseOid(startOid);
    if (start.some((n) => !Number.isInteger(n) || n < 0)) start = [1, 3, 6, 1];
    enter();
    // inside a region: its next instance (if any) comes before anything in the tree
    const inside = regionOf(start);
    const v = inside ? inside.x.r.next(inside.sub) : undefined;
    let next: { oid: string; type: number; value: unknown } | undefined;
    if (inside && v) next = { oid: [...inside.x.prefix, ...v.sub].join('.'), type: v.type, value: v.value };
    else {
      const startNode = (treeLookup(start.join('.')) as { getNextInstanceNode(): NodeLike | null } | null) ?? m.getTreeNode(start.join('.'));
      const t = startNode.getNextInstanceNode();
      const vn = virtualNext(rs, start);
      if (vn && (!t || compareSubs(vn.oid, parseOid(t.oid)) < 0)) next = { oid: vn.oid.join('.'), type: vn.cell.type, value: vn.cell.value };
      else if (t) next = { oid: t.oid, type: t.valueType, value: t.value };
    }
    if (!next) {
      varbinds.push({ previousOid: startOid, oid: startOid, type: snmp.ObjectType.EndOfMibView, value: null });
      // (the library returns null here, and its GetBulk loop then fills the whole response
      // with endOfMibView: a node of that type ends the loop)
      return { oid: startOid, type: snmp.ObjectType.EndOfMibView };
    }
    found.set(next.oid, { type: next.type as ObjectTypeValue, value: next.value as VarbindValue });
    varbinds.push({ previousOid: startOid, ...next });
    // GetBulk continues from the returned node's `oid`
    return { oid: next.oid, valueType: next.type, value: next.value };
  };
  const isVirtual = (oid: string): boolean => regionOf(parseOid(oid)) !== undefined;
  return {
    serve(target) {
      target.addGetNextVarbind = addGetNextVarbind;
    },
    serveAgentx(sub) {
      sub.addGetNextVarbind = addGetNextVarbind;
      const library = sub.getNextRequest.bind(sub);
      sub.getNextRequest = (pdu) => {
        const out: Array<{ oid: string; type: number; value: unknown }> = [];
        for (const r of pdu.searchRangeList) {
          addGetNextVarbind(out, r.start);
          const vb = out[out.length - 1];
          if (vb && vb.type !== snmp.ObjectType.EndOfMibView && !isVirtual(vb.oid)) {
            library(pdu);
            return;
          }
        }
        sub.sendResponse(pdu.getResponsePduForRequest(), out.map((v) => ({ oid: v.oid, type: v.type, value: v.value })));
      };
    },
  };
}
