/** One `crew sum`: the range split over the pool's workers, added, combined, checked. */
import { performance } from 'node:perf_hooks';
import { Interrupted, withPartial } from '../errors.ts';
import type { PoolFactory, PoolRuntime, Runtime } from '../pool/pool.ts';
import { closedFormSum, planChunks, type Range } from './plan.ts';

/** A chunk's exact sum, with the chunk it is the sum of. */
export interface SumPartial extends Range {
  readonly sum: bigint;
}

/** The one task a sum needs of the pool. */
export interface SumTasks {
  readonly sumRange: (range: Range) => Promise<SumPartial>;
}

export interface SumResult {
  readonly range: Range;
  readonly result: bigint;
  readonly expected: bigint;
  readonly ok: boolean;
  readonly workers: number;
  readonly runtime: PoolRuntime;
  readonly chunks: number;
  /** From the pool being ready to the combined result: the work itself. */
  readonly ms: number;
  /** Starting the pool's workers (paid once per run, before the work). */
  readonly startupMs: number;
}

/** Splits the range over a pool, adds every chunk in a worker, combines exactly. */
export async function runSum(
  config: { readonly range: Range; readonly workers: number; readonly runtime: Runtime },
  pools: PoolFactory<SumTasks>,
  signal?: AbortSignal,
  onProgress?: (text: string) => void,
): Promise<SumResult> {
  const began = performance.now();
  const pool = await pools({
    runtime: config.runtime,
    workers: config.workers,
    ...(signal ? { signal } : {}),
  });
  let done = 0;
  const chunks = planChunks(config.range, pool.workers);
  try {
    // Warm the workers before the clock starts, so `ms` is the work and `startupMs` the pool.
    await Promise.all(chunks.map(() => pool.run('sumRange', { start: 0n, end: 64n })));
    const started = performance.now();
    // The pool's counts include the warm-up tasks, one per chunk.
    pool.on('progress', (p) =>
      onProgress?.(`adding: ${p.done - chunks.length} of ${chunks.length} chunks done`),
    );
    const partials = await Promise.all(
      chunks.map(async (chunk) => {
        const { sum } = await pool.run('sumRange', chunk);
        done++;
        return sum;
      }),
    );
    const ms = performance.now() - started;
    const result = partials.reduce((sum, partial) => sum + partial, 0n);
    const expected = closedFormSum(config.range);
    return {
      range: config.range,
      result,
      expected,
      ok: result === expected,
      workers: pool.workers,
      runtime: pool.runtime,
      chunks: chunks.length,
      ms,
      startupMs: started - began,
    };
  } catch (error) {
    if (signal?.aborted) {
      throw withPartial(
        new Interrupted(`interrupted: ${done} of ${chunks.length} chunks had finished`),
        { chunks: chunks.length, chunksDone: done },
      );
    }
    throw error;
  } finally {
    await pool.destroy();
  }
}

/** Additions per second of the work itself. */
export const rate = (result: SumResult): number =>
  Number(result.range.end - result.range.start) / (result.ms / 1000);
