import { UsageError } from '../../errors.ts';
import { toCommonConfig, type CommonArgs } from '../../config.ts';
import type { SumConfig } from '../../sum/config.ts';
import { INT64_MAX, INT64_MIN, MAX_LENGTH, parseInteger } from '../../sum/plan.ts';
import { defineCommand } from '../command.ts';
import type { SumOutcome } from './run.ts';

export interface SumArgs extends CommonArgs {
  readonly n?: string | undefined;
  readonly start?: string | undefined;
  readonly end?: string | undefined;
  readonly bench?: boolean | undefined;
  readonly repeat?: number | undefined;
}

export const DEFAULT_N = 100_000_000n;
export const DEFAULT_REPEAT = 5;

/** Validates the command line into a config; every mistake is a UsageError saying why. */
export function toSumConfig(args: SumArgs): SumConfig {
  const common = toCommonConfig(args, { runtime: 'thread' });
  if (args.n !== undefined && (args.start !== undefined || args.end !== undefined)) {
    throw new UsageError('give either N or --start/--end, not both');
  }
  const start = args.start === undefined ? 0n : bound('--start', args.start);
  const end =
    args.end !== undefined
      ? bound('--end', args.end)
      : args.n !== undefined
        ? bound('N', args.n)
        : args.start === undefined
          ? DEFAULT_N
          : undefined;
  if (end === undefined) throw new UsageError('--start needs --end');
  if (end < start) throw new UsageError(`--end (${end}) is less than --start (${start})`);
  if (end - start > MAX_LENGTH) {
    throw new UsageError(`the range holds ${end - start} numbers; at most 2^53 are allowed`);
  }
  const repeat = args.bench ? (args.repeat ?? DEFAULT_REPEAT) : undefined;
  if (repeat !== undefined && !(Number.isSafeInteger(repeat) && repeat >= 1 && repeat <= 1000)) {
    throw new UsageError(`--repeat must be a whole number from 1 to 1000; got "${args.repeat}"`);
  }
  return { ...common, range: { start, end }, bench: repeat === undefined ? undefined : { repeat } };
}

function bound(name: string, text: string): bigint {
  const value = parseInteger(text);
  if (value === undefined) {
    throw new UsageError(
      `${name} must be an integer such as 100000000, 1e8 or 100_000_000; got "${text}"`,
    );
  }
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new UsageError(`${name} must fit a signed 64-bit integer; got ${value}`);
  }
  return value;
}

/** `crew sum`: the declaration; the work is in run.ts. */
export const sumCommand = defineCommand<SumArgs, SumConfig, SumOutcome>({
  usage: 'sum [n]',
  describe: 'Add every integer in [0, N) over all cores, exactly: a CPU benchmark',
  options: (y) =>
    y
      .positional('n', {
        type: 'string',
        describe: 'Count of integers to add, from 0 (100000000, 1e8, 100_000_000) [default: 1e8]',
      })
      .option('start', {
        type: 'string',
        describe: 'First integer (inclusive)',
        requiresArg: true,
      })
      .option('end', {
        type: 'string',
        describe: 'Last integer (exclusive)',
        requiresArg: true,
      })
      .option('bench', {
        type: 'boolean',
        describe: 'Time serial, threads and processes for 1..workers side by side',
      })
      .option('repeat', {
        type: 'number',
        describe: `Timed runs per configuration with --bench [default: ${DEFAULT_REPEAT}]`,
        requiresArg: true,
      })
      .example('$0 sum 1e9', 'Sum [0, 1e9) on every core: 499999999500000000')
      .example('$0 sum --start -1000000 --end 1000001', 'Sum a signed range: 0')
      .example('$0 sum 1e9 --runtime process --workers 2', 'Two child processes')
      .example('$0 sum --bench 1e9 --repeat 3', 'Serial vs threads vs processes'),
  toConfig: toSumConfig,
  progress: (config) =>
    config.bench ? 'benchmarking' : `adding ${config.range.end - config.range.start} integers`,
  load: () => import('./run.ts'),
});
