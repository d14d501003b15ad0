import { UsageError } from '../../errors.ts';
import { toCommonConfig, type CommonArgs, type CommonConfig } from '../../config.ts';
import { declareOptions, withDefaults, type ArgsOf, type OptionTable } from '../../option-table.ts';
import { queueUrlProblem } from '../../pool/queue/url.ts';
import { defineCommand } from '../command.ts';
import type { QueueStatus } from './run.ts';

/** `crew queue`'s arguments; the rest are the common options. */
const queueOptions = {
  action: { positional: true, type: 'string', choices: ['status'], describe: 'What to do' },
  url: {
    positional: true,
    type: 'string',
    describe: 'The queue',
    defaultDescription: 'CREW_QUEUE',
  },
} as const satisfies OptionTable;

export type QueueArgs = ArgsOf<typeof queueOptions> & CommonArgs;

export interface QueueStatusConfig extends CommonConfig {
  readonly url: string;
}

/** Validates `crew queue status [url]` (the URL from CREW_QUEUE when not given). */
export function toQueueStatusConfig(
  args: QueueArgs,
  env: NodeJS.ProcessEnv = process.env,
): QueueStatusConfig {
  const { action, url: given } = withDefaults(queueOptions, args);
  if (action !== 'status') {
    throw new UsageError(`crew queue knows one action, status; got "${action}"`);
  }
  const common = toCommonConfig({ ...args, queue: undefined }, { runtime: 'inline' }, {});
  const url = given ?? args.queue ?? (env['CREW_QUEUE'] || undefined);
  if (url === undefined) throw new UsageError('name the queue: crew queue status postgres://...');
  const problem = queueUrlProblem(url);
  if (problem) throw new UsageError(problem);
  return { ...common, url, queue: undefined };
}

/** `crew queue status`: the declaration; the work is in run.ts. */
export const queueCommand = defineCommand<QueueArgs, QueueStatusConfig, QueueStatus>({
  usage: 'queue <action> [url]',
  describe: "Show a Postgres queue's tasks: waiting, active, done, failed",
  options: (y) =>
    declareOptions(y, queueOptions).example(
      '$0 queue status postgres://crew@db/crew',
      'Jobs waiting, running, done, failed',
    ),
  toConfig: (args) => toQueueStatusConfig(args),
  progress: () => 'asking the queue',
  load: () => import('./run.ts'),
});
