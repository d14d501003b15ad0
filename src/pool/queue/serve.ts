/**
 * The queue runtime, worker side: takes jobs from crew's queue while it has free slots,
 * checks every task (only names and inputs `accept` allows run: a row in a table is not
 * code), runs them on the given local pool, sends heartbeats while they run, completes the
 * job with every outcome, and tells the job's run that it finished.
 */
import type { PgBoss } from 'pg-boss';
import { listen, openBoss, sql } from './connect.ts';
import {
  decodeJob,
  DONE_CHANNEL,
  encodeOutcomes,
  QUEUE,
  TASKS_CHANNEL,
  type QueueTask,
  type TaskOutcome,
} from './wire.ts';

export interface ServeOptions {
  readonly url: string;
  /** Jobs run at once. */
  readonly slots: number;
  /** Runs one accepted task (on the worker's local pool). */
  readonly run: (name: string, input: unknown) => Promise<unknown>;
  /** Why a task must not run, or undefined when it may. */
  readonly accept: (name: string, input: unknown) => string | undefined;
  /** Aborting stops taking jobs; the jobs running finish first. */
  readonly signal: AbortSignal;
  readonly onEvent: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | { readonly kind: 'job-started'; readonly tasks: readonly QueueTask[] }
  | { readonly kind: 'job-done'; readonly tasks: number; readonly failed: number }
  | { readonly kind: 'trouble'; readonly error: Error };

/** How often an idle worker looks for jobs when no notice wakes it. */
const IDLE_POLL_MS = 500;

/** Serves jobs until the signal aborts and the running ones are done. */
export async function serveQueue(options: ServeOptions): Promise<void> {
  const trouble = (error: Error): void => options.onEvent({ kind: 'trouble', error });
  const boss = await openBoss(options.url, trouble);
  // A notice that arrives while the loop is busy fetching must not be lost: it is kept in
  // `nudged` and the next wait returns at once.
  let wake: (() => void) | undefined;
  let nudged: boolean | undefined;
  const nudge = (): void => {
    nudged = true;
    wake?.();
    wake = undefined;
  };
  const listener = listen(options.url, TASKS_CHANNEL, nudge, trouble);
  options.signal.addEventListener('abort', nudge, { once: true });
  const running = new Set<Promise<void>>();
  try {
    while (!options.signal.aborted) {
      const free = options.slots - running.size;
      let jobs: { id: string; data: unknown; heartbeatSeconds?: number | null }[] = [];
      nudged = false;
      if (free > 0) {
        try {
          jobs = await boss.fetch(QUEUE, { batchSize: free });
        } catch (error) {
          trouble(error as Error);
        }
      }
      for (const job of jobs) {
        const done = runJob(boss, job, options).finally(() => {
          running.delete(done);
          nudge();
        });
        running.add(done);
      }
      if ((jobs.length === 0 || running.size >= options.slots) && !nudged) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, IDLE_POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
    await Promise.all(running);
  } finally {
    await listener.close();
    await boss.stop({ graceful: false, timeout: 5_000 }).catch(() => undefined);
  }
}

/** Runs one job's tasks, keeping its heartbeat, and completes it with their outcomes. */
async function runJob(
  boss: PgBoss,
  job: { id: string; data: unknown; heartbeatSeconds?: number | null },
  options: ServeOptions,
): Promise<void> {
  const beat = job.heartbeatSeconds
    ? setInterval(
        () =>
          void boss
            .touch(QUEUE, job.id)
            .catch((error: Error) => options.onEvent({ kind: 'trouble', error })),
        (job.heartbeatSeconds * 1000) / 3,
      )
    : undefined;
  try {
    let run: string;
    let outcomes: TaskOutcome[];
    try {
      const decoded = decodeJob(job.data);
      run = decoded.run;
      options.onEvent({ kind: 'job-started', tasks: decoded.tasks });
      outcomes = await Promise.all(decoded.tasks.map((task) => runTask(task, options)));
    } catch (error) {
      // Not a crew job: no retry will make it one.
      await boss.complete(QUEUE, job.id, encodeOutcomes([]));
      options.onEvent({ kind: 'trouble', error: error as Error });
      return;
    }
    await completeWithRetry(boss, job.id, encodeOutcomes(outcomes), options);
    await sql(boss, 'SELECT pg_notify($1, $2)', [DONE_CHANNEL, `${run} ${job.id}`]).catch(
      () => undefined,
    );
    const failed = outcomes.filter((o) => !o.ok).length;
    options.onEvent({ kind: 'job-done', tasks: outcomes.length, failed });
  } finally {
    clearInterval(beat);
  }
}

async function runTask(task: QueueTask, options: ServeOptions): Promise<TaskOutcome> {
  const refused = options.accept(task.name, task.input);
  if (refused !== undefined) return { ok: false, error: `refused task ${task.name}: ${refused}` };
  try {
    return { ok: true, value: await options.run(task.name, task.input) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * A finished job's answer is worth keeping through a dropped connection: try again for a
 * while (the heartbeat timeout bounds it: after that the job runs elsewhere anyway).
 */
async function completeWithRetry(
  boss: PgBoss,
  id: string,
  output: object,
  options: ServeOptions,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await boss.complete(QUEUE, id, output);
      return;
    } catch (error) {
      options.onEvent({ kind: 'trouble', error: error as Error });
      if (attempt >= 30) return;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
