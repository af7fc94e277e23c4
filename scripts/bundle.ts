/**
 * make bundle [ARCH=x64|arm64]: the agent as a Node single executable application (SEA) for one
 * architecture, dist/sea/<arch>/cpe-agent, from the official Node binary of the npm package
 * node-linux-<arch> (the version pinned in package-lock.json) and a minified esbuild bundle.
 *
 *   1. the SEA blob: `node --experimental-sea-config` run by the *target* architecture's node
 *      (a code-cache blob is V8 bytecode: an x64-made one is rejected on arm64 with "Code cache
 *      data rejected."), so for arm64 on an x64 host under qemu-aarch64-static with
 *      QEMU_LD_PREFIX = arm64 glibc unpacked from Debian's packages (scripts/debs.sh);
 *   2. a copy of that node binary, llvm-strip'ped (GNU strip cannot handle aarch64 here);
 *   3. postject injects the blob (section NODE_SEA_BLOB, the SEA fuse flipped).
 *
 * Also dist/sea/<arch>/node + cpe-agent.cjs + the `cpe-agent` launcher: the same bundle on the
 * stripped node, the other shippable form (README: which one the rootfs gets and why).
 * Options: --arch x64|arm64, --no-code-cache, --xz (also print xz -6 sizes: slow). Prints sizes.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { DEVICE_GLIBC_TUNABLES, V8_FLAGS } from './v8-flags.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { arch: { type: 'string', default: process.arch === 'arm64' ? 'arm64' : 'x64' }, 'no-code-cache': { type: 'boolean', default: false }, xz: { type: 'boolean', default: false } },
});
const arch = values.arch;
if (arch !== 'x64' && arch !== 'arm64') throw new Error(`--arch must be x64 or arm64, got ${arch}`);
const hostArch = process.arch === 'arm64' ? 'arm64' : 'x64';
const codeCache = !values['no-code-cache'];


const node = join(root, 'node_modules', `node-linux-${arch}`, 'bin', 'node');
if (!existsSync(node)) throw new Error(`${node} missing: run scripts/setup.sh (fetches node-linux-${arch})`);
const out = join(root, 'dist', 'sea', arch);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// the device's bundle: minified, identifiers too (V8 keeps the source in its heap: README
// "Footprint"); nothing may depend on a class or function name at run time (constructor.name),
// so error messages name things explicitly. Its source map stays in dist/ to read stack frames.
const bundle = join(out, 'cpe-agent.cjs');
await build({
  entryPoints: [join(root, 'agent/main.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  sourcemap: 'external',
  logLevel: 'warning',
});
renameSync(`${bundle}.map`, join(root, 'dist', 'sea', `cpe-agent-${arch}.cjs.map`));

/** argv prefix running the target architecture's node on this host */
function targetNode(): { cmd: string; pre: string[]; env: NodeJS.ProcessEnv } {
  if (arch === hostArch) return { cmd: node, pre: [], env: process.env };
  if (arch !== 'arm64') throw new Error(`building for ${arch} on ${hostArch} is not supported`);
  const sysroot = join(root, '.lab', 'sysroot', arch);
  if (!existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))) {
    execFileSync(join(root, 'scripts', 'debs.sh'), [arch, sysroot, 'libc6', 'libstdc++6', 'libgcc-s1'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return { cmd: 'qemu-aarch64-static', pre: [node], env: { ...process.env, QEMU_LD_PREFIX: sysroot } };
}

// 1. the blob
const blob = join(out, 'sea-prep.blob');
const seaConfig = join(out, 'sea-config.json');
writeFileSync(
  seaConfig,
  JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: codeCache, useSnapshot: false, execArgv: V8_FLAGS, execArgvExtension: 'cli' }, null, 2),
);
const t = targetNode();
// the code cache carries V8's flag hash: made with the flags the SEA runs with, or it is rejected
execFileSync(t.cmd, [...t.pre, ...V8_FLAGS, '--experimental-sea-config', seaConfig], { env: t.env, stdio: ['ignore', 'ignore', 'inherit'] });

// 2. stripped node
const stripped = join(out, 'node');
copyFileSync(node, stripped);
chmodSync(stripped, 0o755);
execFileSync('llvm-strip', ['--strip-all', stripped]);

// 3. inject
const sea = join(out, 'cpe-agent');
copyFileSync(stripped, sea);
chmodSync(sea, 0o755);
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'postject', 'dist', 'cli.js'), sea, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
  // its "Can't find string offset for section name '.note.100'" warnings are harmless
  { stdio: ['ignore', 'ignore', 'ignore'] },
);
rmSync(seaConfig);

// the other form: node + bundle + launcher (same flags)
writeFileSync(
  join(out, 'cpe-agent.sh'),
  `#!/bin/sh\n# cpe-agent: the bundle on the Node runtime beside it (flags, malloc: README "Footprint")\nhere=$(dirname "$(readlink -f "$0")")\nGLIBC_TUNABLES=${DEVICE_GLIBC_TUNABLES}\nexport GLIBC_TUNABLES\nexec "$here/node" ${V8_FLAGS.join(' ')} "$here/cpe-agent.cjs" "$@"\n`,
  { mode: 0o755 },
);

const xzSize = (f: string): number => execFileSync('xz', ['-6', '-T2', '-c', f], { maxBuffer: 1 << 30 }).length;
const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
for (const f of [sea, stripped]) {
  process.stdout.write(`${f.slice(root.length + 1)}: ${mib(statSync(f).size)} raw${values.xz ? `, ${mib(xzSize(f))} xz` : ''}\n`);
}
process.stdout.write(`blob ${mib(readFileSync(blob).length)} (code cache ${codeCache ? 'on' : 'off'}), bundle ${mib(statSync(bundle).size)}\n`);
