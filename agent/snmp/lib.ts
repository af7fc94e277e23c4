/**
 * net-snmp fixes that must hold wherever the library runs.
 *
 * The library is sloppy-mode JavaScript; in the esbuild bundle (dist/, "use strict" at the
 * top) every module runs strict, and the Mib's `providers` Proxy, whose set/deleteProperty
 * traps return nothing, throws "'set' on proxy: trap returned falsish" on the first
 * registerProvider. createMib() replaces that proxy with one whose traps return true.
 *
 * AgentX varbind encoding (AgentXPdu.writeVarBind): an IpAddress calls a method that does not
 * exist (`buffer.writeOctetString`), and an OCTET STRING is written with its length in
 * characters (wrong for UTF-8 text) and fails for a Buffer value. fixAgentxEncoding() replaces
 * the OCTET STRING writer and encodes IpAddress values itself.
 */
import snmp, { type Mib } from 'net-snmp';

interface SmartBufferLike {
  writeUInt16BE(v: number): void;
  writeUInt32BE(v: number): void;
  writeUInt8(v: number): void;
  writeBuffer(b: Buffer): void;
}
interface AgentxCodec {
  writeOctetString(buffer: SmartBufferLike, v: unknown): void;
  writeVarBind(buffer: SmartBufferLike, vb: { type: number; oid: string; value: unknown }): void;
  writeOid(buffer: SmartBufferLike, oid: string): void;
}

let agentxFixed = false;

export function fixAgentxEncoding(): void {
  if (agentxFixed) return;
  agentxFixed = true;
  const codec = snmp.AgentXPdu as unknown as AgentxCodec;
  const writeOctets = (buffer: SmartBufferLike, v: unknown): void => {
    const b = Buffer.isBuffer(v) ? v : Buffer.from(String(v ?? ''), 'utf8');
    buffer.writeUInt32BE(b.length);
    buffer.writeBuffer(b);
    for (let i = 0; i < (4 - (b.length % 4)) % 4; i++) buffer.writeUInt8(0);
  };
  codec.writeOctetString = writeOctets;
  const writeVarBind = codec.writeVarBind.bind(codec);
  codec.writeVarBind = (buffer, vb) => {
    if (vb.type !== snmp.ObjectType.IpAddress || !vb.oid) return writeVarBind(buffer, vb);
    buffer.writeUInt16BE(vb.type);
    buffer.writeUInt16BE(0);
    codec.writeOid(buffer, vb.oid);
    writeOctets(buffer, Buffer.from(String(vb.value).split('.').map(Number)));
  };
}

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
