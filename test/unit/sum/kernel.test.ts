import { describe, expect, it } from 'vitest';
import { sumRangeExact } from '../../../src/sum/kernel.ts';
import { closedFormSum, INT64_MAX, INT64_MIN, MAX_BLOCK } from '../../../src/sum/plan.ts';

describe('sumRangeExact', () => {
  it.each([
    ['empty', 0n, 0n],
    ['one number', 41n, 42n],
    ['a tail shorter than a SIMD step', -3n, 4n],
    ['signed, around 0', -1_000_000n, 1_000_001n],
    ['past 2^53, where doubles lose exactness', 2n ** 53n - 1000n, 2n ** 53n + 1000n],
    ['the largest numbers, to INT64_MAX', INT64_MAX - 2n * MAX_BLOCK - 13n, INT64_MAX],
    ['the largest number alone', INT64_MAX - 1n, INT64_MAX],
    ['the smallest numbers, from INT64_MIN', INT64_MIN, INT64_MIN + 2n * MAX_BLOCK + 13n],
    ['the smallest number alone', INT64_MIN, INT64_MIN + 1n],
    [
      'across the size where blocks need an offset',
      2n ** 41n - 3n * MAX_BLOCK,
      2n ** 41n + 3n * MAX_BLOCK,
    ],
    ['large negative to small', -(2n ** 40n) - 5n * MAX_BLOCK, -(2n ** 40n) + MAX_BLOCK],
  ])('adds %s exactly', async (_, start, end) => {
    expect(await sumRangeExact(start, end)).toBe(closedFormSum({ start, end }));
  });
});
