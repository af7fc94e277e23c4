/**
 * AgentX subagent mode (RFC 2741): our Mib served through a Net-SNMP `snmpd` running
 * `master agentx`. net-snmp's Subagent does the PDU encoding and the request handling; this
 * wrapper owns the connection and fixes what breaks under real use:
 *
 * - framing: the library takes each socket read as one PDU. Reads are split here into whole
 *   PDUs (20-byte header, payload length at byte 16, byte order from the flags) and only whole
 *   PDUs reach it; a PDU it cannot parse (a master's Close) ends the session instead of
 *   throwing out of the socket's 'data' handler;
 * - register errors come back in the Response's `error` field, not the callback's error;
 * - calls to the master time out (the library has none: a dead master left them pending),
 *   a periodic Ping detects a master that stopped answering;
 * - reconnect with backoff after any close; the session is opened again and every region
 *   registered again; the Mib (values, providers) is kept;
 * - a Get of a missing instance under a registered object answers noSuchInstance (the library
 *   answers noSuchObject).
 *
 * Regions are registered one at a time (each waits for its Response).
 */
import snmp, { type AgentXPduObject, type Mib, type Subagent, type Varbind } from 'net-snmp';
import type { Logger } from '../log.ts';
import { AgentError } from '../errors.ts';
import { fixAgentxEncoding } from './lib.ts';

const AX = snmp.AgentXPduType;
const HEADER = 20;
const NETWORK_BYTE_ORDER = 0x10;

/** Splits a byte stream into whole AgentX PDUs. Pure. */
export class PduFramer {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= HEADER) {
      const flags = this.buf[2] ?? 0;
      const len = flags & NETWORK_BYTE_ORDER ? this.buf.readUInt32BE(16) : this.buf.readUInt32LE(16);
      if (len > 1 << 20) throw new AgentError('SNMP_AGENTX_PROTOCOL', `AgentX PDU of ${len} bytes`);
      if (this.buf.length < HEADER + len) break;
      out.push(this.buf.subarray(0, HEADER + len));
      this.buf = this.buf.subarray(HEADER + len);
    }
    return out;
  }
}

export interface AgentxOptions {
  /** unix socket path, or host:port */
  master: string;
  mib: Mib;
  /** OID subtrees to register with the master */
  regions: string[];
  log: Logger;
  /** runs on each TestSet PDU's varbinds before the library tests them */
  beforeSet?: (varbinds: Varbind[]) => void;
  /** called on every read from the master (run: heap compaction once requests stop) */
  onActivity?: () => void;
  /** runs for every new Subagent (one per session), before it connects */
  onSubagent?: (sub: Subagent) => void;
  description?: string;
  callTimeoutMs?: number;
  pingIntervalMs?: number;
  maxBackoffMs?: number;
}

export function parseMaster(master: string): { host: string; port: number | string } {
  const m = /^(.+):(\d+)$/.exec(master);
  if (m && !master.startsWith('/')) return { host: m[1] ?? 'localhost', port: Number(m[2]) };
  return { host: 'localhost', port: master };
}

export class AgentxLink {
  private readonly o: Required<Omit<AgentxOptions, 'beforeSet' | 'description' | 'onSubagent' | 'onActivity'>> & Pick<AgentxOptions, 'beforeSet' | 'description' | 'onSubagent' | 'onActivity'>;
  private sub: Subagent | undefined;
  private closed = false;
  private backoff = 100;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readyWaiters: Array<() => void> = [];
  /** sessions opened so far (1 = first connect) */
  sessions = 0;
  ready = false;

  constructor(o: AgentxOptions) {
    fixAgentxEncoding();
    this.o = { callTimeoutMs: 2000, pingIntervalMs: 5000, maxBackoffMs: 500, ...o };
  }

  start(): void {
    this.connect();
  }

  /** Resolves once a session is open and every region registered. */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((r) => this.readyWaiters.push(r));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const sub = this.sub;
    this.sub = undefined;
    if (!sub) return;
    await this.call(sub, (cb) => sub.close(cb)).catch(() => undefined);
    sub.socket.destroy();
  }

  /** A notification through the master (Notify PDU). */
  async notify(oid: string, varbinds: Varbind[]): Promise<void> {
    const sub = this.sub;
    if (!sub || !this.ready) throw new AgentError('SNMP_AGENTX_DOWN', 'no AgentX session');
    const r = await this.call(sub, (cb) => sub.notify(oid, varbinds, cb));
    if (r.error) throw new AgentError('SNMP_AGENTX_NOTIFY', `master refused the notification (error ${r.error})`);
  }

  private connect(): void {
    if (this.closed) return;
    const { host, port } = parseMaster(this.o.master);
    const sub = snmp.createSubagent({ master: host, masterPort: port, mib: this.o.mib, ...(this.o.description ? { description: this.o.description } : {}) });
    this.sub = sub;
    this.o.onSubagent?.(sub);
    const sock = sub.socket;
    // The library's handlers take one read as one PDU and throw on what they cannot parse.
    sock.removeAllListeners('data');
    sock.removeAllListeners('error');
    sock.removeAllListeners('close');
    const framer = new PduFramer();
    sock.on('data', (chunk: Buffer) => {
      this.o.onActivity?.();
      let pdus: Buffer[];
      try {
        pdus = framer.push(chunk);
      } catch (e) {
        this.o.log.warn({ event: 'snmp.agentx.protocol', error: e instanceof Error ? e.message : String(e) }, 'AgentX stream unreadable: reconnecting');
        sock.destroy();
        return;
      }
      for (const pdu of pdus) this.deliver(sub, pdu);
    });
    sock.on('error', (e: Error) => this.o.log.debug({ event: 'snmp.agentx.socket', error: e.message }, 'AgentX socket error'));
    sock.on('close', () => this.onClose(sub));
    sock.once('connect', () => void this.session(sub));
    this.patch(sub);
  }

  private deliver(sub: Subagent, pdu: Buffer): void {
    const type = pdu[1];
    if (type === AX.Close) {
      this.o.log.info({ event: 'snmp.agentx.master-close' }, 'AgentX master closed the session');
      sub.socket.destroy();
      return;
    }
    try {
      sub.onMsg(pdu);
    } catch (e) {
      this.o.log.debug({ event: 'snmp.agentx.pdu', type, error: e instanceof Error ? e.message : String(e) }, 'AgentX PDU not handled');
    }
  }

  /** noSuchInstance for missing instances of registered objects; SET varbinds prepared. */
  private patch(sub: Subagent): void {
    const mib = this.o.mib;
    const send = sub.sendResponse.bind(sub);
    sub.sendResponse = (pdu: AgentXPduObject, varbinds?: Varbind[]) => {
      for (const vb of varbinds ?? []) {
        if (vb.type === snmp.ObjectType.NoSuchObject && mib.getAncestorProviderFromOid(vb.oid)) vb.type = snmp.ObjectType.NoSuchInstance;
      }
      send(pdu, varbinds);
    };
    const testSet = sub.testSet.bind(sub);
    sub.testSet = (pdu: AgentXPduObject) => {
      if (pdu.varbinds) this.o.beforeSet?.(pdu.varbinds);
      testSet(pdu);
    };
  }

  /** Sends one request PDU; its Response, or a timeout (the pending entry is dropped). */
  private call(sub: Subagent, send: (cb: (err: Error | null, pdu?: AgentXPduObject) => void) => void): Promise<AgentXPduObject> {
    return new Promise((resolve, reject) => {
      const before = new Set(Object.keys(sub.requestPdus));
      const timer = setTimeout(() => {
        for (const id of Object.keys(sub.requestPdus)) if (!before.has(id)) delete sub.requestPdus[Number(id)];
        reject(new AgentError('SNMP_AGENTX_TIMEOUT', `AgentX master did not answer within ${this.o.callTimeoutMs} ms`));
      }, this.o.callTimeoutMs);
      try {
        send((err, pdu) => {
          clearTimeout(timer);
          if (err || !pdu) reject(err ?? new AgentError('SNMP_AGENTX_PROTOCOL', 'empty response'));
          else resolve(pdu);
        });
      } catch (e) {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private async session(sub: Subagent): Promise<void> {
    try {
      const open = await this.call(sub, (cb) => sub.open(cb));
      if (open.error) throw new AgentError('SNMP_AGENTX_OPEN', `master refused the session (error ${open.error})`);
      for (const oid of this.o.regions) {
        const pdu = snmp.AgentXPdu.createFromVariables({ pduType: AX.Register, sessionID: sub.sessionID, rangeSubid: 0, timeout: 5, priority: 127, oid });
        const r = await this.call(sub, (cb) => sub.sendPdu(pdu, cb));
        if (r.error) throw new AgentError('SNMP_AGENTX_REGISTER', `master refused to register ${oid} (error ${r.error})`, { oid, error: r.error });
      }
    } catch (e) {
      this.o.log.warn({ event: 'snmp.agentx.session', error: e instanceof Error ? e.message : String(e) }, 'AgentX session failed: reconnecting');
      sub.socket.destroy();
      return;
    }
    if (sub !== this.sub) return;
    this.sessions++;
    this.backoff = 100;
    this.ready = true;
    this.o.log.info({ event: 'snmp.agentx.ready', master: this.o.master, session: sub.sessionID, regions: this.o.regions.length }, `AgentX subagent registered with ${this.o.master}`);
    for (const w of this.readyWaiters.splice(0)) w();
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      this.call(sub, (cb) => sub.ping(cb)).catch(() => {
        this.o.log.warn({ event: 'snmp.agentx.ping' }, 'AgentX master does not answer: reconnecting');
        sub.socket.destroy();
      });
    }, this.o.pingIntervalMs);
    this.pingTimer.unref();
  }

  private onClose(sub: Subagent): void {
    if (sub !== this.sub) return;
    this.ready = false;
    clearInterval(this.pingTimer);
    // pending calls of the dead session: their timers reject them
    if (this.closed) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.o.maxBackoffMs, this.backoff * 2);
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }
}
