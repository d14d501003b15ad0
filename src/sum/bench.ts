/** `crew sum --bench`: the same sum on every runtime and worker count, timed side by side. */
import type { PoolFactory, Runtime } from '../pool/pool.ts';
import { median, round } from '../ui/format.ts';
import type { Range } from './plan.ts';
import { runSum, type SumResult, type SumTasks } from './run.ts';

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

/** Each runtime and worker count to time: the serial baseline first. */
export function benchPlans(workers: number): { runtime: Runtime; workers: number }[] {
  const plans: { runtime: Runtime; workers: number }[] = [{ runtime: 'inline', workers: 1 }];
  for (const runtime of ['thread', 'process'] as const) {
    for (let w = 1; w <= workers; w++) plans.push({ runtime, workers: w });
  }
  return plans;
}

/**
 * The serial baseline (inline), then threads and processes for 1..`workers`, each once to
 * warm up and then `repeat` timed runs; the median is reported.
 */
export async function runSumBench(
  config: { readonly range: Range; readonly workers: number; readonly repeat: number },
  pools: PoolFactory<SumTasks>,
  signal?: AbortSignal,
  onRun?: (label: string) => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let serialMs = NaN;
  for (const plan of benchPlans(config.workers)) {
    const runs: SumResult[] = [];
    for (let i = 0; i <= config.repeat; i++) {
      onRun?.(`${plan.runtime} × ${plan.workers}: run ${i} of ${config.repeat}`);
      const result = await runSum({ range: config.range, ...plan }, pools, signal);
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
