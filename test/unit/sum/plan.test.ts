import { describe, expect, it } from 'vitest';
import {
  closedFormSum,
  INT64_MAX,
  INT64_MIN,
  MAX_BLOCK,
  parseInteger,
  planBlocks,
  planChunks,
  type Block,
} from '../../../src/sum/plan.ts';

describe('parseInteger', () => {
  it.each([
    ['100000000', 100000000n],
    ['1e8', 100000000n],
    ['1E9', 1000000000n],
    ['100_000_000', 100000000n],
    ['-5', -5n],
    ['+7', 7n],
    ['1.5e3', 1500n],
    ['1000e-3', 1n],
    ['0', 0n],
    ['9223372036854775807', INT64_MAX],
    ['-9223372036854775808', INT64_MIN],
    [' 42 ', 42n],
  ])('%s -> %s', (text, value) => {
    expect(parseInteger(text)).toBe(value);
  });

  it.each([
    '1.5',
    '1e-3',
    'abc',
    '',
    '0x10',
    '1__0',
    '_1',
    '1_',
    '1e',
    '--1',
    '1e1000',
    'Infinity',
    'NaN',
  ])('rejects %j', (text) => {
    expect(parseInteger(text)).toBeUndefined();
  });
});

describe('planChunks', () => {
  it.each([
    [
      0n,
      10n,
      2,
      [
        [0n, 5n],
        [5n, 10n],
      ],
    ],
    [
      0n,
      10n,
      3,
      [
        [0n, 4n],
        [4n, 7n],
        [7n, 10n],
      ],
    ],
    [
      0n,
      2n,
      4,
      [
        [0n, 1n],
        [1n, 2n],
      ],
    ],
    [5n, 5n, 4, []],
    [-3n, 3n, 1, [[-3n, 3n]]],
    [
      INT64_MAX - 3n,
      INT64_MAX,
      2,
      [
        [INT64_MAX - 3n, INT64_MAX - 1n],
        [INT64_MAX - 1n, INT64_MAX],
      ],
    ],
  ])('[%s, %s) over %s workers', (start, end, parts, expected) => {
    const chunks = planChunks({ start, end }, parts);
    expect(chunks.map((c) => [c.start, c.end])).toEqual(expected);
  });

  it('covers the range contiguously with lengths differing by at most one', () => {
    const range = { start: -1_000_003n, end: 2n ** 53n + 17n };
    const chunks = planChunks(range, 7);
    expect(chunks[0]?.start).toBe(range.start);
    expect(chunks.at(-1)?.end).toBe(range.end);
    chunks.slice(1).forEach((c, i) => expect(c.start).toBe(chunks[i]?.end));
    const lengths = chunks.map((c) => c.end - c.start);
    const spread =
      lengths.reduce((a, b) => (a > b ? a : b)) - lengths.reduce((a, b) => (a < b ? a : b));
    expect(spread <= 1n).toBe(true);
  });
});

describe('planBlocks', () => {
  const abs = (x: bigint): bigint => (x < 0n ? -x : x);
  const check = (start: bigint, end: bigint): void => {
    let next = start;
    for (const block of planBlocks(start, end)) {
      expect(block.start).toBe(next);
      expect(block.end > block.start).toBe(true);
      expect(block.end - block.start <= MAX_BLOCK).toBe(true);
      // What the kernel adds, each number less the offset, and what it adds to, fit in int64.
      const [first, last] = [block.start - block.offset, block.end - 1n - block.offset];
      for (const x of [first, last]) expect(x >= INT64_MIN && x <= INT64_MAX).toBe(true);
      const m = abs(first) > abs(last) ? abs(first) : abs(last);
      expect((block.end - block.start) * m <= INT64_MAX).toBe(true);
      next = block.end;
    }
    expect(next).toBe(start < end ? end : start);
  };

  it.each([
    [0n, 0n],
    [0n, 10n],
    [0n, 100_000_000n],
    [-1_000_000n, 1_000_001n],
    [9007199254740000n, 9007199254741000n],
    [INT64_MIN, INT64_MIN + 5n],
    [INT64_MAX - 5n, INT64_MAX],
    [INT64_MAX - 3n * MAX_BLOCK - 7n, INT64_MAX],
    [INT64_MIN, INT64_MIN + 3n * MAX_BLOCK + 7n],
    [2n ** 41n - 5n * MAX_BLOCK, 2n ** 41n + 5n * MAX_BLOCK],
  ])('[%s, %s) keeps every block within 64 bits', check);

  it.each([
    ['around 0', 0n, 0n],
    ['near 2^63', INT64_MAX - 10n * MAX_BLOCK, 1n],
    ['near -2^63', INT64_MIN, INT64_MIN],
    ['near -2^62', -(2n ** 62n), -(2n ** 62n)],
  ])('cuts 10 full blocks %s, whatever the size of the numbers', (_, start, offset) => {
    const blocks: Block[] = [];
    // At most 11: a plan of tiny blocks would have millions.
    for (const block of planBlocks(start, start + 10n * MAX_BLOCK)) {
      if (blocks.push(block) > 10) break;
    }
    expect(blocks.length).toBe(10);
    // Small numbers are added as they are; large ones less the block's first.
    expect(blocks[0]!.offset).toBe(offset === 0n ? 0n : start);
    expect(blocks[9]!.offset).toBe(offset === 0n ? 0n : start + 9n * MAX_BLOCK);
  });
});

describe('closedFormSum', () => {
  it.each([
    [0n, 100_000_000n, 4999999950000000n],
    [0n, 1_000_000_000n, 499999999500000000n],
    [9007199254740000n, 9007199254741000n, 9007199254740499500n],
    [-1_000_000n, 1_000_001n, 0n],
    [5n, 5n, 0n],
    [0n, 1n, 0n],
    [-3n, 0n, -6n],
  ])('[%s, %s) = %s', (start, end, sum) => {
    expect(closedFormSum({ start, end })).toBe(sum);
  });
});
