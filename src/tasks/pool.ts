import { createPool, type Pool, type PoolOptions } from '../pool/pool.ts';
import type { QueueOptions } from '../pool/queue/backend.ts';
import { acceptAnswer, taskNamed, type CrewTasks } from './registry.ts';

export type { CrewTasks };

/**
 * Where crew's task module lives. Bundled, the chunk holding this code sits beside
 * `dist/worker.js`; run from source (tests, `vitest`), Node 24 loads `src/tasks/worker.ts`
 * directly with type stripping, in threads and child processes alike.
 */
const taskModule = (): URL =>
  import.meta.url.endsWith('.ts')
    ? new URL('./worker.ts', import.meta.url)
    : new URL('./worker.js', import.meta.url);

/**
 * A pool of crew's tasks: local workers, or with `queue` the workers of that queue, to whom
 * each input travels in its portable form (absolute paths), and whose every answer is checked
 * by its task's `acceptResult` before the domain sees it.
 */
export async function createTaskPool(
  options: Omit<PoolOptions, 'module' | 'queue'>,
  queue?: QueueOptions,
): Promise<Pool<CrewTasks>> {
  const pool = await createPool<CrewTasks>({
    ...options,
    module: taskModule(),
    queue: queue && { ...queue, acceptAnswer },
  });
  if (!queue) return pool;
  return {
    ...pool,
    run: (name, input) => pool.run(name, taskNamed(name)!.portable(input) as typeof input),
  };
}
