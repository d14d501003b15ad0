import { createPool, type Pool, type PoolOptions } from '../pool/pool.ts';
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
export function createTaskPool(options: Omit<PoolOptions, 'module'>): Promise<Pool<CrewTasks>> {
  return createPool<CrewTasks>({ ...options, module: taskModule() });
}
