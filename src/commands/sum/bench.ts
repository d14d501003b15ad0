import type { Runtime } from '../../pool/pool.ts';
import { bar, median, round, table } from '../../ui/format.ts';
import type { SumConfig } from './options.ts';
import { runSum, type SumResult } from './run.ts';

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
