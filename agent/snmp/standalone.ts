/**
 * Standalone mode: our own SNMP agent (net-snmp `createAgent`) on UDP, v2c communities (v1
 * only when enabled), SNMPv3 USM users (authPriv, SHA/SHA-256 + AES), read or read-write.
 * Every datagram passes the AccessGuard first (counts and drops unknown communities and
 * versions); the library's authentication errors are counted and logged by the guard too.
 */
import dgram, { type Socket } from 'node:dgram';
import snmp, { type Agent, type AgentError, type Mib, type RequestMessage } from 'net-snmp';
import type { Logger } from '../log.ts';
import type { SnmpConfig } from '../config/schema.ts';
import { AgentError as CpeError } from '../errors.ts';
import { AccessGuard } from './guard.ts';
import { prepareSet } from './mib.ts';

export interface Standalone {
  agent: Agent;
  guard: AccessGuard;
  port: number;
  close(): Promise<void>;
}

function engineId(cfg: SnmpConfig, sysName: string): string {
  if (cfg.engineId) return cfg.engineId;
  // RFC 3411 format 4 (text): 0x80 | enterprise number, 04, then the name
  const pen = Number(cfg.enterpriseOid.split('.').at(-1));
  const head = ((0x80000000 | pen) >>> 0).toString(16).padStart(8, '0');
  return head + '04' + Buffer.from(sysName.slice(0, 27) || 'cpe-agent').toString('hex');
}

/** `beforeSet` sees each SET PDU's varbinds (after prepareSet) before the library tests them. */
/** `onActivity`: called on every admitted request (run: heap compaction once requests stop) */
export async function startStandalone(
  cfg: SnmpConfig,
  mib: Mib,
  sysName: string,
  log: Logger,
  beforeSet?: (vbs: RequestMessage['pdu']['varbinds']) => void,
  onActivity?: () => void,
): Promise<Standalone> {
  const guard = new AccessGuard({
    v1: cfg.v1,
    communities: new Set([cfg.community.read, cfg.community.write].filter((c): c is string => c !== undefined)),
    users: new Set(cfg.users.map((u) => u.name)),
    log,
  });
  let socket: Socket | undefined;
  // The library binds its own socket; this wrapper puts the guard between it and the wire.
  const dgramModule = {
    createSocket(type: 'udp4' | 'udp6'): Socket {
      const s = dgram.createSocket(type);
      const on = s.on.bind(s);
      s.on = ((ev: string, fn: (...a: unknown[]) => void) => {
        if (ev !== 'message') return on(ev, fn);
        return on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
          if (!guard.admit(msg, rinfo.address)) return;
          onActivity?.();
          fn(msg, rinfo);
        });
      }) as Socket['on'];
      socket = s;
      return s;
    },
  };
  const onError = (err: AgentError | null): void => {
    if (!err) return;
    const from = err.rinfo?.address ?? '?';
    if (err.code === snmp.ResponseInvalidCode.EAuthFailure) guard.refuse('wrong-digest', from);
    else if (err.code === snmp.ResponseInvalidCode.ECouldNotDecrypt) guard.refuse('decryption-error', from);
    // other library errors (malformed packets, unknown v3 user without the reportable flag):
    // the message may quote digests, so only its class is logged
    else log.debug({ event: 'snmp.request.error', from, kind: err.name }, 'SNMP request not processed');
  };
  const agent = snmp.createAgent(
    {
      port: cfg.listen.port,
      address: cfg.listen.address,
      transport: 'udp4',
      accessControlModelType: snmp.AccessControlModelType.Simple,
      engineID: engineId(cfg, sysName),
      dgramModule,
    },
    onError,
    mib,
  );
  const s = socket as Socket | undefined;
  if (!s) throw new CpeError('SNMP_START', 'SNMP agent socket not created');
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error): void => reject(new CpeError('SNMP_LISTEN', `cannot listen on udp ${cfg.listen.address}:${cfg.listen.port}: ${e.message}`, { port: cfg.listen.port }));
    s.once('error', fail);
    s.once('listening', () => {
      s.off('error', fail);
      resolve();
    });
  }).catch((e: unknown) => {
    agent.close();
    throw e;
  });

  const auth = agent.getAuthorizer();
  const acm = auth.getAccessControlModel();
  if (cfg.community.read !== undefined) {
    auth.addCommunity(cfg.community.read);
    acm.setCommunityAccess(cfg.community.read, snmp.AccessLevel.ReadOnly);
  }
  if (cfg.community.write !== undefined) {
    auth.addCommunity(cfg.community.write);
    acm.setCommunityAccess(cfg.community.write, snmp.AccessLevel.ReadWrite);
  }
  for (const u of cfg.users) {
    auth.addUser({
      name: u.name,
      level: snmp.SecurityLevel.authPriv,
      authProtocol: u.authProtocol === 'sha256' ? snmp.AuthProtocols.sha256 : snmp.AuthProtocols.sha,
      authKey: u.authKey,
      privProtocol: snmp.PrivProtocols.aes,
      privKey: u.privKey,
    });
    acm.setUserAccess(u.name, u.access === 'read-write' ? snmp.AccessLevel.ReadWrite : snmp.AccessLevel.ReadOnly);
  }

  // Type check and byte-safe strings for SET varbinds (see prepareSet), then the library's own processing.
  const setRequest = agent.setRequest.bind(agent);
  agent.setRequest = (sock: Socket, message: RequestMessage, rinfo: unknown): void => {
    prepareSet(mib, message.pdu.varbinds);
    beforeSet?.(message.pdu.varbinds);
    setRequest(sock, message, rinfo);
  };

  const port = s.address().port;
  log.info({ event: 'snmp.listen', address: cfg.listen.address, port, v1: cfg.v1, users: cfg.users.length }, `SNMP agent on udp ${cfg.listen.address}:${port}`);
  return {
    agent,
    guard,
    port,
    close: () => new Promise<void>((resolve) => {
      try {
        agent.close(() => resolve());
      } catch {
        resolve();
      }
    }),
  };
}
