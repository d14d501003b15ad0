/** `logstatsRange`: counts one file or byte range of an access log. */
import { resolve } from 'node:path';
import { reasonOf } from '../errors.ts';
import { pathText } from '../logstats/file-names.ts';
import { LOG_FORMATS } from '../logstats/json-line.ts';
import type { LineRules } from '../logstats/keyed.ts';
import type { ScanRange } from '../logstats/split.ts';
import type { TallyResult } from '../logstats/tally.ts';
import { printable } from '../ui/printable.ts';
import { absolutePath, bool, count, object, oneOf, optional, text } from './check.ts';
import { isInside } from './scope.ts';
import { defineTask, lazily } from './task.ts';

export interface LogstatsInput {
  readonly range: ScanRange;
  readonly top: boolean;
  readonly rules?: LineRules | undefined;
}

const reader = lazily(() => import('../logstats/read.ts'));

const shape = object<LogstatsInput>({
  range: object<ScanRange>(
    { file: count, path: absolutePath, start: count, end: count, gzip: bool },
    (range) => (range.start > range.end ? 'start must not pass end' : undefined),
  ),
  top: bool,
  rules: optional(
    object<LineRules>({
      by: oneOf(undefined, 'day', 'hour'),
      utc: bool,
      format: oneOf(...LOG_FORMATS),
      ipField: optional(text),
      timeField: optional(text),
    }),
  ),
});

export const logstatsRange = defineTask<LogstatsInput, TallyResult>({
  async run(input, signal) {
    const { scanRange } = await reader();
    try {
      return await scanRange(input.range, input.top, input.rules, signal);
    } catch (error) {
      // A short reason that survives cloning back to the parent (or the queue).
      throw new Error(reasonOf(error), { cause: error });
    }
  },
  accept: (input, scope) =>
    shape(input) ??
    (scope.readable === undefined || isInside((input as LogstatsInput).range.path, scope.readable)
      ? undefined
      : '"range.path" is not inside a folder this worker may read (crew worker --allow-read)'),
  // Another machine has another working directory; a name that is not UTF-8 stays bytes.
  portable: (input) => ({ ...input, range: { ...input.range, path: absolute(input.range.path) } }),
  describe: ({ range }) =>
    `logstats ${printable(pathText(range.path))} [${range.start}, ${range.end})`,
});

function absolute(path: string | Buffer): string | Buffer {
  if (typeof path === 'string') return resolve(path);
  if (path[0] === 0x2f) return path;
  return Buffer.concat([Buffer.from(`${process.cwd()}/`), path]);
}
