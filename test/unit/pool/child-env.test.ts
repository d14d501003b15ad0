import { describe, expect, it } from 'vitest';
import { childTunables } from '../../../src/pool/child-env.ts';

const OURS = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576';

describe('childTunables', () => {
  it.each([
    [undefined, OURS],
    ['', OURS],
    ['glibc.malloc.arena_max=2', `glibc.malloc.arena_max=2:${OURS}`],
    // The user's own choices stand, off included.
    ['glibc.malloc.hugetlb=0', 'glibc.malloc.hugetlb=0:glibc.malloc.mmap_threshold=1048576'],
    [
      'glibc.malloc.mmap_threshold=4096:glibc.malloc.hugetlb=2',
      'glibc.malloc.mmap_threshold=4096:glibc.malloc.hugetlb=2',
    ],
  ])('%j -> %j', (parent, child) => {
    expect(childTunables(parent)).toBe(child);
  });
});
