/**
 * What crosses the queue. A job is a batch of pool tasks; its data and its output are
 * JSON (pg-boss stores jsonb) holding V8-serialized values as base64, so BigInt, typed
 * arrays (logstats' IPv4 sets) and Maps keep their types and stay compact, as they do
 * between threads. V8 deserialization builds plain data only: it never runs code.
 */
import { deserialize, serialize } from 'node:v8';

/** The one pg-boss queue every crew run and worker shares. */
export const QUEUE = 'crew-tasks';
/** NOTIFY channel: new jobs wait (wakes idle workers). */
export const TASKS_CHANNEL = 'crew_tasks';
/** NOTIFY channel: payload `<run> <job id>`, a job finished (wakes its coordinator). */
export const DONE_CHANNEL = 'crew_done';

export interface QueueTask {
  readonly name: string;
  readonly input: unknown;
}

export type TaskOutcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** A job's data: which run sent it, from which version of its program, and its tasks. */
export interface JobData {
  readonly run: string;
  /** The sender's version: a worker runs only jobs of its own (tasks change between them). */
  readonly version: string;
  readonly tasks: string;
}

/** Most tasks in one job: what one worker runs at once. */
export const MAX_BATCH = 64;

/**
 * The largest job a worker decodes (its tasks as base64): far above any real batch (64
 * downloads with 8 KB URLs), far below what would run a worker out of memory (a forged job
 * of a million tasks, 78 MB, did, and then every worker it was handed to in turn).
 */
export const MAX_JOB_TEXT = 8 * 2 ** 20;

/**
 * The largest answer the coordinator reads (a job's outcomes as base64): far above a real
 * one (a logstats range stops at 6 million distinct clients, about 50 MB here; a download's
 * answer is a few hundred bytes), half of what Postgres lets a jsonb value hold (256 MB),
 * which a forged row could fill to make every coordinator that reads it decode it. The
 * coordinator asks the database for the size first and fetches no bigger row.
 */
export const MAX_ANSWER_TEXT = 128 * 2 ** 20;

/** The longest reason a failed task's outcome may give (the rest is cut). */
export const MAX_FAILURE_TEXT = 2_000;

/** A completed job's output: one outcome per task, in order. */
export interface JobOutput {
  readonly outcomes: string;
}

const pack = (value: unknown): string => serialize(value).toString('base64');
const unpack = (text: string): unknown => deserialize(Buffer.from(text, 'base64'));

export function encodeJob(run: string, version: string, tasks: readonly QueueTask[]): JobData {
  return { run, version, tasks: pack(tasks) };
}

/**
 * Reads a job's tasks; throws on anything that is not a list of at most MAX_BATCH
 * `{ name, input }`, or is bigger than MAX_JOB_TEXT (checked before decoding it).
 */
export function decodeJob(data: unknown): { run: string; version: string; tasks: QueueTask[] } {
  const job = data as Partial<JobData> | null;
  if (
    typeof job?.run !== 'string' ||
    typeof job.tasks !== 'string' ||
    typeof job.version !== 'string' ||
    job.run.length > 64 ||
    job.version.length > 64
  ) {
    throw new Error('not a crew job');
  }
  if (job.tasks.length > MAX_JOB_TEXT) {
    throw new Error(`not a crew job: ${job.tasks.length} bytes of tasks (at most ${MAX_JOB_TEXT})`);
  }
  let tasks: unknown;
  try {
    tasks = unpack(job.tasks);
  } catch {
    throw new Error('not a crew job');
  }
  if (
    !Array.isArray(tasks) ||
    !tasks.every(
      (t: unknown) =>
        typeof t === 'object' && t !== null && typeof (t as QueueTask).name === 'string',
    )
  ) {
    throw new Error('not a crew job');
  }
  if (tasks.length > MAX_BATCH) {
    throw new Error(`not a crew job: ${tasks.length} tasks (at most ${MAX_BATCH})`);
  }
  return { run: job.run, version: job.version, tasks: tasks as QueueTask[] };
}

/**
 * A job's answer. One the coordinator would not read (over `max`) would fail every task of
 * the job there with only its size: the biggest answers are failed here instead, each with
 * its own size, until the rest fit.
 */
export function encodeOutcomes(outcomes: readonly TaskOutcome[], max = MAX_ANSWER_TEXT): JobOutput {
  const packed = pack(outcomes);
  if (packed.length <= max) return { outcomes: packed };
  const sizes = outcomes.map((outcome) => pack(outcome).length);
  const fitted = [...outcomes];
  let total = packed.length;
  for (const i of sizes.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!)) {
    if (total <= max) break;
    const error = `its answer (${sizes[i]} bytes) is bigger than a coordinator reads (${max})`;
    fitted[i] = { ok: false, error };
    total -= sizes[i]! - pack(fitted[i]).length;
  }
  return { outcomes: pack(fitted) };
}

/**
 * Reads a job's outcomes: `count` tasks were sent, so anything but `count` outcomes, each
 * `{ ok: true, value }` or `{ ok: false, error }` with a string reason, is a broken answer,
 * as is one bigger than MAX_ANSWER_TEXT (checked before decoding). A reason is cut to
 * MAX_FAILURE_TEXT. The values are not looked at here: each task checks its own answers.
 */
export function decodeOutcomes(
  output: unknown,
  count: number,
  max = MAX_ANSWER_TEXT,
): TaskOutcome[] {
  const text = (output as Partial<JobOutput> | null)?.outcomes;
  if (typeof text !== 'string') throw new Error('the worker sent an answer crew cannot read');
  if (text.length > max) {
    throw new Error(`the worker sent an answer of ${text.length} bytes (at most ${max})`);
  }
  let outcomes: unknown;
  try {
    outcomes = unpack(text);
  } catch {
    throw new Error('the worker sent an answer crew cannot read');
  }
  if (!Array.isArray(outcomes) || outcomes.length !== count) {
    throw new Error('the worker sent an answer crew cannot read');
  }
  return outcomes.map((outcome: unknown) => {
    const o = outcome as Partial<Record<'ok' | 'value' | 'error', unknown>> | null;
    const fields = typeof o === 'object' && o !== null ? Object.keys(o).sort().join() : '';
    if (o?.ok === true && fields === 'ok,value') return { ok: true, value: o.value };
    if (o?.ok === false && fields === 'error,ok' && typeof o.error === 'string') {
      return { ok: false, error: o.error.slice(0, MAX_FAILURE_TEXT) };
    }
    throw new Error('the worker sent an answer crew cannot read');
  });
}
