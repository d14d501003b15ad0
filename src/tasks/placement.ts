/**
 * The queue a command's task pools use (`--queue`), set once around a whole run by the
 * shared command runner, so no command passes it along: commands do not know where their
 * tasks run. Apart from pool.ts so the runner can set it without loading the pool.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { QueueOptions } from '../pool/queue/backend.ts';

const placement = new AsyncLocalStorage<QueueOptions | undefined>();

/** Runs `fn` with every task pool it creates sending its tasks to `queue` (if given). */
export function withQueue<T>(queue: QueueOptions | undefined, fn: () => T): T {
  return placement.run(queue, fn);
}

/** The queue of the run this code belongs to, if any. */
export const queueInScope = (): QueueOptions | undefined => placement.getStore();
