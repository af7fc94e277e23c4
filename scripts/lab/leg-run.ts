/**
 * `cpe-agent leg run --rdr-listen 127.0.0.1:0` as a lab process with an SNMP face (the LEG
 * config file is written to the state dir's parent), and DHCP ACK RDRs to feed it.
 *
 *   const leg = await startLegRun(AGENT, { dir, config: { snmp: {...} } });   leg.rdrPort
 *   leg.send(rdrAck({ ... }))        await leg.stop()   (SIGTERM, waits for exit 0)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectOutput, waitFor } from './netns.ts';
import { encodeRdr } from '../../agent/leg/rdr.ts';
import { dhcpRdrToRecord } from '../../agent/leg/rdr-dhcp.ts';
import { encodeRelayAgent } from '../../agent/dhcp/relay-agent.ts';
import { MessageType } from '../../agent/dhcp/message.ts';

export interface LegRun {
  child: ChildProcess;
  rdrPort: number;
  text(): string;
  /** writes RDR bytes on one TCP connection (opened on first use) */
  send(bytes: Uint8Array): Promise<void>;
  stop(): Promise<number | null>;
}

export async function startLegRun(agent: string, o: { dir: string; stateDir: string; config: Record<string, unknown>; name?: string; ready?: RegExp; env?: NodeJS.ProcessEnv }): Promise<LegRun> {
  const cfgFile = join(o.dir, `${o.name ?? 'leg'}.json`);
  writeFileSync(cfgFile, JSON.stringify(o.config));
  const child = spawn(agent, ['leg', 'run', '--config', cfgFile, '--state-dir', o.stateDir, '--rdr-listen', '127.0.0.1:0', '--json', '--events', join(o.dir, `${o.name ?? 'leg'}-events.jsonl`), '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env },
  });
  const out = collectOutput(child);
  const ready = o.ready ?? /SNMP agent on udp|AgentX subagent registered/;
  await waitFor(() => child.exitCode !== null || (/RDR listener started.*port=(\d+)/.test(out.text()) && ready.test(out.text())), 'leg run with SNMP', 30_000).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${String(e)}\n${out.text()}`);
  });
  if (child.exitCode !== null) throw new Error(`leg run exited ${child.exitCode}: ${out.text()}`);
  const rdrPort = Number(/RDR listener started.*port=(\d+)/.exec(out.text())?.[1]);
  let sock: Socket | undefined;
  return {
    child,
    rdrPort,
    text: out.text,
    async send(bytes) {
      if (!sock) {
        const s = connect(rdrPort, '127.0.0.1');
        await new Promise<void>((r, j) => {
          s.once('connect', () => r());
          s.once('error', j);
        });
        sock = s;
      }
      const s = sock;
      await new Promise<void>((r) => (s.write(bytes) ? r() : s.once('drain', () => r())));
    },
    async stop() {
      sock?.end();
      if (child.exitCode !== null) return child.exitCode;
      const gone = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await gone;
      clearTimeout(t);
      return code;
    },
  };
}

const lease = (s: number): Uint8Array => new Uint8Array([s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255]);

/** One DHCP ACK RDR: `subscriber` in option 82 circuit-ID, `pkg` in option 60, `time` in seconds. */
export function rdrAck(a: { ip: string; subscriber: string; mac: string; xid: number; time: number; pkg?: string; leaseSeconds?: number }): Uint8Array {
  const options = [
    { code: 51, data: lease(a.leaseSeconds ?? 86_400) },
    { code: 82, data: encodeRelayAgent([{ code: 1, data: Buffer.from(a.subscriber) }]) },
    ...(a.pkg ? [{ code: 60, data: Buffer.from(a.pkg) }] : []),
  ];
  return encodeRdr(dhcpRdrToRecord({ cpeMac: a.mac, cmtsIp: '198.18.80.1', assignedIp: a.ip, releasedIp: '0.0.0.0', transactionId: a.xid, messageType: MessageType.ACK, options, endTime: a.time }));
}
