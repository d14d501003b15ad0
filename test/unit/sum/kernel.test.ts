import { describe, expect, it } from 'vitest';
import { sumRangeExact } from '../../../src/sum/kernel.ts';
import {
  closedFormSum,
  INT64_MAX,
  INT64_MIN,
  MAX_BLOCK,
  planBlocks,
} from '../../../src/sum/plan.ts';
import { Mismatches } from '../../helpers/mismatches.ts';
import { seededRandom } from '../../helpers/seeded.ts';

const gauss = (start: bigint, end: bigint): bigint => closedFormSum({ start, end });
const blocksOf = (start: bigint, end: bigint): number => [...planBlocks(start, end)].length;

describe('sumRangeExact', () => {
  it.each([
    ['an empty range', 0n, 0n],
    ['an empty range far from zero', -(2n ** 62n), -(2n ** 62n)],
    ['one number', 41n, 42n],
    ['a few numbers', 0n, 10n],
    ['negatives', -1_000n, -3n],
    ['a range across zero', -1_000_003n, 999_999n],
    ['a range summing to zero', -5_000_000n, 5_000_001n],
    // Past 2^53 a double would round: the kernel must not.
    ['numbers past 2^53', 2n ** 53n - 1_000n, 2n ** 53n + 1_000n],
    // Two full blocks and a part, so the loop carries its total from block to block.
    ['a range across block boundaries', MAX_BLOCK - 3n, 3n * MAX_BLOCK + 5n],
    // Numbers near 2^50: each block holds 8,192 of them, so this is many blocks.
    ['many short blocks', 2n ** 50n - 40_000n, 2n ** 50n + 40_000n],
    ['the top of int64', INT64_MAX - 100n, INT64_MAX],
    ['the bottom of int64', INT64_MIN, INT64_MIN + 100n],
    ['numbers near both ends of int64', INT64_MIN + 1n, INT64_MIN + 9n],
  ])('adds %s exactly: [%s, %s)', async (_, start, end) => {
    expect(await sumRangeExact(start, end)).toBe(gauss(start, end));
  });

  it('is zero for a range whose end comes before its start', async () => {
    expect(await sumRangeExact(10n, -10n)).toBe(0n);
  });

  it('adds every length and alignment exactly (the vector loop takes 8 at a time)', async () => {
    // Lengths 0..40 cover every remainder mod 8 several times over, from starts of each
    // sign and size, so the vector part and the one-by-one tail are both tried.
    const wrong = new Mismatches();
    for (const base of [0n, -17n, 1_000_003n, -(2n ** 40n) - 5n, 2n ** 60n + 3n]) {
      for (let length = 0n; length <= 40n; length++) {
        const [start, end] = [base, base + length];
        wrong.check([start, end], await sumRangeExact(start, end), gauss(start, end));
      }
    }
    expect(wrong.found).toEqual([]);
  });

  it('agrees with the closed form on seeded random ranges of every magnitude', async () => {
    const random = seededRandom(2024);
    const wrong = new Mismatches();
    for (let i = 0; i < 300; i++) {
      // 64 random bits shifted right 0 to 62 places: starts of every magnitude, either sign.
      let bits = 0n;
      for (let k = 0; k < 4; k++) bits = (bits << 16n) | BigInt(random(1 << 16));
      const start = BigInt.asIntN(64, bits) >> BigInt(random(63));
      const end = start + BigInt(random(1 << 14));
      // The kernel's domain ends at INT64_MAX (as `crew sum` and the task's check have it).
      const [a, b] = end > INT64_MAX ? [start - (end - INT64_MAX), INT64_MAX] : [start, end];
      wrong.check([a, b], await sumRangeExact(a, b), gauss(a, b));
    }
    expect(wrong.found).toEqual([]);
  });
});

describe("sumRangeExact's between", () => {
  it('runs between blocks once its interval has passed, and not otherwise', async () => {
    const [start, end] = [-MAX_BLOCK, 2n * MAX_BLOCK + 7n];
    let calls = 0;
    // A zero interval has always passed: once after every block.
    const total = await sumRangeExact(start, end, () => Promise.resolve(void calls++), 0);
    expect(total).toBe(gauss(start, end));
    expect(calls).toBe(blocksOf(start, end));
    calls = 0;
    await sumRangeExact(start, end, () => Promise.resolve(void calls++), 60_000);
    expect(calls).toBe(0);
  });

  it('waits for it: what it awaits happens before the next block', async () => {
    const seen: string[] = [];
    const start = INT64_MAX - 3n; // blocks of one number up here: three of them
    const total = await sumRangeExact(
      start,
      INT64_MAX,
      async () => {
        seen.push('between');
        await new Promise((resolve) => setImmediate(resolve));
        seen.push('resumed');
      },
      0,
    );
    expect(total).toBe(gauss(start, INT64_MAX));
    expect(seen).toEqual(['between', 'resumed', 'between', 'resumed', 'between', 'resumed']);
  });

  it('stops the sum when it throws (how Ctrl-C ends an inline sum)', async () => {
    const stop = new Error('interrupted');
    let calls = 0;
    const sum = sumRangeExact(
      0n,
      3n * MAX_BLOCK,
      () => (++calls === 2 ? Promise.reject(stop) : Promise.resolve()),
      0,
    );
    await expect(sum).rejects.toBe(stop);
    expect(calls).toBe(2);
  });
});
