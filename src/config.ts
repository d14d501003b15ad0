import { defaultWorkers, runtimes, type Runtime } from './pool/runtime.ts';
import { UsageError } from './errors.ts';
import type { QueueOptions } from './pool/queue/backend.ts';
import { queueUrlProblem } from './pool/queue/url.ts';
import pkg from '../package.json' with { type: 'json' };
import { withDefaults, type ArgsOf, type OptionTable } from './option-table.ts';

/**
 * The most workers a run may start: 8 per core (at least 16). More only costs memory (each
 * worker is a V8 heap: `-w 256` on 2 cores took 3 GB) and time switching between them.
 */
const maxWorkers = (): number => Math.max(16, 8 * defaultWorkers());

/** Seconds without a heartbeat before a queued task runs again elsewhere. */
const DEFAULT_TASK_TIMEOUT = 30;

/** The help group of the options every command shares: listed after the command's own. */
export const COMMON_GROUP = 'Common options:';

/**
 * The options every command shares. `--runtime` and `--workers` have no default here: each
 * command gives its own to toCommonConfig.
 */
export const commonOptions = {
  workers: {
    group: COMMON_GROUP,
    alias: 'w',
    type: 'string',
    describe: `Workers in the pool (1-${maxWorkers()})`,
    defaultDescription: 'one per core; download-csv: one fewer',
    requiresArg: true,
    coerce: parseWorkers,
  },
  runtime: {
    group: COMMON_GROUP,
    type: 'string',
    choices: runtimes,
    describe: 'Where tasks run: worker threads, child processes, or inline (serial baseline)',
    requiresArg: true,
  },
  json: {
    group: COMMON_GROUP,
    type: 'boolean',
    default: false,
    describe: 'Print one JSON document on stdout',
  },
  quiet: {
    group: COMMON_GROUP,
    alias: 'q',
    type: 'boolean',
    default: false,
    describe: 'No progress on stderr',
  },
  debug: {
    group: COMMON_GROUP,
    type: 'boolean',
    default: false,
    describe: 'Show stack traces for errors',
  },
  queue: {
    group: COMMON_GROUP,
    type: 'string',
    describe: 'Run tasks on the workers of this Postgres queue (or CREW_QUEUE; see crew worker)',
    requiresArg: true,
  },
  // No default in the table: toQueueOptions must see whether it was given (it needs --queue).
  'task-timeout': {
    group: COMMON_GROUP,
    type: 'string',
    describe: "With --queue: seconds without a worker's heartbeat before its task runs elsewhere",
    defaultDescription: String(DEFAULT_TASK_TIMEOUT),
    requiresArg: true,
  },
} as const satisfies OptionTable;

/** The common options as a command is handed them. */
export type CommonArgs = ArgsOf<typeof commonOptions>;

/** Options every command shares, validated once from the command line. */
export interface CommonConfig {
  readonly workers: number;
  readonly runtime: Runtime;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly debug: boolean;
  /** `--queue` (or CREW_QUEUE): tasks go to the workers of this queue, not local ones. */
  readonly queue?: QueueOptions | undefined;
}

/**
 * Builds the shared config; `defaults` are the command's own: its runtime (threads for I/O,
 * ...) and its worker count (one per core unless the command says otherwise).
 */
export function toCommonConfig(
  given: CommonArgs,
  defaults: { readonly runtime: Runtime; readonly workers?: number },
  env: NodeJS.ProcessEnv = process.env,
): CommonConfig {
  const args = withDefaults(commonOptions, given);
  return {
    workers: args.workers ?? defaults.workers ?? defaultWorkers(),
    // yargs checks the choices; withDefaults refuses two of them.
    runtime: args.runtime ?? defaults.runtime,
    json: args.json,
    quiet: args.quiet,
    debug: args.debug,
    queue: toQueueOptions(args, env),
  };
}

/** `--queue URL` or CREW_QUEUE, and `--task-timeout`; undefined for a local run. */
export function toQueueOptions(
  args: Pick<CommonArgs, 'queue' | 'taskTimeout'>,
  env: NodeJS.ProcessEnv,
): QueueOptions | undefined {
  const url = args.queue ?? (env['CREW_QUEUE'] || undefined);
  if (url === undefined) {
    if (args.taskTimeout !== undefined) throw new UsageError('--task-timeout needs --queue');
    return undefined;
  }
  const problem = queueUrlProblem(url);
  if (problem) throw new UsageError(problem);
  // pg-boss checks heartbeats no more often than every 10 s.
  const taskTimeoutSeconds = wholeNumber(
    '--task-timeout',
    args.taskTimeout ?? DEFAULT_TASK_TIMEOUT,
    10,
    24 * 60 * 60,
  );
  return { url, taskTimeoutSeconds, version: pkg.version };
}

/** Parses `--workers`: a whole number from 1 to maxWorkers(). */
function parseWorkers(value: unknown): number {
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  const max = maxWorkers();
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new UsageError(
      `--workers must be a whole number from 1 to ${max} (8 per core here); got "${text}"`,
    );
  }
  return n;
}

/** A whole-number option: digits only (no 1e2, 0x10 or 1.0), from `min` to `max`. */
export function wholeNumber(
  flag: string,
  value: string | number,
  min: number,
  max: number,
): number {
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}; got "${text}"`);
  }
  return n;
}

/**
 * A size option: "4096", "512K", "64M", "1g", "2.5MiB" (binary units) -> bytes, at least 1.
 * `examples` goes into the message for anything else.
 */
export function parseSize(flag: string, text: string, examples: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(?:([kmg])i?)?b?$/i.exec(text.trim());
  const scale = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[match?.[2]?.toLowerCase() ?? ''] ?? 1;
  const bytes = match ? Math.round(Number(match[1]) * scale) : NaN;
  if (!(Number.isSafeInteger(bytes) && bytes >= 1)) {
    throw new UsageError(`${flag} must be a size such as ${examples}; got "${text}"`);
  }
  return bytes;
}
