/** npm net-snmp as the manager in unit tests: promise wrappers that return varbinds or the error. */
import snmp, { type Session, type Varbind } from 'net-snmp';

export type Result = { ok: true; varbinds: Varbind[] } | { ok: false; error: Error & { status?: number } };

export function v2(port: number, community: string, version: 0 | 1 = snmp.Version2c): Session {
  return snmp.createSession('127.0.0.1', community, { port, version, timeout: 300, retries: 0 });
}

export function v3(port: number, user: { name: string; authKey: string; privKey: string; sha256?: boolean }): Session {
  return snmp.createV3Session(
    '127.0.0.1',
    {
      name: user.name,
      level: snmp.SecurityLevel.authPriv,
      authProtocol: user.sha256 === false ? snmp.AuthProtocols.sha : snmp.AuthProtocols.sha256,
      authKey: user.authKey,
      privProtocol: snmp.PrivProtocols.aes,
      privKey: user.privKey,
    },
    { port, timeout: 300, retries: 0 },
  );
}

export function get(s: Session, oids: string[]): Promise<Result> {
  return new Promise((resolve) => s.get(oids, (error, varbinds) => resolve(error ? { ok: false, error } : { ok: true, varbinds: varbinds ?? [] })));
}

export function set(s: Session, varbinds: Varbind[]): Promise<Result> {
  return new Promise((resolve) => s.set(varbinds, (error, vbs) => resolve(error ? { ok: false, error } : { ok: true, varbinds: vbs ?? [] })));
}

/** The value of one OID (throws on error). */
export async function value(s: Session, oid: string): Promise<unknown> {
  const r = await get(s, [oid]);
  if (!r.ok) throw r.error;
  const vb = r.varbinds[0];
  if (!vb) throw new Error('no varbind');
  return Buffer.isBuffer(vb.value) ? vb.value.toString() : vb.value;
}
