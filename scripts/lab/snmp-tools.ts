/**
 * The Net-SNMP command-line tools (Debian `snmp`) as lab peers: run inside a namespace (or on
 * the host for loopback) with a private environment — configuration and persistent dirs in a
 * temp dir (the tools otherwise read /etc/snmp and write /var/lib/snmp), MIB search path =
 * our mibs/ plus the SNMPv2 core modules that npm net-snmp ships (Debian has no IETF MIBs);
 * SMIPATH for libsmi's smilint (which finds modules by file name: copies without `.mib`).
 *
 *   const t = await snmpTools();           t.run('snmpget', ['-v2c', '-c', c, host, 'sysDescr.0'], ns)
 *   t.env                                  the environment, for spawn()
 *   await t.cleanup()
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
export const MIB_DIRS = [join(ROOT, 'mibs'), join(ROOT, 'node_modules/net-snmp/lib/mibs')];

export interface SnmpTools {
  env: NodeJS.ProcessEnv;
  dir: string;
  /** stdout; rejects with stdout+stderr in the message on a non-zero exit */
  run(tool: string, args: string[], ns?: string, timeoutMs?: number): Promise<string>;
  /** exit code, stdout, stderr: never rejects */
  try(tool: string, args: string[], ns?: string, timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  cleanup(): Promise<void>;
}

export async function snmpTools(): Promise<SnmpTools> {
  const dir = await mkdtemp(join(tmpdir(), 'snmp-tools-'));
  const smi = join(dir, 'smi');
  await mkdir(smi);
  const core = MIB_DIRS[1] ?? '';
  for (const f of await readdir(core)) await copyFile(join(core, f), join(smi, f.replace(/\.mib$/, '')));
  const env: NodeJS.ProcessEnv = {
    SMIPATH: `${smi}:${MIB_DIRS[0] ?? ''}`,
    PATH: process.env.PATH,
    HOME: dir,
    SNMPCONFPATH: dir,
    SNMP_PERSISTENT_DIR: dir,
    MIBDIRS: MIB_DIRS.join(':'),
    MIBS: 'SNMPv2-MIB',
  };
  const exec = (tool: string, args: string[], ns: string | undefined, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const [cmd, argv] = ns ? ['ip', ['netns', 'exec', ns, tool, ...args]] : [tool, args];
      execFile(cmd, argv, { env, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  return {
    env,
    dir,
    async run(tool, args, ns, timeoutMs = 15_000) {
      const r = await exec(tool, args, ns, timeoutMs);
      if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    try: (tool, args, ns, timeoutMs = 15_000) => exec(tool, args, ns, timeoutMs),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
