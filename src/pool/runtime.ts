import { availableParallelism } from 'node:os';

/**
 * The runtimes and their defaults, apart from the pool itself so the CLI can validate
 * options without loading tinypool (start-up time).
 */

/** How tasks run: worker threads, child processes, or serially in this process (the baseline). */
export const runtimes = ['thread', 'process', 'inline'] as const;
export type Runtime = (typeof runtimes)[number];

/** Where a pool's tasks ran, as a report says it: a local runtime, or a queue's workers. */
export type PoolRuntime = Runtime | 'queue';

/** Default worker count: one per core the OS lets us use. */
export const defaultWorkers = (): number => availableParallelism();
