/**
 * The agent's logger: one JSON line per record (the format of pino 10 with `base: undefined`,
 * which the agent used before; agent/log/json.ts) or one human line (`format: 'text'`), written
 * synchronously to a destination (default stderr). Secrets are masked in the logger itself
 * (agent/log/redact.ts), so a careless `log.info({ offer })` cannot leak an FTP password or an
 * SNMP key.
 */
import { AgentError } from './errors.ts';
import { field, stringify } from './log/json.ts';
import { MASK } from './log/redact.ts';
import { textLine } from './log/text.ts';

export { MASK };
export type LogFormat = 'json' | 'text';
export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** `log.info({ k: v }, 'msg')`, `log.info('msg')`, `log.error(err)` (→ `{ err }`, msg = its message). */
export type LogFn = (objOrMsg: unknown, msg?: string) => void;

export type Logger = { [L in LevelName]: LogFn } & {
  /** A logger whose lines carry `bindings` first (after level and time). */
  child(bindings: Record<string, unknown>): Logger;
  /** Lines are written synchronously: nothing to flush (kept for callers about to exit). */
  flush(): void;
};

const LEVELS: Readonly<Record<LevelName | 'silent', number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const NAMES: readonly LevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export interface LoggerOptions {
  format?: LogFormat;
  level?: string;
  /** Where lines go; default stderr (stdout is kept for command output). */
  destination?: { write(s: string): unknown };
}

function levelValue(name: string): number {
  if (!Object.hasOwn(LEVELS, name)) throw new AgentError('LOG_LEVEL', `unknown log level: ${name} (one of ${Object.keys(LEVELS).join(', ')})`);
  return LEVELS[name as keyof typeof LEVELS];
}

/** `,"k":v` for each child binding: as a logged field (field()), and pino skips a key `level`. */
function bindingsJson(b: Record<string, unknown>): string {
  let s = '';
  for (const k in b) if (Object.hasOwn(b, k) && k !== 'level') s += field(k, b[k]);
  return s;
}

function record(level: number, bindings: string, objOrMsg: unknown, msg: string | undefined): string {
  let obj: unknown = objOrMsg;
  if (objOrMsg === null) {
    obj = undefined;
    if (msg === undefined) msg = null as unknown as string; // pino writes "msg":null
  } else if (typeof objOrMsg !== 'object') {
    obj = undefined;
    msg = objOrMsg === undefined ? msg : (objOrMsg as string);
  } else if (objOrMsg instanceof Error) {
    obj = { err: objOrMsg };
    msg ??= objOrMsg.message;
  } else {
    const o = objOrMsg as Record<string, unknown>;
    if (msg === undefined && o.msg === undefined && o.err) msg = (o.err as { message?: string }).message;
  }
  let line = `{"level":${level},"time":${Date.now()}${bindings}`;
  if (obj) {
    const o = obj as Record<string, unknown>;
    for (const k in o) if (Object.hasOwn(o, k)) line += field(k, o[k]);
  }
  if (msg !== undefined) line += `,"msg":${stringify(msg)}`; // JSON: NaN and Infinity are null
  return line + '}\n';
}

function make(threshold: number, write: (line: string) => void, bindings: string): Logger {
  const noop: LogFn = () => undefined;
  const log = { child: (b: Record<string, unknown>) => make(threshold, write, bindings + bindingsJson(b)), flush: () => undefined } as Logger;
  for (const name of NAMES) {
    const level = LEVELS[name];
    log[name] = level < threshold ? noop : (o, m) => write(record(level, bindings, o, m));
  }
  return log;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const out = opts.destination ?? process.stderr;
  const threshold = levelValue(opts.level ?? process.env.CPE_AGENT_LOG_LEVEL ?? 'info');
  const write = opts.format === 'json' ? (s: string) => void out.write(s) : (s: string) => void out.write(textLine(s));
  return make(threshold, write, '');
}

/** A logger that drops everything (unit tests, library defaults). */
export function silentLogger(): Logger {
  return make(Infinity, () => undefined, '');
}
