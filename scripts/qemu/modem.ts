/**
 * The QEMU modem end to end, shared by `make qemu-demo` (scripts/qemu/demo.ts) and
 * test/qemu/upgrade.lab.test.ts: firmware images (scripts/qemu/firmware.sh), a factory disk
 * with a site config on its data partition, the lab (scripts/qemu/lab.ts) and QEMU on its tap
 * (scripts/qemu/console.ts), and the console reading the scenarios need.
 *
 *   await ensureArm64Bundle();                       dist/sea/arm64/cpe-agent current
 *   const v1 = await buildFirmware('1.0.0');         { path, name, md5, size, version }
 *   const disk = await makeDisk(dir, v1, siteConfig({ snmpWrite, healthTimeoutSeconds: 20 }));
 *   const m = startModem({ lab, disk, log, timeoutMs });
 *   await m.line(/cpe-agent rootfs (\S+) up/, 120_000)       one whole console line
 *   const s = await m.status();                      `cpe-agent status --json` in the guest, parsed
 *
 * Console lines are matched whole (`line()` anchors the pattern to a line end), so a capture at
 * the end of a pattern never sees half of a line that is still arriving.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { QemuLab } from './lab.ts';
import { startQemu, type QemuConsole } from './console.ts';

const run = promisify(execFile);
export const ROOT = new URL('../../', import.meta.url).pathname;
export const VENDOR_CLASS = 'FS-0900E';
export const BOARD_DIR = join(ROOT, 'platform/boards/qemu-arm64');
export const TRUSTED_KEY = join(ROOT, '.lab/keys/vendor.pub');
/** the tools the modem scenarios need on the host (test/helpers/prereq.ts) */
export const MODEM_TOOLS = ['qemu-system-aarch64', '/usr/lib/u-boot/qemu_arm64/u-boot.bin', 'mkimage', 'mkfs.vfat', 'mcopy', 'sfdisk', 'mkfs.ext4', 'cpio', 'depmod', 'xz', 'gzip', 'dhcpd', 'in.tftpd', 'vsftpd', 'snmpset', 'qemu-aarch64-static'];

export interface Firmware {
  version: string;
  /** absolute path of the .bin */
  path: string;
  /** file name as option 43 announces it: FS-0900E_FW_<x>_<y>_<z>.bin */
  name: string;
  md5: string;
  size: number;
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** `make bundle ARCH=arm64` when the arm64 single executable is missing or older than a .ts file of agent/ or platform/. */
export async function ensureArm64Bundle(): Promise<void> {
  const sea = join(ROOT, 'dist/sea/arm64/cpe-agent');
  const src = Math.max(newestMtime(join(ROOT, 'agent')), newestMtime(join(ROOT, 'platform')));
  if (existsSync(sea) && statSync(sea).mtimeMs >= src) return;
  await run(process.execPath, [join(ROOT, 'scripts/build.ts')], { cwd: ROOT, timeout: 600_000, maxBuffer: 1 << 26 });
  await run(process.execPath, [join(ROOT, 'scripts/bundle.ts'), '--arch', 'arm64'], { cwd: ROOT, timeout: 600_000, maxBuffer: 1 << 26 });
}

export function firmwareName(version: string): string {
  return `${VENDOR_CLASS}_FW_${version.replaceAll('.', '_')}.bin`;
}

/**
 * scripts/qemu/firmware.sh VERSION OUT_DIR. Its stdout must be exactly one line, the .bin's path
 * (kernel.sh or rootfs.ts printing there would be a bug, not a file name); MD5 from the .md5 file.
 */
export async function buildFirmware(version: string, outDir = join(ROOT, 'dist/firmware')): Promise<Firmware> {
  const { stdout } = await run(join(ROOT, 'scripts/qemu/firmware.sh'), [version, outDir], { cwd: ROOT, timeout: 900_000, maxBuffer: 1 << 26, env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}` } });
  const lines = stdout.split('\n').filter((l) => l !== '');
  const path = join(outDir, firmwareName(version));
  if (lines.length !== 1 || lines[0] !== path) throw new Error(`firmware.sh ${version}: expected exactly the line ${path} on stdout, got ${JSON.stringify(stdout)}`);
  const m = /^([0-9a-f]{32}) {2}(\S+)$/.exec(readFileSync(`${path}.md5`, 'utf8').trim());
  if (!m || m[2] !== firmwareName(version)) throw new Error(`${path}.md5: not "md5  name"`);
  return { version, path, name: firmwareName(version), md5: m[1] ?? '', size: statSync(path).size };
}

export interface SiteOptions {
  snmpRead?: string;
  snmpWrite?: string;
  /** a trial boot with no lease after this long reboots (the board config leaves the default, 300 s) */
  healthTimeoutSeconds?: number;
  /** downloads per offer before giving up (default config: 3) */
  maxAttempts?: number;
}

/**
 * The site config the lab puts on the data partition (/var/lib/cpe-agent/site.json, preferred by
 * cpe-agent-supervise over the image's /etc/cpe-agent.json): the board config, the signature
 * policy the rootfs build adds (policy.signature "require", the trusted key), plus the lab's
 * SNMP communities and timings. The shipped image has no communities.
 */
export function siteConfig(o: SiteOptions): Record<string, unknown> {
  const board = JSON.parse(readFileSync(join(BOARD_DIR, 'cpe-agent.json'), 'utf8')) as Record<string, unknown>;
  const key = readFileSync(TRUSTED_KEY, 'utf8').trim();
  return {
    ...board,
    policy: { signature: 'require', trustedKeys: { manufacturer: [key], coSigner: [] } },
    ...(o.snmpRead || o.snmpWrite ? { snmp: { mode: 'standalone', community: { ...(o.snmpRead ? { read: o.snmpRead } : {}), ...(o.snmpWrite ? { write: o.snmpWrite } : {}) } } } : {}),
    ...(o.healthTimeoutSeconds ? { health: { timeoutSeconds: o.healthTimeoutSeconds } } : {}),
    ...(o.maxAttempts ? { retry: { maxAttempts: o.maxAttempts } } : {}),
  };
}

/**
 * The factory disk (scripts/qemu/disk.sh): slot A = `fw` (whole file, trailer included), slot B
 * empty, the data partition holding `site` as site.json. Returns the disk's path.
 */
export async function makeDisk(dir: string, fw: Firmware, site?: Record<string, unknown>, env: string[] = []): Promise<string> {
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  if (site) writeFileSync(join(data, 'site.json'), JSON.stringify(site, null, 2) + '\n', { mode: 0o600 });
  const disk = join(dir, 'disk.img');
  await run(join(ROOT, 'scripts/qemu/disk.sh'), [disk, fw.path, '-', ...env], { timeout: 120_000, env: { ...process.env, DATA_DIR: data, PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}` } });
  return disk;
}

/** What `cpe-agent status --json` says (the fields the scenarios read). */
export interface ModemStatus {
  state: string;
  stateText: string;
  running: { slot: string; version: string | null; md5: string } | null;
  staged: { slot: string; version: string | null; md5: string } | null;
  lastError: { code: string; message: string } | null;
  history: Array<{ event: string; slot?: string; version?: string | null; detail?: string }>;
  [k: string]: unknown;
}

export interface Modem extends QemuConsole {
  /** the next console line matching `re` (anchored to the line's end), after the previous match */
  line(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** runs `cpe-agent status --json` on the console's shell; the whole JSON object, parsed */
  status(timeoutMs?: number): Promise<ModemStatus>;
}

let statusSeq = 0;

/** QEMU on `lab`'s tap; with no lab, no NIC (e.g. the power-cut scenario's re-boot); `extraArgs` go to QEMU as they are (e.g. a bench-only disk). */
export function startModem(o: { lab?: QemuLab; disk: string; log: string; timeoutMs: number; mac?: string; extraArgs?: string[] }): Modem {
  const q = startQemu({ disk: o.disk, log: o.log, timeoutMs: o.timeoutMs, ...(o.lab ? { netns: o.lab.ns, netArgs: o.lab.qemuNetArgs(o.mac) } : {}), ...(o.extraArgs ? { extraArgs: o.extraArgs } : {}) });
  const line = (re: RegExp, timeoutMs: number): Promise<RegExpExecArray> => {
    // the line's rest up to a newline that has arrived (`$` would also match at the end of what
    // has arrived so far, i.e. mid-line)
    const body = re.source.endsWith('$') ? re.source.slice(0, -1) : re.source;
    return q.waitFor(new RegExp(`${body}[^\\n]*(?=\\n)`, re.flags), timeoutMs);
  };
  return {
    ...q,
    line,
    async status(timeoutMs = 60_000) {
      const tag = `ST${++statusSeq}`;
      // one echo of one line: the agent's own console lines cannot split the JSON; the typed
      // command echoes back with `$(` where the pattern wants `{`
      q.send(`echo "@@${tag} $(cpe-agent status --json --state-dir /var/lib/cpe-agent | tr -d '\\n') ${tag}@@"`);
      const m = await line(new RegExp(`@@${tag} (\\{.*\\}) ${tag}@@`), timeoutMs);
      return JSON.parse(m[1] ?? '') as ModemStatus;
    },
  };
}

let shellSeq = 0;
/**
 * Runs a shell line on the guest's serial shell; resolves with what it printed between two
 * markers (an empty output too: END then follows BEGIN's own line end).
 */
export async function guestShell(q: QemuConsole, cmd: string, timeoutMs: number): Promise<string> {
  const tag = `SH${++shellSeq}`;
  q.send(`echo ${tag}-BEGIN; ${cmd}; echo ${tag}-END`);
  const m = await q.waitFor(new RegExp(`\\n${tag}-BEGIN\\r?\\n([\\s\\S]*?)(?:\\r?\\n)?${tag}-END`), timeoutMs);
  return m[1] ?? '';
}

/** `cpe-agent image sign` with the lab's development key (.lab/keys/vendor.key, the firmware's trusted key), as firmware.sh signs. */
export async function signLabImage(payload: string, out: string, version: string, timeoutMs: number): Promise<void> {
  await run(process.execPath, [join(ROOT, 'agent/main.ts'), 'image', 'sign', payload, '--key', join(ROOT, '.lab/keys/vendor.key'), '--fw-version', version, '--model', VENDOR_CLASS, '--out', out], { timeout: timeoutMs });
}

/** `snmpset` of docsDevResetNow.0 = true(1) to the modem, from the lab namespace. */
export async function snmpReset(lab: QemuLab, ip: string, community: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return lab.snmp('snmpset', ['-v2c', '-c', community, '-t', '5', '-r', '2', '-m', '+DOCS-CABLE-DEVICE-MIB', ip, 'docsDevResetNow.0', 'i', '1'], 30_000);
}
