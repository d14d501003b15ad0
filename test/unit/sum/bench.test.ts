import { afterAll, describe, expect, it } from 'vitest';
import { Interrupted } from '../../../src/errors.ts';
import type { Pool, PoolFactory } from '../../../src/pool/pool.ts';
import { benchPlans, runSumBench } from '../../../src/sum/bench.ts';
import type { SumTasks } from '../../../src/sum/run.ts';
import { median, round } from '../../../src/ui/format.ts';
import { localPools } from '../../helpers/pools.ts';

describe('benchPlans', () => {
  it.each([
    [1, ['inline×1', 'thread×1', 'process×1']],
    [2, ['inline×1', 'thread×1', 'thread×2', 'process×1', 'process×2']],
    [3, ['inline×1', 'thread×1', 'thread×2', 'thread×3', 'process×1', 'process×2', 'process×3']],
  ])('times the serial baseline first, then 1..%d threads and processes', (workers, labels) => {
    expect(benchPlans(workers).map((p) => `${p.runtime}×${p.workers}`)).toEqual(labels);
  });
});

describe('runSumBench on the local pool', () => {
  // Real local pools, one per runtime × workers, kept across the bench's runs (it asks for a
  // pool per run; starting twenty would be most of this file's time) and noted as asked for.
  const kept = new Map<string, Promise<Pool<SumTasks>>>();
  const asked: string[] = [];
  const pools: PoolFactory<SumTasks> = async (options) => {
    const key = `${options.runtime}×${options.workers}`;
    asked.push(key);
    if (!kept.has(key))
      kept.set(key, localPools({ runtime: options.runtime, workers: options.workers }));
    const pool = await kept.get(key)!;
    return { ...pool, destroy: () => Promise.resolve() };
  };
  afterAll(async () => {
    await Promise.all([...kept.values()].map(async (pool) => (await pool).destroy()));
  });

  it('times each plan once to warm up and `repeat` times more, and reports medians', async () => {
    const said: string[] = [];
    const config = { range: { start: -1_000n, end: 100_003n }, workers: 2, repeat: 3 };
    const rows = await runSumBench(config, pools, undefined, (label) => said.push(label));

    const plans = ['inline×1', 'thread×1', 'thread×2', 'process×1', 'process×2'];
    expect(rows.map((r) => `${r.runtime}×${r.workers}`)).toEqual(plans);
    // Four runs of each plan, each on a pool of its runtime and workers; run 0 warms up.
    expect(asked).toEqual(plans.flatMap((plan) => Array<string>(4).fill(plan)));
    expect(said.slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => `inline × 1: run ${i} of 3`));
    expect(said).toHaveLength(20);

    const serial = rows[0]!.medianMs;
    for (const row of rows) {
      expect(row.ok).toBe(true);
      expect(row.runsMs).toHaveLength(3); // the warm-up run is not among them
      // The median of three is the middle one, and rounding keeps the order.
      expect(round(row.medianMs)).toBe(median(row.runsMs));
      expect(row.medianMs).toBeGreaterThan(0);
      expect(row.startupMs).toBeGreaterThanOrEqual(0);
      expect(row.speedup).toBeCloseTo(serial / row.medianMs, 10);
      expect(row.efficiency).toBeCloseTo(row.speedup / row.workers, 10);
    }
    expect(rows[0]).toMatchObject({ speedup: 1, efficiency: 1 });
  });

  it('stops at the first plan when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const config = { range: { start: 0n, end: 1_000n }, workers: 1, repeat: 1 };
    const said: string[] = [];
    const bench = runSumBench(config, localPools, controller.signal, (label) => said.push(label));
    await expect(bench).rejects.toThrow(Interrupted);
    await expect(bench).rejects.toThrow('interrupted: 0 of 1 chunks had finished');
    expect(said).toEqual(['inline × 1: run 0 of 1']);
  });
});
