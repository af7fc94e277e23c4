/**
 * make rootfs [ARCH=x64|arm64] [FORMAT=cpio|squashfs]: the root filesystem of one firmware slot,
 * dist/rootfs-<arch>.cpio.xz (initramfs, default) or dist/rootfs-<arch>.squashfs, plus a .md5
 * beside it. Contents (README "Modem rootfs"):
 *   busybox (Debian busybox-static for the arch) + its applet links, busybox init;
 *   the glibc runtime the Node binary needs (Debian libc6, libstdc++6, libgcc-s1 for the arch);
 *   the agent (the SEA, or node + bundle: --form node), /etc/cpe-agent.json for the board;
 *   with --board DIR (platform/boards/NAME): DIR/cpe-agent.json as that config and DIR/rootfs/
 *   laid over the tree; --version X.Y.Z for /etc/cpe-agent/version (default package.json);
 *   platform/rootfs/ (inittab, rc scripts, the supervisor); /etc/cpe-agent/version;
 *   /etc/cpe-agent/ca (empty, for later) and /etc/cpe-agent/keys (the trusted public keys):
 *   the image ships policy.signature "require" with the manufacturer key of --trusted-key
 *   (default .lab/keys/vendor.pub, a development key made on the first build with
 *   `cpe-agent image keygen`; its .key signs images for this rootfs) and, with --cosigner-key,
 *   the operator's co-signer key (a co-signature then required too).
 * Built without root: Debian packages are unpacked with dpkg-deb -x (scripts/debs.sh), the cpio
 * archive is written here (device nodes without mknod), squashfs uses pseudo files. Reproducible:
 * SOURCE_DATE_EPOCH (default: the last commit's time) on every entry, sorted entries, owners 0:0.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpioArchive, entriesFromTree, type CpioEntry } from './rootfs-cpio.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: process.arch === 'arm64' ? 'arm64' : 'x64' },
    format: { type: 'string', default: 'cpio' },
    /** sea: the single executable (leaner and faster: README "Footprint"); node: stripped node + bundle */
    form: { type: 'string', default: 'sea' },
    /** the board's /etc/cpe-agent.json (default: --board's cpe-agent.json, else platform/rootfs/etc/cpe-agent.json) */
    config: { type: 'string' },
    /** a board directory (platform/boards/NAME): its cpe-agent.json and its rootfs/ overlay (e.g. /etc/modules, /etc/init.d/board) */
    board: { type: 'string' },
    /** the firmware version written to /etc/cpe-agent/version (default: package.json's) */
    version: { type: 'string' },
    out: { type: 'string' },
    /** the manufacturer's public key (ed25519:<base64>, as `image keygen` writes NAME.pub) */
    'trusted-key': { type: 'string', default: join(root, '.lab', 'keys', 'vendor.pub') },
    /** optional operator co-signer public key: a co-signature is then required */
    'cosigner-key': { type: 'string' },
    /** cpio only: xz (default, smallest) | gzip (fast, for tests) | none */
    compress: { type: 'string', default: 'xz' },
  },
});
const arch = values.arch;
if (arch !== 'x64' && arch !== 'arm64') throw new Error(`--arch must be x64 or arm64, got ${arch}`);
const format = values.format;
if (format !== 'cpio' && format !== 'squashfs') throw new Error(`--format must be cpio or squashfs, got ${format}`);
const form = values.form;
if (form !== 'node' && form !== 'sea') throw new Error(`--form must be node or sea, got ${form}`);

const triplet = arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
const hostArch = process.arch === 'arm64' ? 'arm64' : 'x64';
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? execFileSync('git', ['-C', root, 'log', '-1', '--format=%ct']).toString().trim());
if (!Number.isInteger(epoch) || epoch <= 0) throw new Error('SOURCE_DATE_EPOCH must be a positive integer');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const sea = join(root, 'dist', 'sea', arch);
if (!existsSync(join(sea, form === 'sea' ? 'cpe-agent' : 'cpe-agent.cjs'))) throw new Error(`${sea} incomplete: run make bundle ARCH=${arch} first`);

const work = join(root, '.lab', 'rootfs', arch);
const stage = join(work, 'stage');
const debs = join(work, 'debs');
rmSync(work, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

const used = execFileSync(join(root, 'scripts', 'debs.sh'), [arch, debs, 'busybox-static', 'libc6', 'libstdc++6', 'libgcc-s1']).toString().trim().split('\n');

const put = (rel: string, mode: number, data?: string | Buffer): string => {
  const p = join(stage, rel);
  mkdirSync(dirname(p), { recursive: true });
  if (data !== undefined) writeFileSync(p, data);
  chmodSync(p, mode);
  return p;
};
const dir = (rel: string, mode = 0o755): void => {
  mkdirSync(join(stage, rel), { recursive: true });
  chmodSync(join(stage, rel), mode);
};
const link = (rel: string, target: string): void => {
  mkdirSync(dirname(join(stage, rel)), { recursive: true });
  rmSync(join(stage, rel), { force: true });
  symlinkSync(target, join(stage, rel));
};
const copy = (from: string, rel: string, mode: number): void => {
  mkdirSync(dirname(join(stage, rel)), { recursive: true });
  copyFileSync(from, join(stage, rel));
  chmodSync(join(stage, rel), mode);
};

// directories
for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'usr/lib', 'etc/init.d', 'proc', 'sys', 'dev', 'run', 'var', 'root', 'mnt', `lib/${triplet}`, `usr/lib/${triplet}`]) dir(d);
chmodSync(join(stage, 'root'), 0o700);
dir('tmp', 0o1777);

// busybox and its applets (the list from the binary itself; arm64 under qemu user mode)
copy(join(debs, 'bin', 'busybox'), 'bin/busybox', 0o755);
const bbArgv = arch === hostArch ? [join(debs, 'bin', 'busybox')] : ['qemu-aarch64-static', join(debs, 'bin', 'busybox')];
const applets = execFileSync(bbArgv[0] ?? '', [...bbArgv.slice(1), '--list-full']).toString().trim().split('\n').sort();
for (const a of applets) {
  if (a === 'bin/busybox' || a === '') continue;
  link(a, '/bin/busybox');
}
link('init', '/bin/busybox'); // an initramfs starts /init

// the glibc runtime of the node binary: the ELF interpreter and the NEEDED libraries
const libs = ['libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'librt.so.1', 'libresolv.so.2', 'libnss_files.so.2', 'libnss_dns.so.2', 'libgcc_s.so.1'];
for (const l of libs) {
  const from = join(debs, 'lib', triplet, l);
  if (existsSync(from)) copy(from, `lib/${triplet}/${l}`, 0o755);
}
const ld = arch === 'arm64' ? 'ld-linux-aarch64.so.1' : 'ld-linux-x86-64.so.2';
copy(join(debs, 'lib', triplet, ld), `lib/${triplet}/${ld}`, 0o755);
link(arch === 'arm64' ? `lib/${ld}` : `lib64/${ld}`, `/lib/${triplet}/${ld}`);
const stdcxx = readlinkSync(join(debs, 'usr', 'lib', triplet, 'libstdc++.so.6'));
copy(join(debs, 'usr', 'lib', triplet, stdcxx), `usr/lib/${triplet}/${stdcxx}`, 0o644);
link(`usr/lib/${triplet}/libstdc++.so.6`, stdcxx);

// the agent
if (form === 'sea') {
  copy(join(sea, 'cpe-agent'), 'usr/bin/cpe-agent', 0o755);
} else {
  copy(join(sea, 'node'), 'usr/lib/cpe-agent/node', 0o755);
  copy(join(sea, 'cpe-agent.cjs'), 'usr/lib/cpe-agent/cpe-agent.cjs', 0o644);
  copy(join(sea, 'cpe-agent.sh'), 'usr/lib/cpe-agent/cpe-agent', 0o755);
  link('usr/bin/cpe-agent', '/usr/lib/cpe-agent/cpe-agent');
}

// platform/rootfs/: init scripts, supervisor, config templates (modes normalised: 755 / 644)
const tree = join(root, 'platform', 'rootfs');
cpSync(tree, stage, { recursive: true });
const walk = (rel: string): void => {
  for (const name of readdirSync(join(tree, rel))) {
    const r = join(rel, name);
    const st = statSync(join(tree, r));
    if (st.isDirectory()) walk(r);
    else chmodSync(join(stage, r), st.mode & 0o111 ? 0o755 : 0o644);
  }
};
walk('.');
// the board's overlay on top (its files win; modes normalised the same way)
const board = values.board;
const overlay = board ? join(board, 'rootfs') : undefined;
if (board && !existsSync(join(board, 'cpe-agent.json'))) throw new Error(`--board ${board}: no cpe-agent.json there`);
if (overlay && existsSync(overlay)) {
  cpSync(overlay, stage, { recursive: true });
  const walkOverlay = (rel: string): void => {
    for (const name of readdirSync(join(overlay, rel))) {
      const r = join(rel, name);
      const st = statSync(join(overlay, r));
      if (st.isDirectory()) walkOverlay(r);
      else chmodSync(join(stage, r), st.mode & 0o111 ? 0o755 : 0o644);
    }
  };
  walkOverlay('.');
}
const configFile = values.config ?? (board ? join(board, 'cpe-agent.json') : join(root, 'platform', 'rootfs', 'etc', 'cpe-agent.json'));
// Signed images only: the board's config gets policy.signature "require" and the trusted keys.
const trustedKey = values['trusted-key'];
if (!existsSync(trustedKey)) {
  if (trustedKey !== join(root, '.lab', 'keys', 'vendor.pub')) throw new Error(`--trusted-key ${trustedKey}: no such file`);
  mkdirSync(dirname(trustedKey), { recursive: true });
  execFileSync(process.execPath, [join(root, 'agent', 'main.ts'), 'image', 'keygen', '--out', trustedKey.replace(/\.pub$/, '')], { stdio: 'inherit' });
}
const keyText = (f: string): string => readFileSync(f, 'utf8').trim();
const boardConfig = JSON.parse(readFileSync(configFile, 'utf8')) as { policy?: Record<string, unknown> };
boardConfig.policy = {
  ...boardConfig.policy,
  signature: 'require',
  trustedKeys: { manufacturer: [keyText(trustedKey)], coSigner: values['cosigner-key'] ? [keyText(values['cosigner-key'])] : [] },
};
put('etc/cpe-agent.json', 0o644, JSON.stringify(boardConfig, null, 2) + '\n');
dir('etc/cpe-agent/ca');
dir('etc/cpe-agent/keys', 0o755);
put('etc/cpe-agent/keys/manufacturer.pub', 0o644, keyText(trustedKey) + '\n');
if (values['cosigner-key']) put('etc/cpe-agent/keys/cosigner.pub', 0o644, keyText(values['cosigner-key']) + '\n');
link('etc/resolv.conf', '/run/resolv.conf');
// the version file: what this rootfs is (README: file name, version file and option 43's MD5)
const day = new Date(epoch * 1000).toISOString().slice(0, 10).replaceAll('-', '');
const version = values.version ?? pkg.version;
if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`--version must be X.Y.Z, got ${version}`);
const [maj, min, patch] = version.split('.');
put('etc/cpe-agent/version', 0o644, `${version}\narch=${arch}\nbuilt=${day}\nimage=FW_${maj}_${min}_${patch}_${day}\n`);

// every path in the stage, parents first
const paths: string[] = [];
const collect = (rel: string): void => {
  for (const name of readdirSync(join(stage, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    paths.push(r);
    if (lstatSync(join(stage, r)).isDirectory()) collect(r);
  }
};
collect('');

const compress = values.compress;
if (compress !== 'xz' && compress !== 'gzip' && compress !== 'none') throw new Error(`--compress must be xz, gzip or none, got ${compress}`);
const ext = format === 'cpio' ? { xz: 'cpio.xz', gzip: 'cpio.gz', none: 'cpio' }[compress] : 'squashfs';
const out = values.out ?? join(root, 'dist', `rootfs-${arch}.${ext}`);
mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });
if (format === 'cpio') {
  const entries: CpioEntry[] = [...entriesFromTree(stage, paths), { path: 'dev/console', type: 'char', mode: 0o600, major: 5, minor: 1 }, { path: 'dev/null', type: 'char', mode: 0o666, major: 1, minor: 3 }];
  const cpio = cpioArchive(entries, epoch);
  // the kernel's xz decoder wants CRC32 checks; one thread = the same bytes every time
  const z = { xz: ['xz', '-9', '-T1', '--check=crc32', '-c'], gzip: ['gzip', '-9', '-n', '-c'], none: undefined }[compress];
  writeFileSync(out, z ? execFileSync(z[0] ?? '', z.slice(1), { input: cpio, maxBuffer: 1 << 30 }) : cpio);
} else {
  execFileSync('mksquashfs', [stage, out, '-comp', 'xz', '-b', '1M', '-noappend', '-reproducible', '-all-root', '-mkfs-time', String(epoch), '-all-time', String(epoch), '-no-progress', '-quiet', '-p', 'dev/console c 600 0 0 5 1', '-p', 'dev/null c 666 0 0 1 3'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
const md5 = await new Promise<string>((resolve, reject) => {
  const h = createHash('md5');
  createReadStream(out).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
});
writeFileSync(`${out}.md5`, `${md5}  ${relative(dirname(out), out)}\n`);
const size = statSync(out).size;
process.stdout.write(
  `${relative(root, out)}: ${(size / 1048576).toFixed(1)} MiB (${size} bytes), md5 ${md5}\n` +
    `  agent: ${form === 'sea' ? 'single executable' : 'node + bundle'}; packages: ${used.join(' ')}; SOURCE_DATE_EPOCH=${epoch}\n`,
);
