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
    ['empty', 0n, 0n],
    ['empty, far from 0', -(2n ** 62n), -(2n ** 62n)],
    ['one number', 41n, 42n],
    ['a few numbers', 0n, 10n],
    ['a tail shorter than a SIMD step', -3n, 4n],
    ['negatives', -1_000n, -3n],
    ['signed, around 0', -1_000_000n, 1_000_001n],
    ['past 2^53, where doubles lose exactness', 2n ** 53n - 1000n, 2n ** 53n + 1000n],
    // Two full blocks and a part, so the total is carried from block to block.
    ['across block boundaries', MAX_BLOCK - 3n, 3n * MAX_BLOCK + 5n],
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
    expect(await sumRangeExact(start, end)).toBe(gauss(start, end));
  });

  it('is zero for a range whose end comes before its start', async () => {
    expect(await sumRangeExact(10n, -10n)).toBe(0n);
  });

  it('adds every length and alignment exactly (the vector loop takes 8 at a time)', async () => {
    // Lengths 0..40 cover every remainder mod 8 several times over, from starts of each
    // sign and size (with and without an offset), so the vector part and the one-by-one
    // tail are both tried.
    const wrong = new Mismatches();
    for (const base of [0n, -17n, 1_000_003n, -(2n ** 40n) - 5n, 2n ** 60n + 3n, INT64_MAX - 41n]) {
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
      // The kernel's domain ends at INT64_MAX (an end of 2^63 would not fit its i64 argument;
      // `crew sum` and the task's check stop there): moved down where it would pass it.
      const [a, b] = end > INT64_MAX ? [start - (end - INT64_MAX), INT64_MAX] : [start, end];
      wrong.check([a, b], await sumRangeExact(a, b), gauss(a, b));
    }
    expect(wrong.found).toEqual([]);
  });
});

describe("sumRangeExact's between", () => {
  // Three blocks: two full ones and a part.
  const [start, end] = [-MAX_BLOCK, MAX_BLOCK + 7n];

  it('runs between blocks once its interval has passed, and not otherwise', async () => {
    let calls = 0;
    // A zero interval has always passed: once after every block.
    const total = await sumRangeExact(start, end, () => Promise.resolve(void calls++), 0);
    expect(total).toBe(gauss(start, end));
    expect(blocksOf(start, end)).toBe(3);
    expect(calls).toBe(3);
    calls = 0;
    await sumRangeExact(start, end, () => Promise.resolve(void calls++), 60_000);
    expect(calls).toBe(0);
  });

  it('waits for it: what it awaits happens before the next block', async () => {
    const seen: string[] = [];
    const total = await sumRangeExact(
      start,
      end,
      async () => {
        seen.push('between');
        await new Promise((resolve) => setImmediate(resolve));
        seen.push('resumed');
      },
      0,
    );
    expect(total).toBe(gauss(start, end));
    expect(seen).toEqual(['between', 'resumed', 'between', 'resumed', 'between', 'resumed']);
  });

  it('stops the sum when it throws (how Ctrl-C ends an inline sum)', async () => {
    const stop = new Error('interrupted');
    let calls = 0;
    const sum = sumRangeExact(
      start,
      end,
      () => (++calls === 2 ? Promise.reject(stop) : Promise.resolve()),
      0,
    );
    await expect(sum).rejects.toBe(stop);
    expect(calls).toBe(2);
  });
});
