import { setFlagsFromString } from 'node:v8';
import Tinypool from 'tinypool';
import type { Backend } from './backend.ts';
import { CHILD_TASKS_ENV, childTunables } from './child-env.ts';
import { makeSpillDir, removeSpillDir, SPILL_DIR_ENV, unspill } from './spill.ts';

/**
 * Child processes load the pool's own child entry, which guards against outliving crew and
 * then serves the task module named in CHILD_TASKS_ENV. Bundled, it is dist/pool-child.js
 * beside the chunk that holds this code; from source, Node loads child.ts with type stripping.
 */
const childEntry = (): string =>
  (import.meta.url.endsWith('.ts')
    ? new URL('./child.ts', import.meta.url)
    : new URL('./pool-child.js', import.meta.url)
  ).href;

/**
 * Node options for a child process: the parent's, plus `--disable-sigusr1`, so a SIGUSR1
 * (log rotation sends them) never opens the inspector in a child, where any local user could
 * then run code. The single binary already starts with it (its children are the binary too).
 * Not the parent's script given as text (`node -e`, `-p`, `--eval=...`): each child would run
 * it instead of its entry, start a pool of its own, and so on (crew imported from a
 * `node -e` line forked until the machine stalled).
 */
export function childExecArgv(parent: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const option = parent[i]!;
    if (SCRIPT_WITH_VALUE.has(option)) i++;
    else if (!SCRIPT_OPTIONS.some((name) => option.startsWith(`${name}=`))) kept.push(option);
  }
  return kept.includes(DISABLE_SIGUSR1) ? kept : [...kept, DISABLE_SIGUSR1];
}

const DISABLE_SIGUSR1 = '--disable-sigusr1';
/** A script given as text, and how to read it (only allowed with such a script). */
const SCRIPT_OPTIONS = ['--eval', '--print', '--input-type'];
const SCRIPT_WITH_VALUE = new Set(['-e', '-p', '-pe', ...SCRIPT_OPTIONS]);

/**
 * V8's options for a worker heap that may grow to `floor` MiB before its first full
 * collection and is never given a smaller limit. V8 sizes a heap's limit from what was live
 * after the last full collection: a worker whose own objects are few (~13 MiB) but which
 * passes many large buffers through (bodies on their way to sharp) got a limit so close to
 * them that it collected every ~90 ms, each time finding nearly all of it still live:
 * 118 full collections, ~2.5 s of CPU, in a run of 1,000 images that took 10.5 s.
 */
export const heapFloorArgs = (floor: number | undefined): string[] =>
  floor === undefined ? [] : [`--initial-heap-size=${Math.round(floor)}`];

/** Worker threads or child processes, through tinypool. */
export function tinypoolBackend(
  module: URL,
  options: {
    readonly runtime: 'thread' | 'process';
    readonly workers: number;
    readonly tasksPerWorker: number;
    readonly heapFloorMiB?: number | undefined;
  },
  onDead: (error: unknown) => void,
): Backend {
  const { runtime, workers, tasksPerWorker } = options;
  const floor = heapFloorArgs(options.heapFloorMiB);
  const spillDir = runtime === 'process' ? makeSpillDir() : undefined;
  // A worker thread cannot take V8 options of its own: they are the process's. The parent's
  // heap was sized when it started, so this reaches only heaps made from now on, its workers'.
  // A child forked from the single binary reads no Node options from its command line (a
  // SEA's argv is the app's): there the floor reaches threads only, download's default.
  if (runtime === 'thread' && floor.length > 0) setFlagsFromString(floor.join(' '));
  const pool = new Tinypool({
    filename: runtime === 'thread' ? module.href : childEntry(),
    runtime: runtime === 'thread' ? 'worker_threads' : 'child_process',
    // Start every worker up front and never retire idle ones: the run is short-lived, and a
    // fixed set of workers is what the unexpected-exit watch below relies on.
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: tasksPerWorker,
    // With atomics an idle worker thread sleeps in Atomics.wait, and its event loop with it:
    // a download worker's retired agent never closed its sockets between tasks, so under a
    // low ulimit -n even one request at a time found no descriptor (1 run in 10 of a test).
    // Tasks here are few and large (a file, a range, a chunk, a download), so a message
    // through the event loop costs them nothing that shows.
    useAtomics: false,
    // Child processes get V8 serialization too, so BigInt, Map and typed arrays cross as they
    // do to threads (the default JSON would drop them).
    serialization: 'advanced',
    // Threads share this process and its signal handling; only children need the flag.
    ...(runtime === 'process' ? { execArgv: [...childExecArgv(process.execArgv), ...floor] } : {}),
    // tinypool forks children with only the env it is given: without this they would lose
    // PATH, proxy settings, and the single binary's marker that tells a child what it is.
    env: {
      ...process.env,
      [CHILD_TASKS_ENV]: module.href,
      GLIBC_TUNABLES: childTunables(process.env['GLIBC_TUNABLES']),
      // Always set: a folder named in crew's own environment is not this pool's.
      [SPILL_DIR_ENV]: spillDir ?? '',
    },
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
    run(name, input, signal) {
      const result = pool
        .run(input, { name, ...(signal ? { signal } : {}) })
        .then((answer: unknown) => unspill(answer, spillDir))
        .catch((error: unknown) => {
          throw asError(error);
        });
      watchThreads(); // a crashed worker is replaced when the next task is queued
      return result;
    },
    destroy() {
      // A worker that fails while it is being stopped (one that could not start: EMFILE) has
      // nothing left to report: its tasks were already failed, and the run is ending.
      destroying ??= (() => {
        for (const worker of pool.threads) lendRemoveListener(worker);
        return pool
          .destroy()
          .catch(() => undefined)
          .finally(() => removeSpillDir(spillDir));
      })();
      return destroying;
    },
  };
}

/**
 * tinypool's destroy waits for each worker with `events.once(worker, 'exit')`, on its own
 * wrapper of the thread or child, which has `once` but no `removeListener`. When the worker
 * emits 'error' instead (one that failed to start under a low `ulimit -n`), `once` calls
 * `removeListener` from inside the event: a TypeError that crashed crew. The wrapper gets
 * the method, passed on to the thread or child that holds the listener.
 */
function lendRemoveListener(worker: object): void {
  const wrapper = worker as {
    removeListener?: unknown;
    thread?: NodeJS.EventEmitter;
    process?: NodeJS.EventEmitter;
  };
  const target = wrapper.thread ?? wrapper.process;
  if (typeof wrapper.removeListener === 'function' || !target) return;
  wrapper.removeListener = (event: string, listener: (...args: unknown[]) => void) =>
    target.removeListener(event, listener);
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
