/** `logstatsFiles`: counts several small access logs whole, each on its own, in one task. */
import type { FileCount, FileFailed, FilesResult } from '../logstats/batch.ts';
import { pathText } from '../logstats/file-names.ts';
import type { LineRules } from '../logstats/formats/index.ts';
import { MAX_BATCH_FILES, type ScanRange } from '../logstats/split.ts';
import { printable } from '../ui/printable.ts';
import type { TopClient } from '../logstats/summary.ts';
import { count, exactly, list, object, optional, textUpTo, type Check } from './check.ts';
import { portableRange, rangeShape, rulesShape, unreadable } from './logstats-range.ts';
import { clientText, panelsFor, tallyResult, tallyRule } from './tally-check.ts';
import { defineTask, lazily } from './task.ts';

export interface LogstatsFilesInput {
  readonly files: readonly ScanRange[];
  /** How many busiest clients to list for each file; 0: none. */
  readonly top: number;
  readonly rules?: LineRules | undefined;
}

/** --top's own bound: a longer list from the queue would only cost the worker time. */
const MAX_TOP = 10_000;

const top: Check = (value) =>
  count(value) ?? ((value as number) > MAX_TOP ? `must be at most ${MAX_TOP}` : undefined);

const shape = object<LogstatsFilesInput>({
  files: list(rangeShape, MAX_BATCH_FILES),
  top,
  rules: rulesShape,
});

const batch = lazily(() => import('../logstats/batch.ts'));

/** Why a file of a batch failed: crew's own sentence, of bounded length. */
const failure = object<FileFailed>({ error: textUpTo(2_000) });

/**
 * A batch's result as the coordinator takes it from a queue worker: one count or failure
 * for each file asked, in order, and their union, each with the parts asked for.
 */
function resultOf({ files, top, rules }: LogstatsFilesInput): Check {
  const asked = { top: top > 0, rules };
  const fileCount = object<FileCount>(
    {
      total: count,
      malformed: count,
      filtered: count,
      bytes: count,
      ip: count,
      warning: optional(textUpTo(2_000)),
      top:
        top > 0
          ? optional(list(object<TopClient>({ ip: clientText, requests: count }), top))
          : exactly(undefined, 'must be absent without --top'),
      panels: panelsFor(asked),
    },
    (file) => (file.ip > file.total ? 'more clients than lines' : tallyRule(file)),
  );
  const item: Check = (value) =>
    typeof value === 'object' && value !== null && 'error' in value
      ? failure(value)
      : fileCount(value);
  return object<FilesResult>({
    files: (value) =>
      list(item, files.length)(value) ??
      ((value as unknown[]).length === files.length
        ? undefined
        : `must hold one item for each of the ${files.length} files asked`),
    // Each file sends its own panels; the union has its groups' only.
    union: tallyResult(asked, false),
  });
}

export const logstatsFiles = defineTask<LogstatsFilesInput, FilesResult>({
  async run(input, signal) {
    const { scanFiles } = await batch();
    return scanFiles(input.files, input.top, input.rules, signal);
  },
  accept: (input, scope) => {
    const why = shape(input);
    if (why !== undefined) return why;
    const { files } = input as LogstatsFilesInput;
    for (const [i, file] of files.entries()) {
      const refused = unreadable(`files.${i}.path`, file.path, scope.readable);
      if (refused !== undefined) return refused;
    }
    return undefined;
  },
  acceptResult: (result, input) => resultOf(input)(result),
  portable: (input) => ({ ...input, files: input.files.map(portableRange) }),
  describe: ({ files }) => {
    const first = files[0] ? printable(pathText(files[0].path)) : '';
    return `logstats ${files.length} files (${first}${files.length > 1 ? ', ...' : ''})`;
  },
});
