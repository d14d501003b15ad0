import { describe, expect, it } from 'vitest';
import { openFiles, workersWithin } from '../../../src/pool/open-files.ts';

describe('workersWithin', () => {
  it.each([
    // limit, open, runtime, wanted, claimed -> workers
    [1024, 23, 'thread', 16, 0, 16],
    [32, 23, 'thread', 16, 0, 1], // 23 + 7 + 2 = 32
    [31, 23, 'thread', 2, 0, 0],
    [40, 23, 'thread', 16, 0, 2],
    [40, 23, 'thread', 16, 7, 1], // another pool's worker has not started yet
    [32, 23, 'process', 16, 0, 1], // 23 + 4 + 5 = 32
    [31, 23, 'process', 1, 0, 0],
    [10, 23, 'process', 1, 0, 0], // already over the limit
  ] as const)(
    'ulimit -n %i with %i open: %s, %i asked, %i claimed -> %i',
    (limit, open, runtime, wanted, claimed, fit) => {
      expect(workersWithin({ limit, open }, runtime, wanted, claimed)).toBe(fit);
    },
  );
});

describe('openFiles', () => {
  it('reads this process’s limit and counts its descriptors', () => {
    const files = openFiles();
    expect(files).toBeDefined();
    expect(files!.open).toBeGreaterThanOrEqual(3);
    expect(files!.limit).toBeGreaterThan(files!.open);
  });
});
