import { resolve } from 'node:path';
import { createPool, type Pool, type PoolOptions } from '../pool/pool.ts';
import { queueInScope } from './placement.ts';
import type * as tasks from './worker.ts';

/** crew's own tasks: the named exports of `worker.ts`. */
export type CrewTasks = typeof tasks;

/**
 * Where crew's task module lives. Bundled, the chunk holding this code sits beside
 * `dist/worker.js`; run from source (tests, `vitest`), Node 24 loads `src/tasks/worker.ts`
 * directly with type stripping, in threads and child processes alike.
 */
const taskModule = (): URL =>
  import.meta.url.endsWith('.ts')
    ? new URL('./worker.ts', import.meta.url)
    : new URL('./worker.js', import.meta.url);

/** The pool every crew command runs its tasks on. */
export async function createTaskPool(
  options: Omit<PoolOptions, 'module'>,
): Promise<Pool<CrewTasks>> {
  const queue = options.queue ?? queueInScope();
  const pool = await createPool<CrewTasks>({ ...options, module: taskModule(), queue });
  if (!queue) return pool;
  // Another machine has another working directory: paths travel absolute.
  return { ...pool, run: (name, input) => pool.run(name, portable(name, input)) };
}

/** A task's input with its paths made absolute, as a worker elsewhere needs them. */
function portable<I>(name: string, input: I): I {
  const value = input as Record<string, unknown>;
  if (name === 'logstatsRange') {
    const range = value['range'] as { path: string };
    return { ...value, range: { ...range, path: resolve(range.path) } } as I;
  }
  if (name === 'downloadUrl') {
    return { ...value, tempPath: resolve(value['tempPath'] as string) } as I;
  }
  return input;
}
