import { ItemFailures } from '../../errors.ts';
import { runSumBench, type BenchRow } from '../../sum/bench.ts';
import type { SumConfig } from '../../sum/config.ts';
import { rate, runSum, type SumResult } from '../../sum/run.ts';
import { bar, formatMs, formatSi, round, style, table } from '../../ui/format.ts';
import type { RunContext } from '../command.ts';

/** One sum, or with --bench the table of every runtime and worker count. */
export type SumOutcome =
  | { readonly kind: 'sum'; readonly result: SumResult }
  | { readonly kind: 'bench'; readonly repeat: number; readonly rows: readonly BenchRow[] };

export async function run(config: SumConfig, context: RunContext): Promise<SumOutcome> {
  const { signal, pools, progress } = context;
  if (config.bench) {
    const { repeat } = config.bench;
    const rows = await runSumBench({ ...config, repeat }, pools, signal, progress);
    return { kind: 'bench', repeat, rows };
  }
  return { kind: 'sum', result: await runSum(config, pools, signal, progress) };
}

export const format = (outcome: SumOutcome, config: SumConfig): string =>
  outcome.kind === 'bench' ? formatBench(config, outcome) : formatSum(outcome.result);

export const json = (outcome: SumOutcome, config: SumConfig): unknown =>
  outcome.kind === 'bench' ? benchJson(config, outcome) : sumJson(outcome.result);

/** A sum that stopped: the range and the pool, and how many chunks had finished. */
export function stopped(partial: unknown, config: SumConfig): Record<string, unknown> {
  const { start, end } = config.range;
  const range = { start: String(start), end: String(end) };
  if (config.bench) return { ...range, repeat: config.bench.repeat };
  const chunks = partial as { chunks: number; chunksDone: number } | undefined;
  return {
    ...range,
    count: String(end - start),
    workers: config.workers,
    runtime: config.runtime,
    ...(chunks ? { chunks: chunks.chunks, chunksDone: chunks.chunksDone } : {}),
  };
}

export function check(outcome: SumOutcome): void {
  if (outcome.kind === 'sum') checkSum(outcome.result);
}

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

type Bench = Extract<SumOutcome, { kind: 'bench' }>;

export function formatBench(config: SumConfig, bench: Bench): string {
  const slowest = Math.max(...bench.rows.map((r) => r.medianMs));
  const body = bench.rows.map((r) => [
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
    `sum of [${start}, ${end}): median of ${bench.repeat} runs after one warm-up`,
    table(
      ['runtime', 'workers', 'median ms', 'start ms', 'speedup', 'efficiency', 'check', 'time'],
      body,
    ),
  ].join('\n');
}

export function benchJson(config: SumConfig, bench: Bench): Record<string, unknown> {
  return {
    start: String(config.range.start),
    end: String(config.range.end),
    repeat: bench.repeat,
    rows: bench.rows.map((r) => ({
      ...r,
      medianMs: round(r.medianMs),
      startupMs: round(r.startupMs),
      speedup: round(r.speedup, 3),
      efficiency: round(r.efficiency, 3),
    })),
  };
}
