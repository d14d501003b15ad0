/**
 * The queue runtime, worker side: takes jobs from crew's queue while it has free slots,
 * checks every task (only names and inputs `accept` allows run: a row in a table is not
 * code), runs them on the given local pool, sends heartbeats while they run, completes the
 * job with every outcome, and tells the job's run that it finished. A job whose run is gone
 * (its coordinator stopped beating) is dropped with the rest of that run's jobs; a job that
 * is cancelled, or taken elsewhere, while it runs has its tasks stopped.
 */
import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { listen, openQueue, sql } from './connect.ts';
import { beatWorker, dropJobsOf, preparePresence, runIsAlive } from './presence.ts';
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
  /** This worker's version: it runs only jobs sent by the same one. */
  readonly version: string;
  /** Jobs run at once. */
  readonly slots: number;
  /** Runs one accepted task (on the worker's local pool); `signal` stops it. */
  readonly run: (name: string, input: unknown, signal: AbortSignal) => Promise<unknown>;
  /** Why a task must not run, or undefined when it may. */
  readonly accept: (name: string, input: unknown) => string | undefined;
  /** Aborting stops taking jobs; the jobs running finish first. */
  readonly signal: AbortSignal;
  readonly onEvent: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  /** Connected, crew's tables in place: taking jobs from now on. */
  | { readonly kind: 'serving' }
  | { readonly kind: 'job-started'; readonly tasks: readonly QueueTask[] }
  | { readonly kind: 'job-done'; readonly tasks: number; readonly failed: number }
  /** A job that started and was stopped: cancelled, taken elsewhere, or its run gone. */
  | { readonly kind: 'job-stopped'; readonly why: string }
  | { readonly kind: 'refused'; readonly task: string; readonly reason: string }
  | { readonly kind: 'dropped'; readonly jobs: number; readonly why: string }
  | { readonly kind: 'trouble'; readonly error: Error };

/** How often an idle worker looks for jobs when no notice wakes it. */
const IDLE_POLL_MS = 500;

/** A job as pg-boss's fetch hands it out: its id and attempt fence the calls that settle it. */
interface Fetched {
  readonly id: string;
  readonly retryCount: number;
  readonly data: unknown;
  readonly heartbeatSeconds?: number | null;
}

/** Serves jobs until the signal aborts and the running ones are done. */
export async function serveQueue(options: ServeOptions): Promise<void> {
  const trouble = (error: Error): void => options.onEvent({ kind: 'trouble', error });
  const boss = await openQueue(options.url, trouble, preparePresence, {
    signal: options.signal,
    onRetry: trouble,
  });
  const running = new Set<Promise<void>>();
  const presence = beatWorker(
    boss,
    { id: randomUUID(), version: options.version, jobs: () => running.size },
    trouble,
  );
  const serving: Serving = { ...options, alive: aliveRuns(boss) };
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
  options.onEvent({ kind: 'serving' });
  try {
    while (!options.signal.aborted) {
      const free = options.slots - running.size;
      let jobs: Fetched[] = [];
      nudged = false;
      if (free > 0) {
        try {
          jobs = await boss.fetch(QUEUE, { batchSize: free });
        } catch (error) {
          trouble(error as Error);
        }
      }
      for (const job of jobs) {
        const done = runJob(boss, job, serving).finally(() => {
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
    await presence.stop();
    await listener.close();
    await boss.stop({ graceful: false, timeout: 5_000 }).catch(() => undefined);
  }
}

/** The options, and whether a run still beats (asked at most once a second per run). */
interface Serving extends ServeOptions {
  readonly alive: (run: string) => Promise<boolean>;
}

function aliveRuns(boss: PgBoss): (run: string) => Promise<boolean> {
  const known = new Map<string, { alive: boolean; until: number }>();
  return async (run) => {
    const now = Date.now();
    const cached = known.get(run);
    if (cached && cached.until > now) return cached.alive;
    // A query that fails says nothing of the run: take it as alive, and ask again next time.
    const alive = await runIsAlive(boss, run).catch(() => undefined);
    if (alive === undefined) return true;
    if (known.size > 1000) known.clear();
    known.set(run, { alive, until: now + 1_000 });
    return alive;
  };
}

/** Runs one job's tasks, keeping its heartbeat, and completes it with their outcomes. */
async function runJob(boss: PgBoss, job: Fetched, options: Serving): Promise<void> {
  let decoded: ReturnType<typeof decodeJob>;
  try {
    decoded = decodeJob(job.data);
  } catch (error) {
    // Not a crew job: no retry will make it one.
    await boss.complete(QUEUE, job, encodeOutcomes([])).catch(() => undefined);
    options.onEvent({ kind: 'dropped', jobs: 1, why: (error as Error).message });
    return;
  }
  if (!(await options.alive(decoded.run))) {
    const mine = (await boss.cancel(QUEUE, job.id).catch(() => ({}))) as { affected?: number };
    const others = await dropJobsOf(boss, decoded.run).catch(() => 0);
    options.onEvent({
      kind: 'dropped',
      jobs: (mine.affected ?? 1) + others,
      why: 'the run that sent them has stopped',
    });
    return;
  }
  const stop = new AbortController();
  const watch = watchJob(boss, job, decoded.run, stop, options);
  try {
    options.onEvent({ kind: 'job-started', tasks: decoded.tasks });
    const outcomes = await Promise.all(
      decoded.tasks.map((task) => runTask(task, decoded.version, stop.signal, options)),
    );
    // Cancelled, or its run gone, or taken elsewhere after a missed heartbeat: no answer.
    if (stop.signal.aborted) {
      options.onEvent({ kind: 'job-stopped', why: (stop.signal.reason as Error).message });
      return;
    }
    await completeWithRetry(boss, job, encodeOutcomes(outcomes), options);
    await sql(boss, 'SELECT pg_notify($1, $2)', [DONE_CHANNEL, `${decoded.run} ${job.id}`]).catch(
      () => undefined,
    );
    const failed = outcomes.filter((o) => !o.ok).length;
    options.onEvent({ kind: 'job-done', tasks: outcomes.length, failed });
  } finally {
    watch.stop();
  }
}

/**
 * Sends the job's heartbeat, fenced to the attempt this worker fetched, and stops its tasks
 * when the beat finds the job no longer this worker's (cancelled, or given to another worker
 * after a heartbeat it missed) or its run gone.
 */
function watchJob(
  boss: PgBoss,
  job: Fetched,
  run: string,
  stop: AbortController,
  options: Serving,
): { stop(): void } {
  const everyMs = job.heartbeatSeconds ? (job.heartbeatSeconds * 1000) / 3 : 10_000;
  const check = async (): Promise<void> => {
    // pg-boss's type leaves the answer's fields out; it has `affected`, the rows touched.
    const touched = (await boss.touch(QUEUE, job)) as { affected?: number };
    if (touched.affected === 0) {
      stop.abort(new Error('the job was cancelled or taken elsewhere'));
    } else if (!(await runIsAlive(boss, run).catch(() => true))) {
      stop.abort(new Error('the run that sent it has stopped'));
      await boss.cancel(QUEUE, job.id);
      await dropJobsOf(boss, run);
    }
  };
  const timer = setInterval(
    () => void check().catch((error: Error) => options.onEvent({ kind: 'trouble', error })),
    everyMs,
  );
  return { stop: () => clearInterval(timer) };
}

async function runTask(
  task: QueueTask,
  version: string,
  signal: AbortSignal,
  options: ServeOptions,
): Promise<TaskOutcome> {
  const refused =
    version !== options.version
      ? `this worker runs crew ${options.version}, the run is crew ${version.slice(0, 40)}`
      : options.accept(task.name, task.input);
  if (refused !== undefined) {
    options.onEvent({ kind: 'refused', task: task.name, reason: refused });
    return { ok: false, error: `refused task ${task.name.slice(0, 40)}: ${refused}` };
  }
  try {
    return { ok: true, value: await options.run(task.name, task.input, signal) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * A finished job's answer is worth keeping through a dropped connection: try again for a
 * while (the heartbeat timeout bounds it: after that the job runs elsewhere anyway, and the
 * fence refuses this attempt's answer).
 */
async function completeWithRetry(
  boss: PgBoss,
  job: Fetched,
  output: object,
  options: ServeOptions,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await boss.complete(QUEUE, job, output);
      return;
    } catch (error) {
      options.onEvent({ kind: 'trouble', error: error as Error });
      if (attempt >= 30) return;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
