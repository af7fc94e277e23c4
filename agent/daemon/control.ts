/**
 * The daemon's local control channel: a unix socket `<stateDir>/control.sock` (mode 0600),
 * one JSON line per request and per reply. It doubles as the single-instance lock: a
 * second daemon on the same state dir finds a live socket and refuses to start.
 *
 *   → {"cmd":"reboot","source":"cli"}       ← {"ok":true,"message":"releasing the lease and rebooting"}
 *   → {"cmd":"ping"}                        ← {"ok":true,"message":"pid 1234"}
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.ts';

export const CONTROL_SOCKET = 'control.sock';

export type ControlCommand = { cmd: 'reboot'; source: 'cli' | 'snmp' } | { cmd: 'ping' };
export interface ControlReply {
  ok: boolean;
  message: string;
}

export function controlPath(stateDir: string): string {
  return join(stateDir, CONTROL_SOCKET);
}

function parseCommand(line: string): ControlCommand | null {
  try {
    const v = JSON.parse(line) as { cmd?: unknown; source?: unknown };
    if (v.cmd === 'ping') return { cmd: 'ping' };
    if (v.cmd === 'reboot') return { cmd: 'reboot', source: v.source === 'snmp' ? 'snmp' : 'cli' };
  } catch {
    /* fall through */
  }
  return null;
}

/** Sends one command; null when no daemon listens (no socket, or a stale one). */
export function sendControl(stateDir: string, cmd: ControlCommand, timeoutMs = 5000): Promise<ControlReply | null> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(controlPath(stateDir));
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new AgentError('CLI_CONTROL_TIMEOUT', `the daemon did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(JSON.stringify(cmd) + '\n'));
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        const r = JSON.parse(buf.slice(0, nl)) as { ok?: unknown; message?: unknown };
        resolve({ ok: r.ok === true, message: typeof r.message === 'string' ? r.message : '' });
      } catch {
        reject(new AgentError('CLI_CONTROL_PROTOCOL', 'unreadable reply from the daemon'));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') resolve(null);
      else reject(new AgentError('CLI_CONTROL_IO', `control socket: ${e.message}`));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      if (!buf.includes('\n')) resolve(null);
    });
  });
}

export interface ControlServer {
  close(): Promise<void>;
}

/**
 * Listens on the control socket. The reply is sent before `onCommand`'s side effects
 * continue (`after` runs once the reply is flushed), so a reboot can end the process.
 */
export async function startControlServer(
  stateDir: string,
  onCommand: (c: ControlCommand) => { reply: ControlReply; after?: () => void },
): Promise<ControlServer> {
  const path = controlPath(stateDir);
  const handle = (sock: Socket): void => {
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 4096) sock.destroy();
        return;
      }
      const cmd = parseCommand(buf.slice(0, nl));
      if (!cmd) {
        sock.end(JSON.stringify({ ok: false, message: 'unknown command' }) + '\n');
        return;
      }
      const { reply, after } = onCommand(cmd);
      sock.end(JSON.stringify(reply) + '\n', () => after?.());
    });
    sock.on('error', () => undefined);
  };
  const listen = (): Promise<Server> =>
    new Promise((resolve, reject) => {
      const srv = createServer(handle);
      srv.once('error', reject);
      srv.listen(path, () => {
        srv.off('error', reject);
        resolve(srv);
      });
    });
  let server: Server;
  try {
    server = await listen();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw new AgentError('STATE_IO', `cannot listen on ${path}: ${e instanceof Error ? e.message : String(e)}`);
    const alive = await sendControl(stateDir, { cmd: 'ping' }, 2000).catch(() => null);
    if (alive) throw new AgentError('DAEMON_RUNNING', `another cpe-agent daemon uses state dir ${stateDir} (${alive.message})`, { stateDir });
    await unlink(path).catch(() => undefined);
    server = await listen();
  }
  await chmod(path, 0o600).catch(() => undefined);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        unlink(path).catch(() => undefined);
      }),
  };
}
