import { realpathSync, statSync } from 'node:fs';
import { reasonOf, UsageError } from '../../errors.ts';
import type { WorkerScope } from '../../tasks/scope.ts';
import { toCommonConfig, type CommonArgs, type CommonConfig } from '../../config.ts';
import { declareOptions, withDefaults, type ArgsOf, type OptionTable } from '../../option-table.ts';
import { queueUrlProblem } from '../../pool/queue/url.ts';
import { defineCommand } from '../command.ts';
import type { WorkerResult } from './run.ts';

const SCOPE = 'Scope:';

/**
 * Every option of `crew worker`, its default and help written once. --allow-read has none:
 * without it, a worker reads what its user can.
 */
const workerOptions = {
  url: {
    positional: true,
    type: 'string',
    describe: 'The queue: postgres://user:password@host/db',
    defaultDescription: 'CREW_QUEUE',
  },
  'allow-dir': {
    group: SCOPE,
    type: 'string',
    array: true,
    // One value each time: a greedy list would take whatever follows it too.
    nargs: 1,
    describe:
      'A folder tasks may write in (repeatable); download tasks are refused unless their --out is inside one',
    requiresArg: true,
  },
  'allow-read': {
    group: SCOPE,
    type: 'string',
    array: true,
    nargs: 1,
    describe: 'Only read logs inside these folders (repeatable)',
    defaultDescription: 'any the user can',
    requiresArg: true,
  },
} as const satisfies OptionTable;

export type WorkerArgs = ArgsOf<typeof workerOptions> & CommonArgs;

export interface WorkerConfig extends CommonConfig {
  /** The queue served (may hold a password: never printed). */
  readonly url: string;
  /** Where its tasks may write and read (--allow-dir, --allow-read), as real paths. */
  readonly scope: WorkerScope;
}

/**
 * Validates `crew worker [url]`; the URL may come from CREW_QUEUE instead, which keeps a
 * password off the command line (where `ps` shows it). Child processes by default: most
 * queued work is CPU-bound.
 */
export function toWorkerConfig(
  args: WorkerArgs,
  env: NodeJS.ProcessEnv = process.env,
): WorkerConfig {
  if (args.queue !== undefined)
    throw new UsageError('crew worker takes the queue URL as its argument, not --queue');
  // The worker's own pool is local: the queue is what it serves, not where it sends tasks.
  const common = toCommonConfig({ ...args, queue: undefined }, { runtime: 'process' }, {});
  const url = withDefaults(workerOptions, args).url ?? (env['CREW_QUEUE'] || undefined);
  if (url === undefined)
    throw new UsageError('name the queue: crew worker postgres://... (or set CREW_QUEUE)');
  const problem = queueUrlProblem(url);
  if (problem) throw new UsageError(problem);
  const scope = {
    writable: folders('--allow-dir', args.allowDir ?? []),
    readable: args.allowRead === undefined ? undefined : folders('--allow-read', args.allowRead),
  };
  return { ...common, url, scope, queue: undefined };
}

/** The real paths of folders named on the command line; each must be a folder. */
function folders(flag: string, paths: readonly string[]): string[] {
  return paths.map((path) => {
    try {
      if (!statSync(path).isDirectory()) throw new Error('not a folder');
      return realpathSync(path);
    } catch (error) {
      throw new UsageError(`${flag} ${path}: ${reasonOf(error)}`);
    }
  });
}

/** `crew worker`: the declaration; the work is in run.ts. */
export const workerCommand = defineCommand<WorkerArgs, WorkerConfig, WorkerResult>({
  usage: 'worker [url]',
  describe: 'Serve the tasks of a Postgres queue (crew ... --queue) on this machine until stopped',
  options: (y) =>
    declareOptions(y, workerOptions)
      .example(
        'CREW_QUEUE=postgres://crew:pw@db/crew $0 worker --allow-dir /mnt/data',
        'Serve with one worker per core; downloads only into /mnt/data',
      )
      .example('$0 worker postgres://crew@db/crew -w 8 --runtime thread', 'Eight threads'),
  toConfig: (args) => toWorkerConfig(args),
  progress: () => 'waiting for tasks',
  load: () => import('./run.ts'),
});
