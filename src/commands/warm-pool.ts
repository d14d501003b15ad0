/**
 * A pool started before the run's code has loaded, for the run to take when it asks for one
 * like it. A worker's start-up (a V8 isolate, the bundle, undici: ~0.2 s) otherwise began
 * only when the first task was ready, after the parent had loaded and opened everything.
 */
import type { Pool, PoolFactory, PoolOptions } from '../pool/pool.ts';

/** What the warm pool is: the options the run will ask for, but its signal. */
export type WarmOptions = Omit<PoolOptions, 'module' | 'queue' | 'signal' | 'warn'>;

export interface WarmPools<M> {
  /** Hands out the warm pool to the first request for one like it; starts the others. */
  readonly pools: PoolFactory<M>;
  /** Stops the warm pool if no one took it; call it in `finally`. */
  release(): Promise<void>;
}

const same = (options: Parameters<PoolFactory<unknown>>[0], warm: WarmOptions): boolean =>
  options.runtime === warm.runtime &&
  options.workers === warm.workers &&
  (options.tasksPerWorker ?? 1) === (warm.tasksPerWorker ?? 1) &&
  options.heapFloorMiB === warm.heapFloorMiB;

/**
 * Starts a pool of `warm` (none when undefined), and returns once its workers are starting:
 * they boot while the caller goes on loading the run's code. (Started without waiting, the
 * pool's own modules loaded behind the run's, and the worker began as late as before.) It
 * stops when `signal` aborts, and when the signal of the request that takes it does: the
 * run's own signal may abort on more than Ctrl-C (a full disk stops a download).
 */
export async function warmPools<M>(
  pools: PoolFactory<M>,
  warm: WarmOptions | undefined,
  signal: AbortSignal,
): Promise<WarmPools<M>> {
  if (warm === undefined) return { pools, release: () => Promise.resolve() };
  const stop = new AbortController();
  const follow = (from: AbortSignal): void => {
    if (from.aborted) stop.abort(from.reason);
    else from.addEventListener('abort', () => stop.abort(from.reason), { once: true });
  };
  follow(signal);
  let waiting: Promise<Pool<M>> | undefined = pools({ ...warm, signal: stop.signal });
  // Its failure (no room for a worker) is the taker's to handle, or nobody's.
  await waiting.catch(() => undefined);
  return {
    pools: (options) => {
      const taken = waiting;
      if (taken === undefined || !same(options, warm)) return pools(options);
      waiting = undefined;
      if (options.signal) follow(options.signal);
      return taken;
    },
    async release() {
      const unused = waiting;
      waiting = undefined;
      await unused?.then(
        (pool) => pool.destroy(),
        () => undefined,
      );
    },
  };
}
