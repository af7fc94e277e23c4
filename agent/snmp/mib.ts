/**
 * Scalars (agent/snmp/objects.ts) → net-snmp providers on one `Mib`. Reads run the object's
 * getter on the current view (the status model); writable objects validate on the library's
 * test pass and act on its commit pass only (net-snmp calls a set handler twice).
 */
import snmp, { type ErrorStatusValue, type Mib, type MibRequest, type VarbindValue } from 'net-snmp';
import type { ScalarDef, View } from './objects.ts';

/** A writable object: `test` returns an SNMP error status (0 = accept); `commit` acts. */
export interface Writable {
  test(value: VarbindValue | undefined): ErrorStatusValue;
  commit(value: string | number): void;
}

const AX = snmp.AgentXPduType;

export interface ViewSource {
  /** the view for this request (cached by the caller for the current event-loop turn) */
  view(): View;
}

export function registerScalars(mib: Mib, defs: readonly ScalarDef[], source: ViewSource, writables: Readonly<Record<string, Writable>> = {}): void {
  for (const def of defs) {
    const w = writables[def.name];
    if (def.writable && !w) throw new Error(`writable ${def.name} without a set handler`);
    mib.registerProvider({
      name: def.name,
      type: snmp.MibProviderType.Scalar,
      oid: def.oid,
      scalarType: def.type,
      maxAccess: def.writable ? snmp.MaxAccess['read-write'] : snmp.MaxAccess['read-only'],
      handler: (req: MibRequest) => {
        const op = req.operation;
        // SNMP SetRequest (standalone; the library calls twice: test, then commit) or the AgentX
        // TestSet / CommitSet / UndoSet PDUs (subagent)
        if (w && (op === snmp.PduType.SetRequest || op === AX.TestSet || op === AX.CommitSet || op === AX.UndoSet)) {
          if (op === AX.UndoSet) {
            req.done();
            return;
          }
          if (req.testSet) {
            const err = w.test(req.setValue);
            req.done(err === snmp.ErrorStatus.NoError ? undefined : { errorStatus: err });
            return;
          }
          const v = req.setValue;
          if (typeof v === 'string' || typeof v === 'number') w.commit(v);
          req.done();
          return;
        }
        req.instanceNode.value = def.get(source.view());
        req.done();
      },
    });
    mib.setScalarValue(def.name, def.get(source.view()));
  }
}

/**
 * Before the library processes a SET: the type check it lacks: it casts the value to the object's type (an OctetString
 * "1" would pass as Integer 1). A varbind whose BER type differs from the object's gets a
 * value that the library's cast rejects, so it answers wrongType and nothing is committed.
 */
export function prepareSet(mib: Mib, varbinds: Array<{ oid: string; type: number; value: unknown }>): void {
  for (const vb of varbinds) {
    const node = mib.lookup(vb.oid);
    if (node && node.value !== undefined && node.valueType !== vb.type) vb.value = { wrongType: vb.type };
    // The library turns an OCTET STRING into text with Buffer#toString() (UTF-8), which
    // mangles binary values (an InetAddress); latin1 keeps every byte: handlers decode it.
    else if (Buffer.isBuffer(vb.value)) vb.value = vb.value.toString('latin1');
  }
}
