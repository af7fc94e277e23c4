/**
 * TCP listener for RDRs from SCE DHCP sniffers (I/O shell around rdr.ts). RDR has no
 * authentication, so the listener believes only the peers it is told to (`rdr.allow`,
 * loopback by default) and bounds what any peer can cost (docs/leg.md "Trust"):
 *
 * - a peer outside the allow list is closed at once (counter `rdr.refused.peer.<ip>`, at most
 *   64 addresses, then `rdr.refused.peer.other`; one log line per peer per minute);
 * - at most `maxConnections` connections in all and `maxConnectionsPerPeer` per address
 *   (`rdr.refused.limit-total`, `rdr.refused.limit-peer`);
 * - a record larger than `maxFrameBytes` means the framing is lost: the connection is closed
 *   (`malformed.rdr-framing`), as is one silent for `idleTimeoutSeconds` (`rdr.closed.idle`)
 *   and one sending more than `maxRecordsPerSecond` (token bucket, one second of burst:
 *   `rdr.closed.rate`, the records past the limit are dropped);
 * - malformed records are counted (`malformed.rdr`) and skipped, the connection carries on;
 *   RDRs with another tag are counted (`skipped.rdr-tag`).
 *
 * Each connection has its own RdrStream; its records are processed in order. The engine is
 * flushed (commit, then events) once per turn of the event loop, not per TCP segment.
 */
import { BlockList, createServer, isIPv4, type Server, type Socket } from 'node:net';
import { AgentError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { LegEngine } from './engine.ts';
import { RdrStream } from './rdr.ts';
import { dhcpRdrFromRecord, fromDhcpRdr, DHCP_RDR_TAG } from './rdr-dhcp.ts';
import { parseCidr, RDR_DEFAULTS, type RdrConfig } from './config.ts';
import { BoundedNames, LogThrottle } from './bounded.ts';

export interface RdrListener {
  server: Server;
  address(): { host: string; port: number };
  /** open connections now (tests, status) */
  connections(): number;
  close(): Promise<void>;
}

export interface RdrListenOptions extends RdrConfig {
  /** the clock for rate limits and log throttling (ms); default Date.now */
  now?: () => number;
}

/** distinct `rdr.refused.peer.<ip>` counters; then `rdr.refused.peer.other` */
export const MAX_REFUSED_PEER_COUNTERS = 64;

export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new AgentError('CLI_INVALID', `expected HOST:PORT, got ${JSON.stringify(text)}`, { value: text });
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** The peer's address as text; an IPv4-mapped IPv6 address (listening on ::) as plain IPv4. */
export function peerAddress(remote: string | undefined): string {
  if (remote === undefined) return '?';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  return m ? (m[1] as string) : remote;
}

/** The allow list as a node:net BlockList (used as an allow list: `check` = allowed). */
export function allowList(cidrs: readonly string[]): { allows(address: string): boolean } {
  const list = new BlockList();
  for (const c of cidrs) {
    const p = parseCidr(c);
    try {
      list.addSubnet(p.address, p.prefix, p.family);
    } catch (e) {
      throw new AgentError('CONFIG_INVALID', `rdr.allow: not an address or CIDR prefix: ${JSON.stringify(c)} (${e instanceof Error ? e.message : String(e)})`, { value: c });
    }
  }
  return { allows: (a) => a !== '?' && list.check(a, isIPv4(a) ? 'ipv4' : 'ipv6') };
}

/** Token bucket: `rate` per second, burst of one second's worth. Pure (clock passed in). */
export class RateLimit {
  private tokens: number;
  private at: number;
  private readonly rate: number;

  constructor(rate: number, now: number) {
    this.rate = rate;
    this.tokens = rate;
    this.at = now;
  }

  take(now: number): boolean {
    if (now > this.at) {
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.at) * this.rate) / 1000);
      this.at = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface Shared {
  engine: LegEngine;
  log: Logger;
  opts: RdrConfig;
  now: () => number;
  throttle: LogThrottle;
  flushSoon(): void;
}

/** Logs at most once a minute per (peer, what). */
function warnThrottled(sh: Shared, peer: string, what: string, fields: Record<string, unknown>): void {
  const suppressed = sh.throttle.allow(`${peer} ${what}`, sh.now());
  if (suppressed !== undefined) sh.log.warn({ peer, ...fields, suppressedSinceLast: suppressed }, `${what} (logged once a minute per peer)`);
}

function serveConnection(sh: Shared, sock: Socket, peer: string): void {
  const { engine } = sh;
  const rdr = new RdrStream(sh.opts.maxFrameBytes - 5);
  const rate = new RateLimit(sh.opts.maxRecordsPerSecond, sh.now());
  const at = `${peer}:${sock.remotePort}`;
  engine.store.count('rdr.connections');
  sh.flushSoon();
  if (sh.opts.idleTimeoutSeconds > 0) {
    sock.setTimeout(sh.opts.idleTimeoutSeconds * 1000, () => {
      engine.store.count('rdr.closed.idle');
      sh.flushSoon();
      warnThrottled(sh, peer, 'idle RDR connection closed', { at, idleSeconds: sh.opts.idleTimeoutSeconds });
      sock.destroy();
    });
  }
  sock.on('data', (chunk: Buffer) => {
    if (sock.destroyed) return;
    const res = rdr.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    const now = sh.now();
    for (const r of res.records) {
      if (!rate.take(now)) {
        engine.store.count('rdr.closed.rate');
        warnThrottled(sh, peer, 'RDR connection over its record rate closed', { at, maxRecordsPerSecond: sh.opts.maxRecordsPerSecond });
        sock.destroy();
        sh.flushSoon();
        return;
      }
      if (r.tag !== DHCP_RDR_TAG) {
        engine.store.count('skipped.rdr-tag');
        continue;
      }
      try {
        engine.process(fromDhcpRdr(dhcpRdrFromRecord(r), now));
      } catch (e) {
        const err = e instanceof AgentError ? e : new AgentError('RDR_INVALID', String(e));
        engine.malformed('rdr', `${err.code}: ${err.message}`, now);
        warnThrottled(sh, peer, 'malformed DHCP RDR skipped', { at, code: err.code, err: err.message });
      }
    }
    for (const err of res.errors) {
      if (!rate.take(now)) {
        engine.store.count('rdr.closed.rate');
        sock.destroy();
        sh.flushSoon();
        return;
      }
      engine.malformed('rdr', `${err.code}: ${err.message}`, now);
      warnThrottled(sh, peer, 'malformed RDR skipped', { at, code: err.code, err: err.message });
    }
    if (res.fatal) {
      engine.malformed('rdr-framing', res.fatal.message, now);
      warnThrottled(sh, peer, 'RDR framing lost: closing the connection', { at, code: res.fatal.code, err: res.fatal.message });
      sock.destroy();
    }
    sh.flushSoon();
  });
  sock.on('error', (e) => warnThrottled(sh, peer, 'RDR connection error', { at, err: e.message }));
  sock.on('close', () => {
    if (rdr.pendingBytes > 0) {
      engine.malformed('rdr', `connection closed inside a record (${rdr.pendingBytes} bytes)`, sh.now());
      sh.flushSoon();
    }
  });
}

export function listenRdr(engine: LegEngine, host: string, port: number, log: Logger, options: Partial<RdrListenOptions> = {}): Promise<RdrListener> {
  const opts: RdrConfig = { ...RDR_DEFAULTS, ...options };
  const now = options.now ?? Date.now;
  const allow = allowList(opts.allow);
  const refusedNames = new BoundedNames(MAX_REFUSED_PEER_COUNTERS, Object.keys(engine.store.counterValues()));
  const sockets = new Set<Socket>();
  const perPeer = new Map<string, number>();
  let flushQueued = false;
  let closing = false;
  const sh: Shared = {
    engine,
    log,
    opts,
    now,
    throttle: new LogThrottle(60_000),
    flushSoon() {
      if (flushQueued) return;
      flushQueued = true;
      setImmediate(() => {
        flushQueued = false;
        if (!closing) engine.flush();
      });
    },
  };
  const refuse = (sock: Socket, peer: string, counter: string, what: string, fields: Record<string, unknown>): void => {
    engine.store.count(counter);
    sh.flushSoon();
    warnThrottled(sh, peer, what, fields);
    sock.destroy();
  };
  const server = createServer((sock) => {
    const peer = peerAddress(sock.remoteAddress);
    if (!allow.allows(peer)) return refuse(sock, peer, refusedNames.key('rdr.refused.peer', peer), 'RDR peer not in rdr.allow refused', {});
    if (sockets.size >= opts.maxConnections) return refuse(sock, peer, 'rdr.refused.limit-total', 'RDR connection refused: connection limit reached', { maxConnections: opts.maxConnections });
    const n = perPeer.get(peer) ?? 0;
    if (n >= opts.maxConnectionsPerPeer) return refuse(sock, peer, 'rdr.refused.limit-peer', 'RDR connection refused: per-peer limit reached', { maxConnectionsPerPeer: opts.maxConnectionsPerPeer });
    sockets.add(sock);
    perPeer.set(peer, n + 1);
    sock.on('close', () => {
      sockets.delete(sock);
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left <= 0) perPeer.delete(peer);
      else perPeer.set(peer, left);
    });
    serveConnection(sh, sock, peer);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new AgentError('LEG_RDR_LISTEN', `cannot listen on ${host}:${port}: ${e.message}`, { host, port })));
    server.listen(port, host, () => {
      const a = server.address();
      const bound = typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : { host, port };
      log.info({ ...bound, allow: opts.allow.join(',') }, 'RDR listener started');
      resolve({
        server,
        address: () => bound,
        connections: () => sockets.size,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => {
              closing = true;
              r();
            });
          }),
      });
    });
  });
}
