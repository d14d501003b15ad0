import { performance } from 'node:perf_hooks';
import { Interrupted, ItemFailures } from '../../errors.ts';
import type { Runtime } from '../../pool/pool.ts';
import { closedFormSum, planChunks, type Range } from '../../sum/plan.ts';
import { createTaskPool } from '../../tasks/pool.ts';
import { formatMs, formatSi, round, style, table } from '../../ui/format.ts';
import type { RunContext } from '../command.ts';
import { benchJson, formatBench, runSumBench, type BenchRow } from './bench.ts';
import type { SumConfig } from './options.ts';

/** One sum, or with --bench the table of every runtime and worker count. */
export type SumOutcome =
  | { readonly kind: 'sum'; readonly result: SumResult }
  | { readonly kind: 'bench'; readonly rows: readonly BenchRow[] };

export async function run(config: SumConfig, context: RunContext): Promise<SumOutcome> {
  if (config.repeat !== undefined) {
    return { kind: 'bench', rows: await runSumBench(config, context.signal, context.progress) };
  }
  return { kind: 'sum', result: await runSum(config, context.signal, context.progress) };
}

export const format = (outcome: SumOutcome, config: SumConfig): string =>
  outcome.kind === 'bench' ? formatBench(config, outcome.rows) : formatSum(outcome.result);

export const json = (outcome: SumOutcome, config: SumConfig): unknown =>
  outcome.kind === 'bench' ? benchJson(config, outcome.rows) : sumJson(outcome.result);

export function check(outcome: SumOutcome): void {
  if (outcome.kind === 'sum') checkSum(outcome.result);
}

export interface SumResult {
  readonly range: Range;
  readonly result: bigint;
  readonly expected: bigint;
  readonly ok: boolean;
  readonly workers: number;
  readonly runtime: Runtime;
  readonly chunks: number;
  /** From the pool being ready to the combined result: the work itself. */
  readonly ms: number;
  /** Starting the pool's workers (paid once per run, before the work). */
  readonly startupMs: number;
}

/** Splits the range over the pool, adds every chunk in a worker, combines exactly. */
export async function runSum(
  config: Pick<SumConfig, 'range' | 'workers' | 'runtime'>,
  signal?: AbortSignal,
  onProgress?: (text: string) => void,
): Promise<SumResult> {
  const began = performance.now();
  const pool = await createTaskPool({
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
        const partial = await pool.run('sumRange', chunk);
        done++;
        return partial;
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
      runtime: config.runtime,
      chunks: chunks.length,
      ms,
      startupMs: started - began,
    };
  } catch (error) {
    if (signal?.aborted) {
      throw new Interrupted(`interrupted: ${done} of ${chunks.length} chunks had finished`);
    }
    throw error;
  } finally {
    await pool.destroy();
  }
}

const rate = (result: SumResult): number =>
  Number(result.range.end - result.range.start) / (result.ms / 1000);

/** The human report: result first, then how it was checked and how fast it ran. */
export function formatSum(result: SumResult): string {
  const check = result.ok
    ? style('green', `ok (closed form ${result.expected})`)
    : style('red', `MISMATCH: the closed form gives ${result.expected}`);
  return table(
    ['sum', `[${result.range.start}, ${result.range.end})`],
    [
      ['result', style('bold', String(result.result))],
      ['check', check],
      ['workers', `${result.workers} × ${result.runtime}`],
      ['time', `${formatMs(result.ms)} (+ ${formatMs(result.startupMs)} starting workers)`],
      ['rate', `${formatSi(rate(result))} additions/s`],
    ],
  );
}

export function sumJson(result: SumResult): Record<string, unknown> {
  return {
    result: String(result.result),
    expected: String(result.expected),
    ok: result.ok,
    start: String(result.range.start),
    end: String(result.range.end),
    count: String(result.range.end - result.range.start),
    workers: result.workers,
    runtime: result.runtime,
    chunks: result.chunks,
    ms: round(result.ms),
    startupMs: round(result.startupMs),
    additionsPerSecond: Math.round(rate(result)),
  };
}

/** Throws ItemFailures when the workers' sum disagrees with the closed form. */
export function checkSum(result: SumResult): void {
  if (!result.ok)
    throw new ItemFailures(1, `sum ${result.result} does not match ${result.expected}`);
}
