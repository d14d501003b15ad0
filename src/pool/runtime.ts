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

/**
 * Threads in libuv's pool for this process. Every worker thread shares the one pool (4
 * threads unless UV_THREADPOOL_SIZE says), and sharp runs each image on one of them while
 * file writes, DNS lookups and gunzip wait for one too: with 4, a download on 16 cores
 * could resize only 4 images at once, its writes queued behind them. The cores and four
 * more: imageJobs has two images more than the cores in sharp, and two threads stay free.
 */
export const threadPoolSize = (cores: number): number => Math.max(4, cores + 4);

/**
 * Sizes libuv's pool unless the user set it. libuv reads the variable when the pool is
 * first used, so this must run before any asynchronous file, DNS or zlib call: child
 * processes inherit it.
 */
export function sizeThreadPool(env: NodeJS.ProcessEnv = process.env): void {
  env['UV_THREADPOOL_SIZE'] ??= String(threadPoolSize(availableParallelism()));
}
