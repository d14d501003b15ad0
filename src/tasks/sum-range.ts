/** `sumRange`: adds every integer of one chunk of `crew sum`'s range; returns the exact sum. */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { INT64_MAX, INT64_MIN, MAX_LENGTH, type Range } from '../sum/plan.ts';
import type { SumPartial } from '../sum/run.ts';
import { bigint, exactly, object, type Check } from './check.ts';
import { defineTask, lazily } from './task.ts';

const kernel = lazily(() => import('../sum/kernel.ts'));

/**
 * A chunk's sum as the coordinator takes it from a queue worker: for the very chunk asked
 * (not another's answer), and a BigInt no smaller than every number the least of the chunk,
 * no bigger than every number the greatest (whether it is exact, the closed form says at the
 * end of the run: a wrong sum is a MISMATCH, never a crash).
 */
const partialOf = ({ start, end }: Range): Check =>
  object<SumPartial>(
    {
      start: exactly(start, `must be ${start}, the start asked`),
      end: exactly(end, `must be ${end}, the end asked`),
      sum: bigint,
    },
    ({ sum }) => {
      const length = end - start;
      return sum < length * start || sum > length * (end - 1n)
        ? `"sum" must lie between ${length} times the chunk's least and its greatest number`
        : undefined;
    },
  );

export const sumRange = defineTask<Range, SumPartial>({
  async run(range, signal) {
    const { sumRangeExact } = await kernel();
    // Yield now and then in every runtime: inline, Ctrl-C gets through (only inline passes a
    // signal); in a child process, the pool's orphan guard sees a vanished parent.
    const sum = await sumRangeExact(range.start, range.end, async () => {
      await yieldToEventLoop();
      signal?.throwIfAborted();
    });
    return { start: range.start, end: range.end, sum };
  },
  // The bounds `crew sum` itself accepts: a row may not ask for more work than a user could.
  // (The kernel adds in int64: an end of 2^63 would wrap and give a wrong sum.)
  accept: object<Range>({ start: bigint, end: bigint }, ({ start, end }) =>
    start < INT64_MIN || end > INT64_MAX
      ? 'start and end must lie within 64-bit integers'
      : start > end || end - start > MAX_LENGTH
        ? `start must not pass end, and at most ${MAX_LENGTH} numbers`
        : undefined,
  ),
  acceptResult: (result, range) => partialOf(range)(result),
  portable: (range) => range,
  describe: ({ start, end }) => `sum [${start}, ${end})`,
});
