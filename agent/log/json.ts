/**
 * One JSON log line, byte for byte as pino 10 wrote it with `base: undefined` (the agent's logs
 * were pino's until the idle daemon's footprint asked for less; tests, bench scripts and
 * operators parse them): `{"level":30,"time":<ms>,<bindings>,<fields>,"msg":"…"}` + "\n".
 *   - values go through JSON.stringify; what it refuses (a cycle, a bigint) through a
 *     sorted-key fallback with "[Circular]" (pino's safe-stable-stringify, depth 5, breadth 100);
 *   - the key `err` (and an Error logged as the object) is serialized as
 *     {type, message, stack, …enumerable props}, causes folded into message and stack;
 *   - undefined and function fields are dropped, non-finite numbers are null.
 */
import { isSecretKey, MASKED, redactNested } from './redact.ts';

/** pino's asString: a short string without control characters is quoted by hand. */
export function quote(s: string): string {
  if (s.length > 100) return JSON.stringify(s);
  let out = '';
  let last = 0;
  let point = 255;
  for (let i = 0; i < s.length && point >= 32; i++) {
    point = s.charCodeAt(i);
    if (point === 34 || point === 92) {
      out += s.slice(last, i) + '\\';
      last = i;
    }
  }
  return point < 32 ? JSON.stringify(s) : '"' + out + s.slice(last) + '"';
}

const MAX_DEPTH = 5;
const MAX_BREADTH = 100;

function safe(key: string, value: unknown, stack: object[]): string | undefined {
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(k: string): unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return String(value);
    case 'object': {
      if (value === null) return 'null';
      if (stack.includes(value)) return '"[Circular]"';
      if (Array.isArray(value)) {
        if (value.length === 0) return '[]';
        if (MAX_DEPTH < stack.length + 1) return '"[Array]"';
        stack.push(value);
        const n = Math.min(value.length, MAX_BREADTH);
        const parts: string[] = [];
        for (let i = 0; i < n; i++) parts.push(safe(String(i), value[i], stack) ?? 'null');
        if (value.length - 1 > MAX_BREADTH) parts.push(`"... ${items(value.length - MAX_BREADTH - 1)} not stringified"`);
        stack.pop();
        return `[${parts.join(',')}]`;
      }
      const keys = Object.keys(value).sort();
      if (keys.length === 0) return '{}';
      if (MAX_DEPTH < stack.length + 1) return '"[Object]"';
      stack.push(value);
      const parts: string[] = [];
      const rec = value as Record<string, unknown>;
      for (const k of keys.slice(0, MAX_BREADTH)) {
        const v = safe(k, rec[k], stack);
        if (v !== undefined) parts.push(`${JSON.stringify(k)}:${v}`);
      }
      if (keys.length > MAX_BREADTH) parts.push(`"...":"${items(keys.length - MAX_BREADTH)} not stringified"`);
      stack.pop();
      return `{${parts.join(',')}}`;
    }
    default:
      return undefined;
  }
}

function items(n: number): string {
  return n === 1 ? '1 item' : `${n} items`;
}

/** JSON.stringify, or the safe fallback for what it throws on. */
export function stringify(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    try {
      return safe('', value, []) ?? 'undefined';
    } catch {
      return '"[unable to stringify]"';
    }
  }
}

interface ErrorLike {
  message: string;
  stack?: unknown;
  cause?: unknown;
  constructor?: unknown;
  name?: unknown;
  errors?: unknown;
}

function isErrorLike(v: unknown): v is ErrorLike {
  return typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string';
}

function causeOf(e: ErrorLike): ErrorLike | undefined {
  const c: unknown = typeof e.cause === 'function' ? (e.cause as () => unknown)() : e.cause;
  return isErrorLike(c) ? c : undefined;
}

function messageWithCauses(e: ErrorLike, seen: Set<ErrorLike>, skip = false): string {
  const m = skip ? '' : e.message || '';
  if (seen.has(e)) return m + ': ...';
  const c = causeOf(e);
  if (!c) return m;
  seen.add(e);
  const vErrorStyle = typeof e.cause === 'function';
  return m + (vErrorStyle ? '' : ': ') + messageWithCauses(c, seen, vErrorStyle);
}

function stackWithCauses(e: ErrorLike, seen: Set<ErrorLike>): string {
  const s = typeof e.stack === 'string' ? e.stack : '';
  if (seen.has(e)) return s + '\ncauses have become circular...';
  const c = causeOf(e);
  if (!c) return s;
  seen.add(e);
  return s + '\ncaused by: ' + stackWithCauses(c, seen);
}

/** pino-std-serializers' err: {type, message, stack, [aggregateErrors], …enumerable props}. */
export function serializeError(v: unknown, inProgress: Set<object> = new Set()): unknown {
  if (!isErrorLike(v)) return v;
  inProgress.add(v);
  const out: Record<string, unknown> = {};
  out.type = typeof v.constructor === 'function' ? (v.constructor as { name: string }).name : v.name;
  out.message = messageWithCauses(v, new Set());
  out.stack = stackWithCauses(v, new Set());
  if (Array.isArray(v.errors)) out.aggregateErrors = v.errors.map((e: unknown) => serializeError(e, inProgress));
  const rec = v as unknown as Record<string, unknown>;
  for (const k in rec) {
    if (out[k] !== undefined) continue;
    const val = rec[k];
    if (isErrorLike(val)) {
      if (k !== 'cause' && !inProgress.has(val)) out[k] = serializeError(val, inProgress);
    } else {
      out[k] = val;
    }
  }
  inProgress.delete(v);
  return out;
}

/** `,"k":v` for one logged field, or '' when pino would drop it. */
export function field(key: string, value: unknown): string {
  if (value === undefined) return '';
  if (key === 'err') value = serializeError(value);
  if (typeof value === 'function') return '';
  if (typeof value === 'number' && !Number.isFinite(value)) value = null;
  const s = isSecretKey(key) ? MASKED : redactNested(value, stringify);
  return s === undefined ? '' : ',' + quote(key) + ':' + s;
}
