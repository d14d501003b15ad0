/**
 * Temp directories a test file makes, all removed once its tests are done (pass or fail):
 * a directory per test, never removed, left gigabytes in the temp dir over many runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export interface TempDirs {
  /** Makes `<temp dir>/<prefix>XXXXXX` (mode 0700), empty; returns its path. */
  make(prefix: string): string;
  /** Removes `dir` too (one another helper made), with the rest; returns it. */
  removeLater(dir: string): string;
}

/**
 * Temp directories for the test file that calls this at its top level (or for the describe
 * block it is called in): all removed after that file's (block's) tests. Called there
 * rather than registered on import, so that it works where test files share loaded
 * modules (the unit project runs with `isolate: false`).
 */
export function tempDirs(): TempDirs {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    make: (prefix) => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    removeLater: (dir) => {
      made.push(dir);
      return dir;
    },
  };
}
