/**
 * vsftpd for the lab: a generated config (foreground, one listen address, passive ports,
 * one real local user chrooted to `root`, protocol log), started inside a namespace.
 * The login user is created with useradd/chpasswd when it does not exist and removed again
 * by stop(); a user left by a killed lab (its home, a lab dir under the temp dir, is gone) is
 * adopted and removed the same way. Used by the FTP tests, the benches and the upgrade demo.
 */
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, waitFor, collectOutput, type Netns } from './netns.ts';

export interface VsftpdOptions {
  /** directory served (chroot of the user) */
  root: string;
  /** listen address inside the namespace (also the PASV address) */
  address: string;
  user: string;
  password: string;
  port?: number;
  /** also allow anonymous logins, served from the same root */
  anonymous?: boolean;
  /** bytes/s per session (vsftpd local_max_rate / anon_max_rate); 0 = unlimited */
  maxRate?: number;
  /** passive port range; default 40000-40199 */
  pasvPorts?: [number, number];
}

export interface Vsftpd {
  stop(): Promise<void>;
  /** vsftpd's protocol log (commands and replies; vsftpd itself masks PASS) */
  logFile: string;
  readLog(): Promise<string>;
  /** pid of the listening process */
  pid: number;
  /** pids of the per-connection session processes (not the listener) */
  sessionPids(): Promise<number[]>;
  /** SIGKILL every session process: the server drops control and data connections */
  killSessions(): Promise<number>;
  /** SIGKILL the listener and every session: the server is gone for good */
  kill(): Promise<void>;
}

async function pidsWithCmdline(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = (await readFile(`/proc/${d}/cmdline`, 'utf8')).split('\0');
      if (cmd[0]?.endsWith('vsftpd') && cmd.includes(needle)) out.push(Number(d));
    } catch {
      /* process gone */
    }
  }
  return out;
}

function killAll(pids: number[], signal: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * A lab user whose lab is gone: its home (a lab's root, made by useradd -d) was under the temp
 * dir and no longer exists. A user of a lab still running (another vsftpd of the same test, a
 * concurrent lab) still has its home, and is only reused, never deleted.
 */
async function isStaleLabUser(user: string): Promise<boolean> {
  const home = (await run(['getent', 'passwd', user], { allowFail: true })).stdout.trim().split(':')[5] ?? '';
  if (!home.startsWith(`${tmpdir()}/`)) return false;
  return (await stat(home).then(() => true, () => false)) === false;
}

export async function startVsftpd(netns: Netns, ns: string, opts: VsftpdOptions): Promise<Vsftpd> {
  const port = opts.port ?? 21;
  const [pasvMin, pasvMax] = opts.pasvPorts ?? [40000, 40199];
  const dir = await mkdtemp(join(tmpdir(), 'cpf-vsftpd-'));
  const conf = join(dir, 'vsftpd.conf');
  const logFile = join(dir, 'vsftpd.log');

  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(opts.user)) throw new Error(`vsftpd lab: invalid user name ${JSON.stringify(opts.user)}`);
  const id = await run(['id', '-u', opts.user], { allowFail: true });
  const exists = id.code === 0;
  // Never re-password a system account: only lab users (uid ≥ 1000) may be reused.
  if (exists && Number(id.stdout.trim()) < 1000) throw new Error(`vsftpd lab: refusing to use system account ${opts.user}`);
  let createdUser = false;
  if (!exists) {
    await run(['useradd', '-M', '-N', '-d', opts.root, '-s', '/bin/sh', opts.user]);
    createdUser = true;
  } else if (await isStaleLabUser(opts.user)) {
    // left by a lab that was killed before its stop(): this lab adopts it, and deletes it
    await run(['usermod', '-d', opts.root, opts.user]);
    createdUser = true;
  }
  await run(['chpasswd'], { input: `${opts.user}:${opts.password}\n` });

  const rate = opts.maxRate ?? 0;
  const lines = [
    'listen=YES',
    'listen_ipv6=NO',
    'background=NO',
    `listen_address=${opts.address}`,
    `listen_port=${port}`,
    `anonymous_enable=${opts.anonymous ? 'YES' : 'NO'}`,
    `anon_root=${opts.root}`,
    'no_anon_password=YES',
    'local_enable=YES',
    'write_enable=NO',
    'chroot_local_user=YES',
    'allow_writeable_chroot=YES',
    `local_root=${opts.root}`,
    'pasv_enable=YES',
    `pasv_min_port=${pasvMin}`,
    `pasv_max_port=${pasvMax}`,
    `pasv_address=${opts.address}`,
    'seccomp_sandbox=NO',
    'secure_chroot_dir=/var/run/vsftpd/empty',
    'pam_service_name=vsftpd',
    'userlist_enable=NO',
    'xferlog_enable=YES',
    'log_ftp_protocol=YES',
    `vsftpd_log_file=${logFile}`,
    'syslog_enable=NO',
    `local_max_rate=${rate}`,
    `anon_max_rate=${rate}`,
    'max_per_ip=0',
    'idle_session_timeout=120',
    'data_connection_timeout=60',
  ];
  await writeFile(conf, lines.join('\n') + '\n', { mode: 0o600 });

  const child = netns.spawn(ns, ['vsftpd', conf]);
  const out = collectOutput(child);
  const pid = child.pid ?? 0;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`vsftpd exited (${child.exitCode}): ${out.text()}`);
      const r = await netns.exec(ns, ['ss', '-ltnH', `sport = :${port}`], { allowFail: true });
      return r.stdout.includes(`:${port}`);
    }, `vsftpd listening on ${opts.address}:${port}`);
  } catch (e) {
    child.kill('SIGKILL');
    if (createdUser) await run(['userdel', opts.user], { allowFail: true });
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const sessionPids = async (): Promise<number[]> => (await pidsWithCmdline(conf)).filter((p) => p !== pid);
  let stopped = false;
  return {
    logFile,
    pid,
    readLog: () => readFile(logFile, 'utf8').catch(() => ''),
    sessionPids,
    async killSessions() {
      const pids = await sessionPids();
      killAll(pids, 'SIGKILL');
      return pids.length;
    },
    async kill() {
      killAll([pid, ...(await sessionPids())], 'SIGKILL');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      killAll(await pidsWithCmdline(conf), 'SIGKILL');
      if (child.exitCode === null && child.signalCode === null) {
        await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
      }
      if (createdUser) await run(['userdel', opts.user], { allowFail: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
