/**
 * Secrets never reach a log line: keys named like a secret, at the top of a record or one or
 * two levels down, are written as MASK. This is pino's `redact` (paths `k`, `*.k`, `*.*.k`, the
 * agent's logger until agent/log.ts wrote its own lines), including its way of copying: a field's
 * value and its children are copied before masking (so the caller's object is never changed,
 * and a cycle is printed one turn later than in the original, as pino did); an own key with a
 * secret's name is masked whatever its value (null, undefined), an inherited one is not.
 */
export const MASK = '***';
export const MASKED = JSON.stringify(MASK);

const SECRET_KEYS: ReadonlySet<string> = new Set(['password', 'pass', 'community', 'authKey', 'privKey', 'secret']);

export function isSecretKey(k: string): boolean {
  return SECRET_KEYS.has(k);
}

type Rec = Record<string, unknown>;

function isObject(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null;
}

/** One level of copy: own enumerable keys, same prototype (a Date stays a Date; bytes are shared). */
function copy(v: Rec): Rec {
  if (v instanceof Date) return new Date(v.getTime()) as unknown as Rec;
  if (ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.slice() as unknown as Rec;
  const c = Object.create(Object.getPrototypeOf(v) as object | null) as Rec;
  for (const k in v) if (Object.hasOwn(v, k)) c[k] = v[k];
  return c;
}

function maskOwn(o: Rec): void {
  for (const s of SECRET_KEYS) if (Object.hasOwn(o, s)) o[s] = MASK;
}

/** A copy of `v` (a top-level field's value) with secrets one and two levels down masked. */
function masked(v: Rec): Rec {
  const out = copy(v);
  if (out === v || v instanceof Date) return out;
  for (const k of Object.keys(out)) {
    const c = out[k];
    if (!SECRET_KEYS.has(k) && isObject(c)) {
      const cc = copy(c);
      if (cc !== c && !(c instanceof Date)) maskOwn(cc);
      out[k] = cc;
    }
  }
  maskOwn(out);
  return out;
}

/** The JSON of a non-secret top-level field (or child binding), its nested secrets masked. */
export function redactNested(v: unknown, stringify: (v: unknown) => string): string {
  return stringify(isObject(v) ? masked(v) : v);
}
