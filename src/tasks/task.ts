/**
 * What a pool task is to crew: the code that runs it, and what every runtime around it
 * needs to know. All five parts are required, so a task that forgets one does not compile.
 */
import type { WorkerScope } from './scope.ts';

export interface TaskDef<I, O> {
  /**
   * Runs the task wherever the pool put it (a worker thread, a child process, inline, or a
   * queue worker on another machine). Only inline passes `signal`. Loads the domain's code
   * on first use, so a worker loads only the code of the tasks it is given.
   */
  readonly run: (input: I, signal?: AbortSignal) => Promise<O>;
  /**
   * Why a queue worker must not run this input (undefined when it may): a row in a table is
   * data that anyone who reaches the database can write, so every field is checked, and
   * every path against what the worker's operator allows (`scope`).
   */
  readonly accept: (input: unknown, scope: WorkerScope) => string | undefined;
  /**
   * Why the coordinator must not use `result`, a queue worker's answer to `input` (undefined
   * when it may): the answer comes back through the same tables, so it is as hostile as a
   * job is to a worker. Every field is checked as `accept` checks inputs (check.ts), and
   * against what was asked (the range, the parts asked for), before the domain sees it.
   */
  readonly acceptResult: (result: unknown, input: I) => string | undefined;
  /** The input as a worker on another machine needs it: paths made absolute. */
  readonly portable: (input: I) => I;
  /** The task in a few words for a worker's log; only called on accepted inputs. */
  readonly describe: (input: I) => string;
}

/** Declares a task (the identity, for type inference). */
export const defineTask = <I, O>(task: TaskDef<I, O>): TaskDef<I, O> => task;

/**
 * Loads a domain module once per process: an import() per call still resolves the module
 * again (~4 us a task).
 */
export function lazily<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
