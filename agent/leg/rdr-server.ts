/**
 * TCP listener for RDRs from SCE DHCP sniffers (I/O shell around rdr.ts). Each connection
 * has its own RdrStream. Malformed records are counted (malformed.rdr) and logged; the
 * connection carries on. A lost framing (impossible payload_size) closes that connection
 * cleanly; everything already processed stays, the listener keeps accepting. RDRs with
 * another tag are counted (skipped.rdr-tag) and ignored.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { AgentError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { LegEngine } from './engine.ts';
import { RdrStream } from './rdr.ts';
import { dhcpRdrFromRecord, fromDhcpRdr, DHCP_RDR_TAG } from './rdr-dhcp.ts';

export interface RdrListener {
  server: Server;
  address(): { host: string; port: number };
  close(): Promise<void>;
}

export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new AgentError('CLI_INVALID', `expected HOST:PORT, got ${JSON.stringify(text)}`, { value: text });
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function handleRdrConnection(engine: LegEngine, sock: Socket, log: Logger): void {
  const rdr = new RdrStream();
  const peer = `${sock.remoteAddress}:${sock.remotePort}`;
  engine.store.count('rdr.connections');
  sock.on('data', (chunk: Buffer) => {
    const res = rdr.push(new Uint8Array(chunk));
    for (const r of res.records) {
      if (r.tag !== DHCP_RDR_TAG) {
        engine.store.count('skipped.rdr-tag');
        continue;
      }
      try {
        engine.process(fromDhcpRdr(dhcpRdrFromRecord(r), Date.now()));
      } catch (e) {
        const err = e instanceof AgentError ? e : new AgentError('RDR_INVALID', String(e));
        engine.malformed('rdr', `${err.code}: ${err.message}`, Date.now());
        log.warn({ peer, code: err.code, err: err.message }, 'malformed DHCP RDR skipped');
      }
    }
    for (const err of res.errors) {
      engine.malformed('rdr', `${err.code}: ${err.message}`, Date.now());
      log.warn({ peer, code: err.code, err: err.message }, 'malformed RDR skipped');
    }
    engine.flush();
    if (res.fatal) {
      engine.malformed('rdr-framing', res.fatal.message, Date.now());
      engine.flush();
      log.warn({ peer, code: res.fatal.code, err: res.fatal.message }, 'RDR framing lost: closing the connection');
      sock.end();
    }
  });
  sock.on('error', (e) => log.warn({ peer, err: e.message }, 'RDR connection error'));
  sock.on('close', () => {
    if (rdr.pendingBytes > 0) {
      engine.malformed('rdr', `connection closed inside a record (${rdr.pendingBytes} bytes)`, Date.now());
      engine.flush();
    }
  });
}

export function listenRdr(engine: LegEngine, host: string, port: number, log: Logger): Promise<RdrListener> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    handleRdrConnection(engine, sock, log);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new AgentError('LEG_RDR_LISTEN', `cannot listen on ${host}:${port}: ${e.message}`, { host, port })));
    server.listen(port, host, () => {
      const a = server.address();
      const bound = typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : { host, port };
      log.info(bound, 'RDR listener started');
      resolve({
        server,
        address: () => bound,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
