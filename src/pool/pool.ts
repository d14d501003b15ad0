import { EventEmitter } from 'node:events';
import Tinypool from 'tinypool';
import { defaultTaskModule } from './task-module.ts';
import type * as crewTasks from '../worker.ts';

import type { Runtime } from './runtime.ts';

export { defaultWorkers, runtimes, type Runtime } from './runtime.ts';

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
  /** Aborting rejects queued and running tasks and terminates the workers. */
  readonly signal?: AbortSignal;
  /** The module whose named exports are the tasks; crew's own `worker.ts` by default. */
  readonly module?: URL;
}

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

export interface Pool<M = typeof crewTasks> {
  readonly runtime: Runtime;
  readonly workers: number;
  run<N extends TaskName<M>>(name: N, input: TaskInput<M, N>): Promise<TaskOutput<M, N>>;
  /** Fires after every task settles; the UI layer turns it into a progress line. */
  on(event: 'progress', listener: (progress: PoolProgress) => void): void;
  /** Terminates the workers. Safe to call more than once; always call it in `finally`. */
  destroy(): Promise<void>;
}

/**
 * The one pool every crew command runs on. Tasks are the named exports of one worker module,
 * typed end to end: `pool.run('sumRange', input)` checks `input` and the result type.
 */
export async function createPool<M = typeof crewTasks>(options: PoolOptions): Promise<Pool<M>> {
  const module = options.module ?? defaultTaskModule();
  const tasksPerWorker = Math.max(1, options.tasksPerWorker ?? 1);
  const workers = options.runtime === 'inline' ? 1 : Math.max(1, Math.floor(options.workers));
  const signal = options.signal;
  const events = new EventEmitter<{ progress: [PoolProgress] }>();
  const progress = { total: 0, done: 0, failed: 0 };
  // Every unsettled run, so an abort or a dead pool can reject them all at once.
  const pending = new Set<(error: unknown) => void>();

  const backend =
    options.runtime === 'inline'
      ? await inlineBackend(module, tasksPerWorker, signal)
      : tinypoolBackend(module, options.runtime, workers, tasksPerWorker, (error) => {
          for (const reject of pending) reject(error);
        });

  const onAbort = (): void => {
    const reason: unknown = signal?.reason ?? new DOMException('aborted', 'AbortError');
    for (const reject of pending) reject(reason);
    void backend.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  return {
    runtime: options.runtime,
    workers,
    run(name, input) {
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
        backend.run(name, input).then(
          (value) => settle(true, value),
          (error: unknown) =>
            settle(false, signal?.aborted ? signal.reason : new TaskError(name, input, error)),
        );
      });
    },
    on(event, listener) {
      events.on(event, listener);
    },
    async destroy() {
      signal?.removeEventListener('abort', onAbort);
      await backend.destroy();
    },
  };
}

interface Backend {
  run(name: string, input: unknown): Promise<unknown>;
  destroy(): Promise<void>;
}

function tinypoolBackend(
  module: URL,
  runtime: 'thread' | 'process',
  workers: number,
  tasksPerWorker: number,
  onDead: (error: unknown) => void,
): Backend {
  const pool = new Tinypool({
    filename: module.href,
    runtime: runtime === 'thread' ? 'worker_threads' : 'child_process',
    // Start every worker up front and never retire idle ones: the run is short-lived, and a
    // fixed set of workers is what the unexpected-exit watch below relies on.
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: tasksPerWorker,
    // Child processes get V8 serialization too, so BigInt, Map and typed arrays cross as they
    // do to threads (the default JSON would drop them).
    serialization: 'advanced',
    // tinypool forks children with only the env it is given: without this they would lose
    // PATH, proxy settings, and the single binary's marker that tells a child what it is.
    env: { ...process.env } as Record<string, string>,
  });
  let destroying: Promise<void> | undefined;
  // Tinypool emits 'error' for a worker that died with no task on it (e.g. the module failed to
  // load). Without a listener that would crash crew; with no workers left, queued tasks would
  // wait forever, so fail them instead.
  pool.on('error', (error: unknown) => {
    if (!destroying) onDead(error);
  });
  // Tinypool notices a child process that exits, but not a worker thread that calls
  // process.exit(): its task would hang. Report such an exit as the worker's error, which
  // tinypool already handles by failing that worker's tasks and starting a replacement.
  const watched = new WeakSet<object>();
  const watchThreads = (): void => {
    if (runtime !== 'thread') return;
    for (const worker of pool.threads) {
      if (watched.has(worker)) continue;
      watched.add(worker);
      worker.once('exit', (code: number) => {
        if (!destroying) {
          worker.emit('error', new Error(`worker thread exited unexpectedly (code ${code})`));
        }
      });
    }
  };
  watchThreads();
  return {
    run(name, input) {
      const result = pool.run(input, { name }).catch((error: unknown) => {
        throw asError(error);
      });
      watchThreads(); // a crashed worker is replaced when the next task is queued
      return result;
    },
    destroy() {
      destroying ??= pool.destroy();
      return destroying;
    },
  };
}

async function inlineBackend(
  module: URL,
  concurrency: number,
  signal: AbortSignal | undefined,
): Promise<Backend> {
  const tasks = (await import(module.href)) as Record<string, unknown>;
  let running = 0;
  const waiting: (() => void)[] = [];
  return {
    async run(name, input) {
      const task = tasks[name];
      if (typeof task !== 'function') throw new Error(`no task named "${name}" in ${module.href}`);
      if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
      running++;
      try {
        return await (task as (input: unknown, signal?: AbortSignal) => unknown)(input, signal);
      } finally {
        running--;
        waiting.shift()?.();
      }
    },
    destroy: () => Promise.resolve(),
  };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Child processes send errors back as plain `{ name, message, stack }` objects, and tinypool
 * words a dead child differently from our dead-thread message: make both look alike.
 */
function asError(error: unknown): Error {
  if (error instanceof Error) {
    return error.message === 'Worker exited unexpectedly'
      ? new Error('worker process exited unexpectedly', { cause: error })
      : error;
  }
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message, name, stack } = error as { message: unknown; name?: unknown; stack?: unknown };
    const rebuilt = new Error(String(message));
    if (typeof name === 'string') rebuilt.name = name;
    if (typeof stack === 'string') rebuilt.stack = stack;
    return rebuilt;
  }
  return new Error(String(error));
}

function describeInput(input: unknown): string {
  const text =
    JSON.stringify(input, (_key, value: unknown) =>
      typeof value === 'bigint' ? `${value}n` : value,
    ) ?? String(input);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
