/** `logstatsFiles`: counts several small access logs whole, each on its own, in one task. */
import type { FilesResult } from '../logstats/batch.ts';
import { pathText } from '../logstats/file-names.ts';
import type { LineRules } from '../logstats/formats/index.ts';
import { MAX_BATCH_FILES, type ScanRange } from '../logstats/split.ts';
import { printable } from '../ui/printable.ts';
import { count, list, object, type Check } from './check.ts';
import { portableRange, rangeShape, rulesShape, unreadable } from './logstats-range.ts';
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
  portable: (input) => ({ ...input, files: input.files.map(portableRange) }),
  describe: ({ files }) => {
    const first = files[0] ? printable(pathText(files[0].path)) : '';
    return `logstats ${files.length} files (${first}${files.length > 1 ? ', ...' : ''})`;
  },
});
