/**
 * Stats for every listed input, fast on a local disk and still fast on a slow one.
 */
import { stat as statCallback, statSync, type Stats } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** How statEach goes about it; the defaults are for real use, tests change them. */
export interface StatPace {
  /** Synchronous stats between two turns of the event loop, in ms. */
  readonly sliceMs: number;
  /** A stat slower than this on average (ms) is a remote or slow file system's. */
  readonly slowMs: number;
  /** Stats in flight at once through libuv's thread pool (it runs four at a time). */
  readonly lanes: number;
}

const PACE: StatPace = { sliceMs: 20, slowMs: 0.2, lanes: 64 };

/**
 * Calls `each(i, …)` once for every `paths[i]` but those left undefined, with its Stats or
 * the error that stat gave, until `signal` aborts (the rest are then never called). Calls
 * come in index order while stats are synchronous, and in any order after.
 *
 * Synchronous stats, a slice at a time with the event loop run between slices (so a Ctrl-C
 * is heard): on a local disk a stat takes a few microseconds, and 100,000 of them through
 * libuv's thread pool took twice as long and left ~40 MB of garbage (a request, a promise
 * and a callback each). A slow file system (NFS, FUSE) is what the thread pool is for:
 * once a slice shows stats slower than `slowMs`, the rest go through it, `lanes` at a time.
 */
export async function statEach(
  paths: readonly (string | Buffer | undefined)[],
  signal: AbortSignal | undefined,
  each: (index: number, info: Stats | Error) => void,
  pace: StatPace = PACE,
): Promise<void> {
  let next = 0;
  while (next < paths.length && !signal?.aborted) {
    const began = performance.now();
    const first = next;
    let elapsed: number;
    do {
      const path = paths[next];
      if (path !== undefined) each(next, statOrError(path));
      next++;
      elapsed = performance.now() - began;
    } while (next < paths.length && elapsed < pace.sliceMs && !signal?.aborted);
    if (elapsed / (next - first) > pace.slowMs) break;
    await yieldToEventLoop();
  }
  const lane = async (): Promise<void> => {
    while (next < paths.length && !signal?.aborted) {
      const index = next++;
      const path = paths[index];
      if (path !== undefined) each(index, await stat(path).catch((error: Error) => error));
    }
  };
  await Promise.all(Array.from({ length: pace.lanes }, lane));
}

function statOrError(path: string | Buffer): Stats | Error {
  try {
    return statSync(path);
  } catch (error) {
    return error as Error;
  }
}

/** fs.stat as a promise (fs/promises' own request and promise cost twice the time). */
const stat = (path: string | Buffer): Promise<Stats> =>
  new Promise((resolve, reject) => {
    statCallback(path, (error, info) => (error ? reject(error) : resolve(info)));
  });
