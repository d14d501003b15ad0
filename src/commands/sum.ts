import { performance } from 'node:perf_hooks';
import { Interrupted, ItemFailures, UsageError } from '../errors.ts';
import { toCommonConfig, type CommonArgs, type CommonConfig } from '../config.ts';
import type { Runtime } from '../pool/pool.ts';
import { createTaskPool } from '../tasks/pool.ts';
import {
  closedFormSum,
  INT64_MAX,
  INT64_MIN,
  MAX_LENGTH,
  parseInteger,
  planChunks,
  type Range,
} from '../sum/plan.ts';
import { bar, formatMs, formatSi, style, table } from '../ui/format.ts';

export interface SumArgs extends CommonArgs {
  readonly n?: string | undefined;
  readonly start?: string | undefined;
  readonly end?: string | undefined;
  readonly bench?: boolean | undefined;
  readonly repeat?: number | undefined;
}

export interface SumConfig extends CommonConfig {
  readonly range: Range;
  /** Set for `--bench`: how many timed runs per configuration. */
  readonly repeat: number | undefined;
}

export const DEFAULT_N = 100_000_000n;

/** Validates the command line into a config; every mistake is a UsageError saying why. */
export function toSumConfig(args: SumArgs): SumConfig {
  const common = toCommonConfig(args, 'thread');
  if (args.n !== undefined && (args.start !== undefined || args.end !== undefined)) {
    throw new UsageError('give either N or --start/--end, not both');
  }
  const start = args.start === undefined ? 0n : bound('--start', args.start);
  const end =
    args.end !== undefined
      ? bound('--end', args.end)
      : args.n !== undefined
        ? bound('N', args.n)
        : args.start === undefined
          ? DEFAULT_N
          : undefined;
  if (end === undefined) throw new UsageError('--start needs --end');
  if (end < start) throw new UsageError(`--end (${end}) is less than --start (${start})`);
  if (end - start > MAX_LENGTH) {
    throw new UsageError(`the range holds ${end - start} numbers; at most 2^53 are allowed`);
  }
  const repeat = args.bench ? (args.repeat ?? 5) : undefined;
  if (repeat !== undefined && !(Number.isSafeInteger(repeat) && repeat >= 1 && repeat <= 1000)) {
    throw new UsageError(`--repeat must be a whole number from 1 to 1000; got "${args.repeat}"`);
  }
  return { ...common, range: { start, end }, repeat };
}

function bound(name: string, text: string): bigint {
  const value = parseInteger(text);
  if (value === undefined) {
    throw new UsageError(
      `${name} must be an integer such as 100000000, 1e8 or 100_000_000; got "${text}"`,
    );
  }
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new UsageError(`${name} must fit a signed 64-bit integer; got ${value}`);
  }
  return value;
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

export interface BenchRow {
  readonly runtime: Runtime;
  readonly workers: number;
  readonly medianMs: number;
  readonly runsMs: readonly number[];
  readonly startupMs: number;
  readonly speedup: number;
  readonly efficiency: number;
  readonly ok: boolean;
}

/**
 * `--bench`: the serial baseline (inline) and threads and processes for 1..W workers, each
 * once to warm up and then `repeat` timed runs; the median is reported.
 */
export async function runSumBench(
  config: SumConfig,
  signal?: AbortSignal,
  onRun?: (label: string) => void,
): Promise<BenchRow[]> {
  const plans: { runtime: Runtime; workers: number }[] = [{ runtime: 'inline', workers: 1 }];
  for (const runtime of ['thread', 'process'] as const) {
    for (let workers = 1; workers <= config.workers; workers++) plans.push({ runtime, workers });
  }
  const rows: BenchRow[] = [];
  let serialMs = NaN;
  for (const plan of plans) {
    const runs: SumResult[] = [];
    for (let i = 0; i <= (config.repeat ?? 5); i++) {
      onRun?.(`${plan.runtime} × ${plan.workers}: run ${i} of ${config.repeat}`);
      const result = await runSum({ range: config.range, ...plan }, signal);
      if (i > 0) runs.push(result);
    }
    const medianMs = median(runs.map((r) => r.ms));
    if (plan.runtime === 'inline') serialMs = medianMs;
    rows.push({
      ...plan,
      medianMs,
      runsMs: runs.map((r) => round(r.ms)),
      startupMs: median(runs.map((r) => r.startupMs)),
      speedup: serialMs / medianMs,
      efficiency: serialMs / medianMs / plan.workers,
      ok: runs.every((r) => r.ok),
    });
  }
  return rows;
}

export function formatBench(config: SumConfig, rows: readonly BenchRow[]): string {
  const slowest = Math.max(...rows.map((r) => r.medianMs));
  const body = rows.map((r) => [
    r.runtime,
    String(r.workers),
    r.medianMs.toFixed(1),
    r.startupMs.toFixed(1),
    `${r.speedup.toFixed(2)}x`,
    `${(r.efficiency * 100).toFixed(0)}%`,
    r.ok ? 'ok' : 'MISMATCH',
    bar(r.medianMs, slowest),
  ]);
  const { start, end } = config.range;
  return [
    `sum of [${start}, ${end}): median of ${config.repeat} runs after one warm-up`,
    table(
      ['runtime', 'workers', 'median ms', 'start ms', 'speedup', 'efficiency', 'check', 'time'],
      body,
    ),
  ].join('\n');
}

export function benchJson(config: SumConfig, rows: readonly BenchRow[]): Record<string, unknown> {
  return {
    start: String(config.range.start),
    end: String(config.range.end),
    repeat: config.repeat,
    rows: rows.map((r) => ({
      ...r,
      medianMs: round(r.medianMs),
      startupMs: round(r.startupMs),
      speedup: round(r.speedup, 3),
      efficiency: round(r.efficiency, 3),
    })),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
