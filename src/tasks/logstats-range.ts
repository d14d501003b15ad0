/** `logstatsRange`: counts one file or byte range of an access log. */
import { resolve } from 'node:path';
import { reasonOf } from '../errors.ts';
import { pathText } from '../logstats/file-names.ts';
import {
  IP_BLOCK_SYNTAX,
  MAX_STATUSES,
  parseIpBlock,
  parseStatusList,
  STATUS_SYNTAX,
  type TimeBound,
} from '../logstats/filter-values.ts';
import { PANEL_NAMES } from '../logstats/panels.ts';
import { FORMAT_NAMES, type LineRules } from '../logstats/formats/index.ts';
import { compileLogFormat, type LogFormatSpec } from '../logstats/formats/custom.ts';
import { MAX_EXCLUDED_BLOCKS, type FilterRules } from '../logstats/line-filter.ts';
import type { RangeResult } from '../logstats/read.ts';
import type { ScanRange } from '../logstats/split.ts';
import { printable } from '../ui/printable.ts';
import {
  absolutePath,
  bool,
  count,
  integer,
  list,
  object,
  oneOf,
  optional,
  text,
  type Check,
} from './check.ts';
import { isInside } from './scope.ts';
import { tallyFields, tallyRule } from './tally-check.ts';
import { defineTask, lazily } from './task.ts';

export interface LogstatsInput {
  readonly range: ScanRange;
  readonly top: boolean;
  readonly rules?: LineRules | undefined;
}

const reader = lazily(() => import('../logstats/read.ts'));

/** A byte range of a file (logstatsFiles checks each of its files with it too). */
export const rangeShape = object<ScanRange>(
  { file: count, path: absolutePath, start: count, end: count, gzip: bool },
  (range) => (range.start > range.end ? 'start must not pass end' : undefined),
);

/** One end of --since/--until's window. */
const timeBound = optional(object<TimeBound>({ seconds: integer, instant: bool }));

/** One --exclude-ip block, as the command line wrote it (canonical). */
const ipBlock: Check = (value) => {
  if (typeof value !== 'string') return 'must be a string';
  const block = parseIpBlock(value);
  return typeof block === 'string' ? `must be ${IP_BLOCK_SYNTAX}: ${block}` : undefined;
};

/** One --status code or class, as the command line wrote it (canonical). */
const statusItem: Check = (value) => {
  if (typeof value !== 'string') return 'must be a string';
  const parsed = parseStatusList(value);
  return typeof parsed === 'string' || parsed.length !== 1 || parsed[0] !== value
    ? `must be one of ${STATUS_SYNTAX}`
    : undefined;
};

/** What is left out (--since, --until, --exclude-ip, --status, --ignore-crawlers). */
const filterShape = optional(
  object<FilterRules>({
    since: timeBound,
    until: timeBound,
    excludeIps: list(ipBlock, MAX_EXCLUDED_BLOCKS),
    statuses: optional(list(statusItem, MAX_STATUSES)),
    ignoreCrawlers: optional(bool),
  }),
);

/** --log-format and its time formats: text that compiles, as the command line checked it. */
const logFormatShape: Check = (value) =>
  object<LogFormatSpec>(
    {
      pattern: text,
      dateFormat: optional(text),
      timeFormat: optional(text),
      datetimeFormat: optional(text),
    },
    (spec) => {
      const compiled = compileLogFormat(spec);
      return typeof compiled === 'string'
        ? `must be a log format crew reads: ${compiled}`
        : undefined;
    },
  )(value);

/** How lines are read (--by, --utc, --format, --ip-field, --time-field) and filtered. */
export const rulesShape: Check = optional(
  object<LineRules>({
    by: oneOf(undefined, 'day', 'hour'),
    utc: bool,
    format: oneOf(...FORMAT_NAMES),
    ipField: optional(text),
    timeField: optional(text),
    filter: filterShape,
    panels: optional(list(oneOf(...PANEL_NAMES), PANEL_NAMES.length)),
    logFormat: optional(logFormatShape),
  }),
);

const shape = object<LogstatsInput>({ range: rangeShape, top: bool, rules: rulesShape });

/** Why a worker limited to `readable` folders must not read `path`, if it must not. */
export const unreadable = (
  field: string,
  path: string | Buffer,
  readable: readonly string[] | undefined,
): string | undefined =>
  readable === undefined || isInside(path, readable)
    ? undefined
    : `"${field}" is not inside a folder this worker may read (crew worker --allow-read)`;

/**
 * A range's result as the coordinator takes it from a queue worker: the parts asked for
 * (tally-check.ts), and where its rest starts, if it stopped early, inside the range and
 * past its start (an answer that said otherwise would count bytes twice, or forever).
 */
const resultOf = ({ range, top, rules }: LogstatsInput): Check =>
  object<RangeResult>(
    {
      ...tallyFields({ top, rules }),
      next: optional((value) =>
        Number.isSafeInteger(value) &&
        (value as number) > range.start &&
        (value as number) < range.end
          ? undefined
          : `must lie inside the range asked (${range.start} to ${range.end})`,
      ),
    },
    tallyRule,
  );

export const logstatsRange = defineTask<LogstatsInput, RangeResult>({
  async run(input, signal) {
    const { scanRange, RANGE_TABLE_BUDGET } = await reader();
    try {
      return await scanRange(input.range, input.top, input.rules, signal, RANGE_TABLE_BUDGET);
    } catch (error) {
      // A short reason that survives cloning back to the parent (or the queue).
      throw new Error(reasonOf(error), { cause: error });
    }
  },
  accept: (input, scope) =>
    shape(input) ?? unreadable('range.path', (input as LogstatsInput).range.path, scope.readable),
  acceptResult: (result, input) => resultOf(input)(result),
  // Another machine has another working directory; a name that is not UTF-8 stays bytes.
  portable: (input) => ({ ...input, range: portableRange(input.range) }),
  describe: ({ range }) =>
    `logstats ${printable(pathText(range.path))} [${range.start}, ${range.end})`,
});

/** A range with its path made absolute, for a worker on another machine. */
export const portableRange = (range: ScanRange): ScanRange => ({
  ...range,
  path: absolute(range.path),
});

function absolute(path: string | Buffer): string | Buffer {
  if (typeof path === 'string') return resolve(path);
  if (path[0] === 0x2f) return path;
  return Buffer.concat([Buffer.from(`${process.cwd()}/`), path]);
}
