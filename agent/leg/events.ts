/**
 * Events out: one JSON object per line. Every event has the same keys (null when they do
 * not apply), so consumers can rely on the shape:
 *   event        logon | extend | logout | auto-logout | rejected
 *   time         ISO 8601, the transaction's time (capture time in a replay)
 *   subscriber   subscriber ID (null when a rejection happened before it was known)
 *   ip           the CPE IP; for a modem logon the modem's address (not mapped)
 *   modem        true for a modem transaction (cable mode)
 *   leaseSeconds lease from option 51 (logon/extend, rejected when known)
 *   package      package of the logon (null = none)
 *   reason       rejected: why; logout: release | decline | reassigned; auto-logout: expired
 *   transaction  initial | extension | ack (RDR) | release | decline | expiry
 *   chaddr, xid  the DHCP client and transaction (xid as 0x-prefixed hex)
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { LogonOp, LogoutOp, RejectOp } from './state.ts';
import { AgentError } from '../errors.ts';

export type EventOp = LogonOp | LogoutOp | RejectOp;

export interface LegEvent {
  event: EventOp['kind'];
  time: string;
  subscriber: string | null;
  ip: string | null;
  modem: boolean;
  leaseSeconds: number | null;
  package: string | null;
  reason: string | null;
  transaction: string;
  chaddr: string | null;
  xid: string | null;
}

export const DAY = 86_400_000;
/** latest date supported by the fast paths (10000-01-01T00:00:00Z) */
export const MAX_FAST_MS = 253402300800000;
let cachedDay = NaN;
let cachedPrefix = '';

/** "YYYY-MM-DDT" of the day holding `t` (whole ms in [0, MAX_FAST_MS)), cached for the last day asked. */
export function dayPrefix(day: number): string {
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * DAY).toISOString().slice(0, 11);
  }
  return cachedPrefix;
}
const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/**
 * `new Date(ms).toISOString()` (whole ms), faster: the date part is cached per day, the
 * time of day is computed (one Date per event showed in the replay profile).
 */
export function isoTime(ms: number): string {
  const t = Math.floor(ms);
  if (!Number.isFinite(t) || t < 0 || t >= MAX_FAST_MS) {
    const d = new Date(t);
    return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
  }
  const day = Math.floor(t / DAY);
  const prefix = dayPrefix(day);
  let r = t - day * DAY;
  const h = Math.floor(r / 3_600_000);
  r -= h * 3_600_000;
  const m = Math.floor(r / 60_000);
  r -= m * 60_000;
  const s = Math.floor(r / 1000);
  const msPart = r - s * 1000;
  return `${prefix}${pad2(h)}:${pad2(m)}:${pad2(s)}.${msPart < 10 ? '00' : msPart < 100 ? '0' : ''}${msPart}Z`;
}

export function toEvent(op: EventOp): LegEvent {
  const isLogon = op.kind === 'logon' || op.kind === 'extend';
  return {
    event: op.kind,
    time: isoTime(op.time),
    subscriber: op.subscriber,
    ip: op.ip,
    modem: op.modem,
    leaseSeconds: isLogon ? op.leaseSeconds : op.kind === 'rejected' ? op.leaseSeconds : null,
    package: isLogon ? op.package : null,
    reason: 'reason' in op ? op.reason : null,
    transaction: op.transaction,
    chaddr: op.chaddr,
    xid: op.xid === null ? null : `0x${(op.xid >>> 0).toString(16).padStart(8, '0')}`,
  };
}

export interface EventSink {
  write(lines: string): void;
  close(): void;
}

/** stdout (or any stream) sink. */
export function streamSink(out: { write(s: string): unknown }): EventSink {
  return { write: (s) => void out.write(s), close: () => undefined };
}

/** Appends to a file with write(2) per batch: an event handed to the sink is in the file. */
export function fileSink(path: string): EventSink {
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (e) {
    throw new AgentError('LEG_EVENTS_OPEN', `cannot open events file ${path}: ${e instanceof Error ? e.message : String(e)}`, { path });
  }
  return {
    write: (s) => {
      const b = Buffer.from(s);
      let o = 0;
      while (o < b.length) o += writeSync(fd, b, o);
    },
    close: () => closeSync(fd),
  };
}

/** Collects events in memory (tests, the library API). */
export function memorySink(): EventSink & { events: LegEvent[] } {
  const events: LegEvent[] = [];
  return {
    events,
    write: (s) => {
      for (const line of s.split('\n')) if (line) events.push(JSON.parse(line) as LegEvent);
    },
    close: () => undefined,
  };
}
