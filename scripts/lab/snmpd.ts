/**
 * Net-SNMP snmpd as a lab peer: `master agentx` on a unix socket in a temp dir, SNMP on a
 * loopback UDP port, its own configuration only (-C: no /etc/snmp), persistent files in the
 * temp dir. Never touches the host's snmpd.
 *
 *   const d = await startSnmpd({ port, read: 'pub', write: 'priv' });   d.agentxSocket
 *   await d.kill('SIGKILL'); await d.start();   (same config, same socket path)
 *   await d.stop()
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Snmpd {
  dir: string;
  agentxSocket: string;
  port: number;
  output(): string;
  start(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export async function startSnmpd(o: { port: number; read: string; write: string }): Promise<Snmpd> {
  const dir = await mkdtemp(join(tmpdir(), 'lab-snmpd-'));
  const agentxSocket = join(dir, 'agentx.sock');
  // not <persistent dir>/snmpd.conf: snmpd rewrites that file on exit
  const conf = join(dir, 'lab-snmpd.conf');
  const persistent = join(dir, 'persist');
  await mkdir(persistent);
  await writeFile(
    conf,
    [
      `agentaddress udp:127.0.0.1:${o.port}`,
      'master agentx',
      `agentXSocket ${agentxSocket}`,
      'agentXPerms 0600 0700',
      `rocommunity ${o.read} 127.0.0.1`,
      `rwcommunity ${o.write} 127.0.0.1`,
      'sysDescr lab snmpd (AgentX master)',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let out = '';
  const env = { PATH: process.env.PATH, SNMP_PERSISTENT_DIR: persistent, SNMPCONFPATH: persistent, MIBS: '', MIBDIRS: dir, HOME: dir };
  const start = async (): Promise<void> => {
    await unlink(agentxSocket).catch(() => undefined); // left behind by a killed snmpd
    out = '';
    const c = spawn('snmpd', ['-f', '-Lo', '-C', '-c', conf, '-p', join(dir, 'snmpd.pid')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const t0 = Date.now();
    while (!existsSync(agentxSocket) || !/NET-SNMP version|started/i.test(out)) {
      if (c.exitCode !== null) throw new Error(`snmpd exited ${c.exitCode}: ${out}`);
      if (Date.now() - t0 > 10_000) throw new Error(`snmpd did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await gone;
  };
  await start();
  return {
    dir,
    agentxSocket,
    port: o.port,
    output: () => out,
    start,
    kill,
    async stop() {
      await kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
