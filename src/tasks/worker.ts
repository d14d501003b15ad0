/**
 * The one worker entry module: each named export is a task the pool can run, in a worker
 * thread, a child process, or inline. Inputs and outputs cross by structured clone.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sumRangeExact } from '../sum/kernel.ts';
import type { Range } from '../sum/plan.ts';
import type { FetchInput, fetchOnce as FetchOnce, RequestResult } from '../download/fetch.ts';
import type * as LogstatsRead from '../logstats/read.ts';
import type { LineRules } from '../logstats/keyed.ts';
import type { ScanRange } from '../logstats/split.ts';
import type { TallyResult } from '../logstats/tally.ts';

/** Adds every integer of one chunk; returns the exact partial sum. */
export async function sumRange(range: Range, signal?: AbortSignal): Promise<bigint> {
  // Yield now and then in every runtime: inline, Ctrl-C gets through (only inline passes a
  // signal); in a child process, the pool's orphan guard sees a vanished parent.
  return sumRangeExact(range.start, range.end, async () => {
    await yieldToEventLoop();
    signal?.throwIfAborted();
  });
}

// Loaded on first use, each by the tasks that need it: a download worker need not evaluate
// the log scanner (its WebAssembly and tables), nor a logstats worker undici. Kept, because
// an import() per call still resolves the module again (~4 us a task).
let logstatsModule: Promise<typeof LogstatsRead> | undefined;

/** Counts one file or byte range of a log; errors carry a short reason that survives cloning. */
export async function logstatsRange(
  input: { range: ScanRange; top: boolean; rules?: LineRules },
  signal?: AbortSignal,
): Promise<TallyResult> {
  const { reason, scanRange } = await (logstatsModule ??= import('../logstats/read.ts'));
  try {
    return await scanRange(input.range, input.top, input.rules, signal);
  } catch (error) {
    throw new Error(reason(error), { cause: error });
  }
}

let fetchModule: Promise<{ fetchOnce: typeof FetchOnce }> | undefined;

/** One request for a URL, its body to a temp file; failures come back as values. */
export async function downloadUrl(input: FetchInput): Promise<RequestResult> {
  fetchModule ??= import('../download/fetch.ts');
  return (await fetchModule).fetchOnce(input);
}
