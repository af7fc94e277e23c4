/**
 * net-snmp fixes that must hold wherever the library runs.
 *
 * The library is sloppy-mode JavaScript; in the esbuild bundle (dist/, "use strict" at the
 * top) every module runs strict, and the Mib's `providers` Proxy, whose set/deleteProperty
 * traps return nothing, throws "'set' on proxy: trap returned falsish" on the first
 * registerProvider. createMib() replaces that proxy with one whose traps return true.
 */
import snmp, { type Mib } from 'net-snmp';

interface MibInternals {
  providers: Record<string, { oid: string }>;
  providersByOid: Record<string, unknown>;
}

export function createMib(): Mib {
  const mib = snmp.createMib();
  const m = mib as unknown as MibInternals;
  const byOid = m.providersByOid;
  const target: Record<string, { oid: string }> = {};
  m.providers = new Proxy(target, {
    set(t, key: string, value: { oid: string }) {
      t[key] = value;
      byOid[value.oid] = value;
      return true;
    },
    deleteProperty(t, key: string) {
      const p = t[key];
      if (p) delete byOid[p.oid];
      delete t[key];
      return true;
    },
  });
  return mib;
}
