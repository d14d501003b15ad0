import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool,
  TaskError,
  type Pool,
  type PoolProgress,
  type Runtime,
} from '../../../src/pool/pool.ts';
import type * as fixture from '../../fixtures/tasks.ts';

const module = new URL('../../fixtures/tasks.ts', import.meta.url);
type Tasks = typeof fixture;

const open: Pool<Tasks>[] = [];
/** A pool of its own for one test: one worker, so a dead one must be replaced for it to go on. */
async function pool(
  runtime: Runtime,
  signal?: AbortSignal,
  heapFloorMiB?: number,
): Promise<Pool<Tasks>> {
  const p = await createPool<Tasks>({
    runtime,
    workers: 1,
    module,
    heapFloorMiB,
    ...(signal ? { signal } : {}),
  });
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.destroy()));
});

describe.each(['thread', 'process', 'inline'] as const)('pool on %s', (runtime) => {
  // Starting workers is most of what these tests cost: the tests that only run tasks and
  // read their answers share one pool; those that count its progress, abort it or kill a
  // worker get their own.
  let shared: Pool<Tasks>;
  beforeAll(async () => {
    shared = await createPool<Tasks>({ runtime, workers: 2, module });
  });
  afterAll(() => shared?.destroy());

  it('runs typed tasks and returns their results', async () => {
    await expect(Promise.all([1, 2, 3, 4].map((x) => shared.run('double', x)))).resolves.toEqual([
      2, 4, 6, 8,
    ]);
  });

  it('runs where the runtime says', async () => {
    const where = await shared.run('whereAmI', undefined);
    expect(where.isMainThread).toBe(runtime === 'inline');
    expect(where.pid === process.pid).toBe(runtime !== 'process');
  });

  it('carries BigInt and typed arrays both ways', async () => {
    const out = await shared.run('echoBig', 2n ** 70n);
    expect(out.n).toBe(2n ** 70n + 1n);
    expect([...out.bytes]).toEqual([1, 2, 3]);
  });

  it('passes big typed arrays back whole, of their own kinds', async () => {
    const n = 300_000; // 1.2 MB of words: a child leaves them in a file (spill.ts)
    const out = await shared.run('bigArrays', n);
    expect(out.words).toBeInstanceOf(Uint32Array);
    expect(out.words).toEqual(
      Uint32Array.from({ length: n }, (_, i) => Math.imul(i, 0x9e3779b1) >>> 0),
    );
    expect(out.small).toEqual(Uint16Array.of(1, 2, 3));
    expect(out.nested[0]!.halves).toBeInstanceOf(Float64Array);
    expect(out.nested[0]!.halves[n - 1]).toBe((n - 1) / 2);
    expect(out.buffer.every((byte) => byte === 7)).toBe(true);
    // Through a process's own folder, which keeps nothing once the parent has the arrays.
    if (runtime === 'process') {
      expect(out.spillDir).toBeDefined();
      expect(statSync(out.spillDir!).mode & 0o777).toBe(0o700);
      expect(readdirSync(out.spillDir!)).toEqual([]);
    } else {
      expect(out.spillDir).toBeUndefined();
    }
  });

  it('names the task and its input when a task throws, and keeps working', async () => {
    const error = await shared.run('fail', 'kaput').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as Error).message).toBe('task fail("kaput") failed: kaput');
    await expect(shared.run('double', 21)).resolves.toBe(42);
  });

  it('reports progress as tasks settle', async () => {
    const p = await pool(runtime);
    const seen: PoolProgress[] = [];
    p.on('progress', (progress) => seen.push(progress));
    await Promise.allSettled([p.run('double', 1), p.run('fail', 'x'), p.run('double', 2)]);
    expect(seen).toHaveLength(3);
    expect(seen.at(-1)).toEqual({ total: 3, done: 2, failed: 1 });
  });

  it("keeps a worker's event loop running between its tasks (timers, sockets)", async () => {
    // A download worker's sockets close and its timers fire while it waits for the next
    // row; a worker asleep in Atomics.wait between tasks froze them (issue 32's flaky test).
    const p = await pool(runtime);
    await p.run('startTicking', undefined);
    const before = await p.run('ticksSoFar', undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await p.run('ticksSoFar', undefined)) - before).toBeGreaterThan(2);
  });

  it('aborts queued and running tasks through the signal', async () => {
    const controller = new AbortController();
    const p = await pool(runtime, controller.signal);
    // One running, three queued behind it.
    const runs = [1, 2, 3, 4].map(() => p.run('sleep', 30_000).catch((e: unknown) => e));
    setTimeout(() => controller.abort(new Error('stop')), 200);
    const results = await Promise.all(runs);
    expect(results.map((r) => (r as Error).message)).toEqual(['stop', 'stop', 'stop', 'stop']);
    await p.destroy();
    await expect(p.run('double', 1)).rejects.toThrow('stop');
  });
});

describe('a heap floor (heapFloorMiB)', () => {
  const floored = (runtime: 'thread' | 'process'): Promise<Pool<Tasks>> =>
    pool(runtime, undefined, 64);

  it('lets a child process keep 24 MiB with no full collection, where one without collects', async () => {
    await expect(
      (await pool('process')).run('fullCollectionsKeeping', 24),
    ).resolves.toBeGreaterThan(0);
    await expect((await floored('process')).run('fullCollectionsKeeping', 24)).resolves.toBe(0);
  });

  it("reaches the worker threads started after it (V8 options are the process's)", async () => {
    await expect((await floored('thread')).run('fullCollectionsKeeping', 24)).resolves.toBe(0);
  });
});

describe("a child process's folder for big arrays", () => {
  it('goes with the pool, and when it cannot be written the arrays take the channel', async () => {
    const p = await pool('process');
    const first = await p.run('bigArrays', 300_000);
    const dir = first.spillDir!;
    rmSync(dir, { recursive: true }); // as a full disk or a cleaner of /tmp would leave it
    const out = await p.run('bigArrays', 300_000);
    expect(out.words).toEqual(first.words);
    expect(out.nested[0]!.halves).toEqual(first.nested[0]!.halves);
    expect(existsSync(dir)).toBe(false);

    const q = await pool('process');
    const kept = (await q.run('bigArrays', 300_000)).spillDir!;
    expect(existsSync(kept)).toBe(true);
    await q.destroy();
    expect(existsSync(kept)).toBe(false);
  });
});

describe.each(['thread', 'process'] as const)('a worker that dies on %s', (runtime) => {
  it('fails its task with a clear error, and the pool goes on', async () => {
    const p = await pool(runtime);
    const error = await p.run('exit', 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as Error).message).toMatch(
      /^task exit\(3\) failed: worker .*exited unexpectedly/,
    );
    await expect(Promise.all([p.run('double', 1), p.run('double', 2)])).resolves.toEqual([2, 4]);
  });
});
