import { UsageError } from '../../errors.ts';
import { toCommonConfig, type CommonArgs } from '../../config.ts';
import { declareOptions, withDefaults, type ArgsOf, type OptionTable } from '../../option-table.ts';
import type { SumConfig } from '../../sum/config.ts';
import { INT64_MAX, INT64_MIN, MAX_LENGTH, parseInteger } from '../../sum/plan.ts';
import { defineCommand } from '../command.ts';
import type { SumOutcome } from './run.ts';

/** N when neither N nor --start/--end is given, as the help shows it. */
const DEFAULT_N = '1e8';

const RANGE = 'Range:';
const BENCH = 'Benchmark:';

/**
 * Every option of `crew sum`, its default and help written once. N, --start and --end have
 * no default in the table: the config must see which of them were given.
 */
const sumOptions = {
  n: {
    positional: true,
    type: 'string',
    describe: 'Count of integers to add, from 0 (100000000, 1e8, 100_000_000)',
    defaultDescription: DEFAULT_N,
  },
  start: { group: RANGE, type: 'string', describe: 'First integer (inclusive)', requiresArg: true },
  end: { group: RANGE, type: 'string', describe: 'Last integer (exclusive)', requiresArg: true },
  bench: {
    group: BENCH,
    type: 'boolean',
    default: false,
    describe: 'Time serial, threads and processes for 1..workers side by side',
  },
  repeat: {
    group: BENCH,
    type: 'number',
    default: 5,
    describe: 'Timed runs per configuration with --bench',
    requiresArg: true,
  },
} as const satisfies OptionTable;

export type SumArgs = ArgsOf<typeof sumOptions> & CommonArgs;

/** Validates the command line into a config; every mistake is a UsageError saying why. */
export function toSumConfig(given: SumArgs): SumConfig {
  const common = toCommonConfig(given, { runtime: 'thread' });
  const args = withDefaults(sumOptions, given);
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
          ? bound('N', DEFAULT_N)
          : undefined;
  if (end === undefined) throw new UsageError('--start needs --end');
  if (end < start) throw new UsageError(`--end (${end}) is less than --start (${start})`);
  if (end - start > MAX_LENGTH) {
    throw new UsageError(`the range holds ${end - start} numbers; at most 2^53 are allowed`);
  }
  const repeat = args.bench ? args.repeat : undefined;
  if (repeat !== undefined && !(Number.isSafeInteger(repeat) && repeat >= 1 && repeat <= 1000)) {
    throw new UsageError(`--repeat must be a whole number from 1 to 1000; got "${repeat}"`);
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
    declareOptions(y, sumOptions)
      .example('$0 sum 1e9', 'Sum [0, 1e9) on every core: 499999999500000000')
      .example('$0 sum --start -1000000 --end 1000001', 'Sum a signed range: 0')
      .example('$0 sum 1e9 --runtime process --workers 2', 'Two child processes')
      .example('$0 sum --bench 1e9 --repeat 3', 'Serial vs threads vs processes'),
  toConfig: toSumConfig,
  progress: (config) =>
    config.bench ? 'benchmarking' : `adding ${config.range.end - config.range.start} integers`,
  load: () => import('./run.ts'),
});
