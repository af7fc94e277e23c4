import { defineConfig } from 'vitest/config';

// Three projects: `unit` (pure code, parallel), `cli-sea` (the CLI tests once more, against the
// single executable) and `lab` (real daemons in network namespaces, root only, one file at a
// time so labs never compete for the CPU).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          // property tests generate inputs up to their stated maxLength (size: 'max', see
          // scripts/check-tests.ts): a few seconds each, more on a busy machine
          testTimeout: 60_000,
          exclude: ['test/**/*.lab.test.ts'],
        },
      },
      {
        // the CLI suite once more against the single executable (issue 14: both forms pass the
        // same CLI tests); `make test` builds it first (make bundle)
        test: {
          name: 'cli-sea',
          include: ['test/cli/**/*.test.ts'],
          exclude: ['test/cli/lazy-load.test.ts'],
          testTimeout: 60_000,
          env: { CPE_AGENT_BIN: `dist/sea/${process.arch === 'arm64' ? 'arm64' : 'x64'}/cpe-agent` },
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/**/*.lab.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
