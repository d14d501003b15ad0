import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests spawn the CLI and start worker pools: give them room on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit tests touch no global state (no env, cwd, signals or module mocks), so files
          // share worker threads and their loaded modules instead of each paying for a fresh
          // process and a fresh import of everything.
          pool: 'threads',
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          pool: 'forks',
        },
      },
    ],
  },
});
