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
          // Two cores, and unit files often wait (on files, timers, worker pools they start):
          // two files at a time keep both cores busy. (Vitest's default is cores - 1.)
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          pool: 'forks',
          // After the unit tests, at vitest's default parallelism (one file at a time on two
          // cores): each file spawns the CLI and its worker pools.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
