/**
 * The queue runtime, coordinator side: `pool.run` calls are gathered into jobs (as many
 * tasks as one worker runs at once), sent to crew's pg-boss queue, and settled when a
 * worker completes the job. Workers NOTIFY the run when they finish a job; the coordinator
 * then reads every settled job of the run in one query (and every second anyway, in case a
 * notice was lost or a job failed for good without a worker to say so). The run beats in
 * crew.runs while it waits (presence.ts), so that workers drop its jobs once it is gone.
 * Sending goes on through a restart of the database, as collecting does.
 */
import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { printable } from '../../ui/printable.ts';
import type { Backend } from '../backend.ts';
import { isPassing, listen, openQueue, sql, START_PATIENCE_MS, type Listener } from './connect.ts';
import { beatRun, liveWorkers, preparePresence } from './presence.ts';
import {
  decodeOutcomes,
  DONE_CHANNEL,
  encodeJob,
  MAX_ANSWER_TEXT,
  MAX_BATCH,
  MAX_FAILURE_TEXT,
  QUEUE,
  TASKS_CHANNEL,
  type QueueTask,
} from './wire.ts';

/** Where and how a pool's tasks go through a queue instead of local workers. */
export interface QueueOptions {
  /** A postgres:// URL (may hold a password: never printed). */
  readonly url: string;
  /** A task whose worker sends no heartbeat for this long runs again elsewhere (>= 10). */
  readonly taskTimeoutSeconds: number;
  /** The sender's version: workers run only jobs of their own version. */
  readonly version: string;
}

/**
 * Why the coordinator must not use `value`, a worker's answer to task `name` with `input`
 * (undefined when it may). The pool knows no task: whoever makes the pool says (tasks/).
 */
export type AnswerCheck = (name: string, input: unknown, value: unknown) => string | undefined;

/** A queue as a pool uses it: every answer goes through `acceptAnswer` first. */
export interface QueuePoolOptions extends QueueOptions {
  readonly acceptAnswer: AnswerCheck;
  /** The largest answer read, as text (default MAX_ANSWER_TEXT; tests make it small). */
  readonly maxAnswerText?: number;
}

/** How long jobs may wait with no worker taking any before the user is told. */
const LONELY_MS = 10_000;
/** How long a partial batch waits for more tasks before it is sent. */
const BATCH_WAIT_MS = 5;
/** Safety net for lost notices and jobs that failed for good. */
const SWEEP_MS = 1_000;

interface Waiter {
  readonly task: QueueTask;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Connects to the queue; `batchSize` tasks at most go in one job. `warn` hears, once, that
 * no worker has taken a job for a while. Aborting `signal` while connecting stops trying.
 */
export async function queueBackend(
  options: QueuePoolOptions,
  batchSize: number,
  warn: ((message: string) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<Backend> {
  const runId = randomUUID();
  let trouble: Error | undefined;
  let told = false;
  const boss = await openQueue(options.url, (error) => (trouble = error), preparePresence, {
    ...(signal ? { signal } : {}),
    onRetry: (error) => {
      if (!told) {
        warn?.(
          `cannot reach the queue yet (${error.message}): trying again for ${START_PATIENCE_MS / 1000} s`,
        );
      }
      told = true;
    },
  });
  const presence = beatRun(boss, runId, (error) => (trouble = error));
  const sent = new Map<string, Waiter[]>();
  let batch: Waiter[] = [];
  let timer: NodeJS.Timeout | undefined;
  let destroyed = false;
  const perJob = Math.max(1, Math.min(MAX_BATCH, batchSize));
  const sender = startSender(boss, options, runId, sent);

  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length > 0) sender.add(batch);
    batch = [];
  };

  const collector = startCollector(options, runId, boss, sent, (error) => (trouble = error));
  const lonely = warn ? watchForWorkers(boss, sent, warn) : undefined;

  return {
    run(name, input) {
      if (destroyed) return Promise.reject(new Error('the queue pool was destroyed'));
      return new Promise((resolve, reject) => {
        batch.push({ task: { name, input }, resolve, reject });
        if (batch.length >= perJob) flush();
        else timer ??= setTimeout(flush, BATCH_WAIT_MS);
      });
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      clearTimeout(timer);
      const stopped = new Error(trouble ? `the queue failed: ${trouble.message}` : 'stopped');
      for (const w of batch) w.reject(stopped);
      sender.stop();
      await sender.drain();
      // Jobs not finished yet belong to a run that is over: take them off the queue.
      const left = [...sent.keys()];
      for (const waiters of sent.values()) for (const w of waiters) w.reject(stopped);
      sent.clear();
      await cancel(boss, left).catch(() => undefined);
      clearInterval(lonely);
      await presence.stop();
      await collector.close();
      await boss.stop({ graceful: false, timeout: 5_000 }).catch(() => undefined);
    },
  };
}

/**
 * Settles finished jobs of `run`. A worker's notice names the job it finished (payload
 * `<run> <job>`), and only the named jobs are read; once a second, and after the listener
 * (re)connects, every job still out is read, in case a notice was lost or a job failed for
 * good with no worker to say so. One query at a time; notices meanwhile wait for the next.
 */
function startCollector(
  options: QueuePoolOptions,
  runId: string,
  boss: PgBoss,
  sent: Map<string, Waiter[]>,
  onTrouble: (error: Error) => void,
): Listener {
  let collecting = false;
  let everything = false;
  const named = new Set<string>();
  const collect = async (): Promise<void> => {
    if (collecting) return;
    collecting = true;
    try {
      while (everything || named.size > 0) {
        const ids = everything ? [...sent.keys()] : [...named].filter((id) => sent.has(id));
        everything = false;
        named.clear();
        await settleFinished(boss, sent, ids, options);
      }
    } catch (error) {
      onTrouble(error as Error);
    } finally {
      collecting = false;
    }
  };
  const listener = listen(
    options.url,
    DONE_CHANNEL,
    (payload) => {
      const [from, job] = payload.split(' ');
      if (payload === '') everything = true;
      else if (from === runId && job !== undefined) named.add(job);
      else return;
      void collect();
    },
    onTrouble,
  );
  const sweep = setInterval(() => {
    everything = sent.size > 0;
    void collect();
  }, SWEEP_MS);
  return {
    async close() {
      clearInterval(sweep);
      await listener.close();
    },
  };
}

/** Most jobs in one INSERT. */
const MAX_INSERT = 500;

/**
 * Sends jobs in as few round trips as it can: one INSERT at a time, of every job made
 * meanwhile, and one NOTIFY for each. (A send per job would queue on the connection pool
 * and time out when a run makes thousands of jobs at once.) An INSERT that fails because
 * the database went away (a restart, a dropped network) is tried again each second until it
 * is back; jobs an INSERT stored before its answer was lost are not stored twice.
 */
function startSender(
  boss: PgBoss,
  options: QueueOptions,
  runId: string,
  sent: Map<string, Waiter[]>,
): { add(job: Waiter[]): void; stop(): void; drain(): Promise<void> } {
  const ready: Waiter[][] = [];
  let sending: Promise<void> = Promise.resolve();
  let stopped = false;
  // Cleared in the same tick the loop sees nothing left, so a job added later starts it again.
  let looping = false;
  const insert = async (jobs: { id: string; waiters: Waiter[] }[]): Promise<void> => {
    const rows = jobs.map(({ id, waiters }) => ({
      id,
      data: encodeJob(
        runId,
        options.version,
        waiters.map((w) => w.task),
      ),
      heartbeatSeconds: options.taskTimeoutSeconds,
      // Heartbeats decide when a worker is gone; expiry only bounds a task that hangs.
      expireInSeconds: 24 * 60 * 60,
    }));
    for (;;) {
      try {
        await boss.insert(QUEUE, rows);
        return;
      } catch (error) {
        // A retry after an INSERT whose answer was lost finds its ids taken: it was stored.
        if ((error as { code?: string }).code === '23505') return;
        if (stopped || !isPassing(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };
  const loop = async (): Promise<void> => {
    for (;;) {
      if (ready.length === 0) {
        looping = false;
        return;
      }
      const jobs = ready.splice(0, MAX_INSERT).map((waiters) => ({ id: randomUUID(), waiters }));
      try {
        await insert(jobs);
        for (const { id, waiters } of jobs) sent.set(id, waiters);
        await sql(boss, 'SELECT pg_notify($1, $2)', [TASKS_CHANNEL, runId]).catch(() => undefined);
      } catch (error) {
        for (const { waiters } of jobs) for (const w of waiters) w.reject(error);
      }
    }
  };
  return {
    add(job) {
      ready.push(job);
      if (looping) return;
      looping = true;
      sending = loop();
    },
    stop() {
      stopped = true;
    },
    async drain() {
      await sending;
    },
  };
}

/**
 * Says once when jobs have waited LONELY_MS with none of them taken: most often no `crew
 * worker` is serving the queue. The count of workers that beat lately goes with it.
 */
function watchForWorkers(
  boss: PgBoss,
  sent: Map<string, Waiter[]>,
  warn: (message: string) => void,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    if (sent.size === 0) return;
    void (async () => {
      const [row] = (await sql(
        boss,
        `SELECT count(*) FILTER (WHERE state = 'active')::int AS active,
                count(*) FILTER (WHERE state > 'active')::int AS settled,
                extract(epoch FROM now() - min(created_on))::float8 AS waited
           FROM pgboss.job WHERE name = $1 AND id = ANY($2::uuid[])`,
        [QUEUE, [...sent.keys()].slice(0, 1000)],
      )) as { active: number; settled: number; waited: number | null }[];
      if (!row || row.active > 0 || row.settled > 0 || (row.waited ?? 0) * 1000 < LONELY_MS) return;
      clearInterval(timer);
      const workers = await liveWorkers((text, values) => sql(boss, text, values)).catch(() => []);
      warn(
        `no worker has taken a job for ${Math.round(row.waited!)} s: is \`crew worker\` running? ` +
          `(${workers.length} worker${workers.length === 1 ? '' : 's'} serving this queue)`,
      );
    })().catch(() => undefined);
  }, 2_000);
  timer.unref();
  return timer;
}

async function cancel(boss: PgBoss, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await boss.cancel(QUEUE, [...ids]);
}

interface FinishedRow {
  readonly id: string;
  readonly state: string;
  /** Null when the output is bigger than MAX_ANSWER_TEXT: it is not fetched at all. */
  readonly output: unknown;
  /** The output's size as text, in bytes. */
  readonly size: number | null;
  readonly retry_count: number;
}

/**
 * Reads which of `ids` finished, in one query, and settles their tasks: each answer decoded
 * (wire.ts) and checked by `acceptAnswer` before its task's caller sees it. A row's output is
 * fetched only when it is no bigger than MAX_ANSWER_TEXT: a forged row of a gigabyte stays in
 * the database, and its job's tasks fail.
 */
async function settleFinished(
  boss: PgBoss,
  sent: Map<string, Waiter[]>,
  ids: readonly string[],
  options: QueuePoolOptions,
): Promise<void> {
  const max = options.maxAnswerText ?? MAX_ANSWER_TEXT;
  if (ids.length === 0) return;
  const rows = (await sql(
    boss,
    `SELECT id, state, retry_count, octet_length(output::text) AS size,
            CASE WHEN octet_length(output::text) <= $3 THEN output END AS output
       FROM pgboss.job
      WHERE name = $1 AND id = ANY($2::uuid[]) AND state IN ('completed', 'failed', 'cancelled')`,
    // The text of `{"outcomes": "<base64>"}`: the base64, and a few bytes around it.
    [QUEUE, ids, max + 64],
  )) as FinishedRow[];
  for (const row of rows) {
    const waiters = sent.get(row.id);
    if (!waiters) continue;
    sent.delete(row.id);
    if (row.state !== 'completed') {
      const error = new Error(jobFailure(row));
      for (const w of waiters) w.reject(error);
      continue;
    }
    settleJob(row, waiters, options.acceptAnswer, max);
  }
}

/** Settles each task of a completed job with its outcome, if the answer is one crew takes. */
function settleJob(
  row: FinishedRow,
  waiters: readonly Waiter[],
  acceptAnswer: AnswerCheck,
  max: number,
): void {
  const job = printable(String(row.id).slice(0, 40));
  const refused = (why: string): Error =>
    new Error(`refused the answer of queue job ${job}: ${printable(why)}`);
  let outcomes;
  try {
    if (row.output === null && (row.size ?? 0) > 0) {
      throw new Error(`the worker sent an answer of ${row.size} bytes (at most ${max})`);
    }
    outcomes = decodeOutcomes(row.output, waiters.length, max);
  } catch (error) {
    const why = refused((error as Error).message);
    for (const w of waiters) w.reject(why);
    return;
  }
  waiters.forEach((w, i) => {
    const outcome = outcomes[i]!;
    if (!outcome.ok) return w.reject(new Error(printable(outcome.error)));
    let why: string | undefined;
    try {
      why = acceptAnswer(w.task.name, w.task.input, outcome.value);
    } catch (error) {
      // A check must not throw, but an answer it did not foresee must not stop the run.
      why = `it could not be checked (${(error as Error).message})`;
    }
    if (why === undefined) w.resolve(outcome.value);
    else w.reject(refused(`task ${w.task.name}: ${why}`));
  });
}

/** Why a job ended without an answer, in words (the row's own reason cut and escaped). */
function jobFailure(row: FinishedRow): string {
  if (row.state === 'cancelled') return 'the job was cancelled on the queue';
  const output = row.output as { message?: unknown; value?: unknown } | null;
  const why =
    typeof output?.message === 'string'
      ? output.message
      : typeof output?.value === 'string'
        ? output.value
        : 'no worker finished it';
  const attempts = Number.isSafeInteger(row.retry_count) ? row.retry_count + 1 : '?';
  return `failed on the queue after ${attempts} attempts: ${printable(why.slice(0, MAX_FAILURE_TEXT))}`;
}
