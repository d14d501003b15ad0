/** `sumRange`: adds every integer of one chunk of `crew sum`'s range; returns the exact sum. */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { INT64_MAX, INT64_MIN, MAX_LENGTH, type Range } from '../sum/plan.ts';
import { bigint, object } from './check.ts';
import { defineTask, lazily } from './task.ts';

const kernel = lazily(() => import('../sum/kernel.ts'));

export const sumRange = defineTask<Range, bigint>({
  async run(range, signal) {
    const { sumRangeExact } = await kernel();
    // Yield now and then in every runtime: inline, Ctrl-C gets through (only inline passes a
    // signal); in a child process, the pool's orphan guard sees a vanished parent.
    return sumRangeExact(range.start, range.end, async () => {
      await yieldToEventLoop();
      signal?.throwIfAborted();
    });
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
  portable: (range) => range,
  describe: ({ start, end }) => `sum [${start}, ${end})`,
});
