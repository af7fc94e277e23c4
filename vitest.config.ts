import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure code, parallel) and `lab` (real daemons in network
// namespaces, root only, one file at a time so labs never compete for the CPU).
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
