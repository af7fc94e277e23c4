/**
 * TFTP client configuration and option negotiation (RFC 2347 OACK, 2348 blksize, 2349
 * tsize/timeout, 7440 windowsize), pure.
 *
 * Defaults: blksize 1468 (the largest block that fits a 1500-byte Ethernet MTU without IP
 * fragmentation), timeout 1 s, 5 retries, windowsize 1. Window size stays 1 unless
 * configured because lockstep is what every server does (tftpd-hpa 5.2, shipped by Debian
 * and most ISPs, does not implement RFC 7440 at all), because a burst of W blocks must fit
 * the CPE's socket buffer and every relay queue in between, and because one lost block
 * then costs a whole window. Ask for more only against a server known to support it.
 */
import { AgentError } from '../errors.ts';
import { encodePacket, MAX_REQUEST_BYTES, type TftpOptions } from './tftp-packets.ts';

export interface TftpConfig {
  /** dotted IPv4 of the server */
  server: string;
  /** server port for the request; 69 */
  port: number;
  /** remote file name, sent as given */
  file: string;
  /** requested block size, 8..65464 (RFC 2348) */
  blksize: number;
  /** requested window size, 1..65535 (RFC 7440); 1 = lockstep, option not sent */
  windowsize: number;
  /** seconds, 1..255: sent as the timeout option and used as our retransmission interval */
  timeout: number;
  /** retransmissions of one packet before TFTP_TIMEOUT, 0..100 */
  retries: number;
  /** ask the size with tsize=0 (RFC 2349) */
  tsize: boolean;
  /** false: a plain RFC 1350 request, no options at all */
  options: boolean;
}

export const DEFAULTS = {
  port: 69,
  blksize: 1468,
  windowsize: 1,
  timeout: 1,
  retries: 5,
  tsize: true,
  options: true,
} as const;

function bad(message: string, details: Record<string, string | number> = {}): AgentError {
  return new AgentError('TFTP_BAD_REQUEST', message, details);
}

function intIn(v: number, lo: number, hi: number, what: string): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw bad(`${what} must be an integer in ${lo}..${hi}, got ${v}`, { [what]: v });
  return v;
}

/** Fills defaults and validates everything; throws TFTP_BAD_REQUEST before any packet. */
export function makeConfig(input: Partial<TftpConfig> & { server: string; file: string }): TftpConfig {
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(input.server) || input.server.split('.').some((p) => Number(p) > 255)) {
    throw bad(`TFTP server must be a dotted IPv4 address, got ${JSON.stringify(input.server.slice(0, 64))}`);
  }
  if (input.file.length === 0) throw bad('TFTP file name is empty');
  const cfg: TftpConfig = {
    server: input.server,
    file: input.file,
    port: intIn(input.port ?? DEFAULTS.port, 1, 65535, 'port'),
    blksize: intIn(input.blksize ?? DEFAULTS.blksize, 8, 65464, 'blksize'),
    windowsize: intIn(input.windowsize ?? DEFAULTS.windowsize, 1, 65535, 'windowsize'),
    timeout: intIn(input.timeout ?? DEFAULTS.timeout, 1, 255, 'timeout'),
    retries: intIn(input.retries ?? DEFAULTS.retries, 0, 100, 'retries'),
    tsize: input.tsize ?? DEFAULTS.tsize,
    options: input.options ?? DEFAULTS.options,
  };
  const len = encodePacket({ op: 'rrq', file: cfg.file, mode: 'octet', options: requestOptions(cfg) }).length;
  if (len > MAX_REQUEST_BYTES) throw bad(`TFTP request would be ${len} bytes (max ${MAX_REQUEST_BYTES}): file name too long`, { length: len });
  return cfg;
}

/** The options of our RRQ, in wire order. */
export function requestOptions(cfg: TftpConfig): TftpOptions {
  if (!cfg.options) return [];
  const o: Array<readonly [string, string]> = [['blksize', String(cfg.blksize)]];
  if (cfg.tsize) o.push(['tsize', '0']);
  o.push(['timeout', String(cfg.timeout)]);
  if (cfg.windowsize > 1) o.push(['windowsize', String(cfg.windowsize)]);
  return o;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** seconds */
  timeout: number;
  total: number | null;
  /** option names the server sent that we do not know (ignored) */
  ignored: string[];
}

function decimal(v: string): number {
  return /^[0-9]{1,15}$/.test(v) ? Number(v) : NaN;
}

/**
 * Checks an OACK against what we asked (RFC 2347: the server may only lower blksize and
 * windowsize, must echo timeout, and must not add options we did not request). Throws
 * TFTP_BAD_OACK; the caller answers it with ERROR 8.
 */
export function negotiate(cfg: TftpConfig, oack: TftpOptions): Negotiated {
  const asked = new Set(requestOptions(cfg).map(([k]) => k));
  const n: Negotiated = { blksize: 512, windowsize: 1, timeout: cfg.timeout, total: null, ignored: [] };
  const seen = new Set<string>();
  for (const [rawName, value] of oack) {
    const name = rawName.toLowerCase();
    const v = decimal(value);
    const reject = (why: string): AgentError =>
      new AgentError('TFTP_BAD_OACK', `server OACK ${name}=${JSON.stringify(value.slice(0, 32))}: ${why}`, { option: name });
    if (seen.has(name)) throw reject('option repeated');
    seen.add(name);
    if (!['blksize', 'tsize', 'timeout', 'windowsize'].includes(name)) {
      n.ignored.push(name.slice(0, 32));
      continue;
    }
    if (!asked.has(name)) throw reject('not requested');
    switch (name) {
      case 'blksize':
        if (!(v >= 8 && v <= cfg.blksize)) throw reject(`must be 8..${cfg.blksize}`);
        n.blksize = v;
        break;
      case 'windowsize':
        if (!(v >= 1 && v <= cfg.windowsize)) throw reject(`must be 1..${cfg.windowsize}`);
        n.windowsize = v;
        break;
      case 'timeout':
        if (!(v >= 1 && v <= 255)) throw reject('must be 1..255 seconds');
        n.timeout = v;
        break;
      case 'tsize':
        if (!Number.isSafeInteger(v)) throw reject('not a size');
        n.total = v;
        break;
    }
  }
  return n;
}
