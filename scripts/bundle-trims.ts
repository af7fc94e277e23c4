/**
 * esbuild plugin for both builds (scripts/build.ts, scripts/bundle.ts): keeps Node built-ins the
 * agent never uses out of the process (README "Footprint"). pino loads node:worker_threads and
 * its transport code (thread-stream, node:module, node:url) at require time, and sonic-boom loads
 * node:assert for two argument checks; together about 1 MiB of an idle daemon's RSS
 * (footprint bench, "floor" rows). The agent logs through a destination object of its own
 * (agent/log.ts) in the main thread and never uses a pino transport, so:
 *   - pino/lib/transport.js is replaced by a function that refuses (a transport option would be a
 *     programming error here, and says so);
 *   - pino's `worker_threads` is `{ isMainThread: true }` (all it reads);
 *   - `assert` in pino, sonic-boom and thread-stream is a plain truthiness check that throws
 *     an AssertionError-named Error with the same message.
 * test/log.test.ts checks the bundle still logs and redacts; test/cli/lazy-load.test.ts checks
 * that these built-ins stay unloaded.
 */
import type { Plugin } from 'esbuild';

const TRIMMED = /[\\/]node_modules[\\/](pino|sonic-boom|thread-stream)[\\/]/;

const STUBS: Record<string, string> = {
  transport: `module.exports = function transport() { throw new Error('pino transports are not part of the cpe-agent bundle (scripts/bundle-trims.ts)'); };`,
  worker_threads: `module.exports = { isMainThread: true };`,
  assert: `function assert(value, message) { if (!value) { const e = new Error(typeof message === 'string' ? message : 'assertion failed'); e.name = 'AssertionError'; throw e; } }
module.exports = assert; assert.ok = assert;`,
};

export const trimBuiltins: Plugin = {
  name: 'cpe-agent-trim-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(worker_threads|assert)$|^\.\/transport$|^\.\/lib\/transport$/ }, (args) => {
      if (!TRIMMED.test(args.importer)) return undefined;
      const name = args.path.replace(/^node:/, '').replace(/^\.\/(lib\/)?/, '');
      return { path: name, namespace: 'cpe-agent-stub' };
    });
    b.onLoad({ filter: /.*/, namespace: 'cpe-agent-stub' }, (args) => ({ contents: STUBS[args.path] ?? '', loader: 'js' }));
  },
};
