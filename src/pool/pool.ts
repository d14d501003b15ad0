import { EventEmitter } from 'node:events';
import { inlineBackend } from './inline-backend.ts';
import { descriptorsOf, openFiles, TooManyOpenFiles, workersWithin } from './open-files.ts';
import { tinypoolBackend } from './tinypool-backend.ts';
import type { PoolRuntime, Runtime } from './runtime.ts';
import type { QueuePoolOptions } from './queue/backend.ts';

export { defaultWorkers, runtimes, type PoolRuntime, type Runtime } from './runtime.ts';

/**
 * A task takes one structured-cloneable input. The optional signal is only passed by the
 * inline runtime: there a task shares the event loop with Ctrl-C, so long tasks should yield
 * and check it; in a thread or process, aborting terminates the worker instead.
 */
type AnyTask = (input: never, signal?: AbortSignal) => unknown;

export type TaskName<M> = {
  [K in keyof M]: M[K] extends AnyTask ? K : never;
}[keyof M] &
  string;
export type TaskInput<M, N extends keyof M> = M[N] extends (
  input: infer I,
  ...rest: never[]
) => unknown
  ? I
  : never;
export type TaskOutput<M, N extends keyof M> = M[N] extends (...args: never[]) => infer O
  ? Awaited<O>
  : never;

export interface PoolOptions {
  readonly runtime: Runtime;
  /** Workers to start; ignored (always 1) for `inline`. */
  readonly workers: number;
  /** Tasks one worker runs at once: 1 for CPU-bound work, more for I/O-bound tasks. */
  readonly tasksPerWorker?: number;
  /**
   * Each worker's V8 heap may grow to this many MiB before its first full collection, and
   * never gets a smaller limit (threads and processes; not inline). See `heapFloorArgs`.
   */
  readonly heapFloorMiB?: number | undefined;
  /** Aborting rejects queued and running tasks and terminates the workers. */
  readonly signal?: AbortSignal;
  /** The module whose named exports are the tasks (the pool knows nothing else of them). */
  readonly module: URL;
  /** Send tasks to this queue's workers instead of starting local ones (answers checked). */
  readonly queue?: QueuePoolOptions | undefined;
  /** Told what the user should know while the pool works (a queue no worker serves). */
  readonly warn?: ((message: string) => void) | undefined;
}

/**
 * How a domain asks for workers without knowing where they run: the command layer binds the
 * task module and the queue (`--queue`), the domain picks the runtime, the workers and how
 * many tasks each runs at once. `M` is the part of the task table the domain uses.
 */
export type PoolFactory<M> = (options: Omit<PoolOptions, 'module' | 'queue'>) => Promise<Pool<M>>;

export interface PoolProgress {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
}

/** A task that failed, named with its input so the message says which one. */
export class TaskError extends Error {
  override name = 'TaskError';
  readonly task: string;
  constructor(task: string, input: unknown, cause: unknown) {
    super(`task ${task}(${describeInput(input)}) failed: ${messageOf(cause)}`, { cause });
    this.task = task;
  }
}

export interface Pool<M> {
  /** Where its tasks run: the runtime asked for, or 'queue' when they go to a queue. */
  readonly runtime: PoolRuntime;
  readonly workers: number;
  /** Runs a task; aborting `options.signal` stops that task alone (not with --queue). */
  run<N extends TaskName<M>>(
    name: N,
    input: TaskInput<M, N>,
    options?: { readonly signal?: AbortSignal },
  ): Promise<TaskOutput<M, N>>;
  /** Fires after every task settles; the UI layer turns it into a progress line. */
  on(event: 'progress', listener: (progress: PoolProgress) => void): void;
  /** Terminates the workers. Safe to call more than once; always call it in `finally`. */
  destroy(): Promise<void>;
}

/**
 * A pool over one task module: its named exports are the tasks, typed end to end when `M` is
 * the module's type: `pool.run('sumRange', input)` checks `input` and the result type.
 */
export async function createPool<M>(options: PoolOptions): Promise<Pool<M>> {
  const module = options.module;
  const tasksPerWorker = Math.max(1, options.tasksPerWorker ?? 1);
  const asked = options.runtime === 'inline' ? 1 : Math.max(1, Math.floor(options.workers));
  const local = !options.queue && options.runtime !== 'inline' ? options.runtime : undefined;
  const workers = local ? workersAllowed(local, asked, options.warn) : asked;
  const claim = local ? descriptorsOf(local, workers) : 0;
  const signal = options.signal;
  const events = new EventEmitter<{ progress: [PoolProgress] }>();
  const progress = { total: 0, done: 0, failed: 0 };
  // Every unsettled run, so an abort or a dead pool can reject them all at once.
  const pending = new Set<(error: unknown) => void>();

  const backend = options.queue
    ? // Loaded only here: a local run never evaluates pg-boss (start-up time).
      await (
        await import('./queue/backend.ts')
      ).queueBackend(options.queue, tasksPerWorker, options.warn, signal)
    : options.runtime === 'inline'
      ? await inlineBackend(module, tasksPerWorker, signal)
      : tinypoolBackend(
          module,
          { runtime: options.runtime, workers, tasksPerWorker, heapFloorMiB: options.heapFloorMiB },
          (error) => {
            for (const reject of pending) reject(error);
          },
        );
  claimedDescriptors += claim;
  let released = false;
  const release = (): void => {
    if (!released) claimedDescriptors -= claim;
    released = true;
  };

  const onAbort = (): void => {
    const reason: unknown = signal?.reason ?? new DOMException('aborted', 'AbortError');
    for (const reject of pending) reject(reason);
    void backend.destroy().finally(release);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  return {
    runtime: options.queue ? 'queue' : options.runtime,
    workers,
    run(name, input, runOptions) {
      progress.total++;
      return new Promise((resolve, reject) => {
        let settled = false;
        const settle = (ok: boolean, value: unknown): void => {
          if (settled) return;
          settled = true;
          pending.delete(fail);
          if (ok) progress.done++;
          else progress.failed++;
          events.emit('progress', { ...progress });
          if (ok) resolve(value as never);
          else reject(value);
        };
        const fail = (error: unknown): void => settle(false, error);
        if (signal?.aborted) {
          fail(signal.reason);
          return;
        }
        pending.add(fail);
        // Settled at once even where the task itself cannot stop (an inline task that never
        // looks at its signal): whoever asked has stopped waiting for it.
        runOptions?.signal?.addEventListener('abort', () => fail(runOptions.signal!.reason), {
          once: true,
        });
        backend.run(name, input, runOptions?.signal).then(
          (value) => settle(true, value),
          (error: unknown) =>
            settle(
              false,
              signal?.aborted
                ? signal.reason
                : runOptions?.signal?.aborted
                  ? runOptions.signal.reason
                  : new TaskError(name, input, error),
            ),
        );
      });
    },
    on(event, listener) {
      events.on(event, listener);
    },
    async destroy() {
      signal?.removeEventListener('abort', onAbort);
      await backend.destroy().finally(release);
    },
  };
}

/**
 * Descriptors promised to this process's live local pools. Their workers start after
 * `createPool` returns, so /proc does not count them yet when the next pool asks for room
 * (download-csv starts its lanes' pools together); counting a started one twice errs safe.
 */
let claimedDescriptors = 0;

/**
 * The workers of `asked` that the open-files limit leaves room for: fewer, with a warning,
 * when some do not fit; none is an error, as Node could not start them (see open-files.ts).
 */
function workersAllowed(
  runtime: 'thread' | 'process',
  asked: number,
  warn: ((message: string) => void) | undefined,
): number {
  const files = openFiles();
  if (!files) return asked;
  const fit = workersWithin(files, runtime, asked, claimedDescriptors);
  if (fit === 0) throw new TooManyOpenFiles(files.limit, runtime);
  if (fit < asked) {
    warn?.(
      `ulimit -n ${files.limit} leaves room for ${fit} of the ${asked} workers asked: ` +
        `running ${fit} (raise ulimit -n for more)`,
    );
  }
  return fit;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function describeInput(input: unknown): string {
  const text =
    JSON.stringify(input, (_key, value: unknown) =>
      typeof value === 'bigint' ? `${value}n` : value,
    ) ?? String(input);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
