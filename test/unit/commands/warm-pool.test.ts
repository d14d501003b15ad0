import { afterEach, describe, expect, it } from 'vitest';
import { warmPools, type WarmOptions } from '../../../src/commands/warm-pool.ts';
import { createPool, type Pool, type PoolFactory } from '../../../src/pool/pool.ts';
import type * as fixture from '../../fixtures/tasks.ts';

const module = new URL('../../fixtures/tasks.ts', import.meta.url);
type Tasks = typeof fixture;

/** Real thread pools of the fixture tasks, each one remembered so the test can stop it. */
const started: Pool<Tasks>[] = [];
const destroyed = new Set<Pool<Tasks>>();
const real: PoolFactory<Tasks> = async (options) => {
  const pool = await createPool<Tasks>({ ...options, module });
  const seen: Pool<Tasks> = {
    ...pool,
    destroy: () => {
      destroyed.add(seen);
      return pool.destroy();
    },
  };
  started.push(seen);
  return seen;
};
afterEach(async () => {
  await Promise.all(started.splice(0).map((pool) => pool.destroy()));
  destroyed.clear();
});

const warm: WarmOptions = { runtime: 'thread', workers: 1, tasksPerWorker: 4 };

describe('warmPools', () => {
  it('starts the pool at once and hands it to the first request like it', async () => {
    const { pools } = await warmPools(real, warm, new AbortController().signal);
    expect(started).toHaveLength(1);
    const taken = await pools({ ...warm, signal: new AbortController().signal });
    expect(taken).toBe(started[0]);
    await expect(taken.run('double', 21)).resolves.toBe(42);
    // Taken once: the next request starts its own.
    expect(await pools(warm)).not.toBe(taken);
    expect(started).toHaveLength(2);
  });

  it.each([
    ['another runtime', { ...warm, runtime: 'inline' }],
    ['more workers', { ...warm, workers: 2 }],
    ['other tasks per worker', { ...warm, tasksPerWorker: 1 }],
    // pool.test.ts's: a floor for threads is the process's, and unit test files share one
    // (another value could land between that file's setting and its worker's start).
    ['a heap floor', { ...warm, heapFloorMiB: 64 }],
  ] as const)('starts a new pool for %s', async (_, options) => {
    const { pools } = await warmPools(real, warm, new AbortController().signal);
    const other = await pools(options);
    expect(other).not.toBe(started[0]);
    expect(other.runtime).toBe(options.runtime);
  });

  it('stops an unused pool on release, and leaves a taken one to its taker', async () => {
    const unused = await warmPools(real, warm, new AbortController().signal);
    await unused.release();
    expect(destroyed.has(started[0]!)).toBe(true);
    const used = await warmPools(real, warm, new AbortController().signal);
    const taken = await used.pools(warm);
    await used.release();
    expect(destroyed.has(taken)).toBe(false);
    await expect(taken.run('double', 2)).resolves.toBe(4);
  });

  it("stops the pool when the taker's signal aborts (a full disk), or the command's", async () => {
    const command = new AbortController();
    const run = new AbortController();
    const { pools } = await warmPools(real, warm, command.signal);
    const taken = await pools({ ...warm, signal: run.signal });
    run.abort(new Error('disk full'));
    await expect(taken.run('sleep', 10)).rejects.toThrow();
    const again = await warmPools(real, warm, command.signal);
    command.abort(new Error('interrupted'));
    await expect((await again.pools(warm)).run('sleep', 10)).rejects.toThrow();
  });

  it('starts nothing without options', async () => {
    const { pools } = await warmPools(real, undefined, new AbortController().signal);
    expect(started).toHaveLength(0);
    await pools(warm);
    expect(started).toHaveLength(1);
  });
});
