import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };
export type LogFormat = 'json' | 'text';

/**
 * Keys whose values are secrets wherever they appear (two levels deep). Redaction
 * happens in the logger itself, so a careless `log.info({ offer })` cannot leak an
 * FTP password or an SNMP key.
 */
const SECRET_KEYS = ['password', 'pass', 'community', 'authKey', 'privKey', 'secret'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export const MASK = '***';

/** Formats pino's JSON records as one human line: `HH:MM:SS.mmm LEVEL msg k=v …`. */
function textDestination(out: { write(s: string): unknown }): DestinationStream {
  const names: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  return {
    write(line: string): void {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const { time, level, msg, pid: _pid, hostname: _h, ...rest } = rec;
      const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
      const lv = (typeof level === 'number' ? names[level] : undefined) ?? String(level);
      const kv = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      out.write(`${t} ${lv.padEnd(5)} ${String(msg ?? '')}${kv ? ' ' + kv : ''}\n`);
    },
  };
}

export interface LoggerOptions {
  format?: LogFormat;
  level?: string;
  /** Where lines go; default stderr (stdout is kept for command output). */
  destination?: { write(s: string): unknown };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const out = opts.destination ?? process.stderr;
  const dest: DestinationStream = opts.format === 'json' ? { write: (s: string) => void out.write(s) } : textDestination(out);
  return pino(
    {
      level: opts.level ?? process.env.CPE_AGENT_LOG_LEVEL ?? 'info',
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: MASK },
    },
    dest,
  );
}

/** A logger that drops everything (unit tests, library defaults). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
