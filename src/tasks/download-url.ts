/**
 * `downloadUrl`: one request for a URL, its body to a fresh file in the run's temp folder,
 * then given its final name (by a local worker; a queue worker leaves that to the run).
 */
import { resolve } from 'node:path';
import type { FetchInput, FetchOptions, RequestResult } from '../download/fetch.ts';
import { tempFolderProblem } from '../download/layout.ts';
import { capText } from '../download/limits.ts';
import { printable } from '../ui/printable.ts';
import type { OptOutRule } from '../download/opt-out.ts';
import {
  bool,
  count,
  list,
  object,
  oneOf,
  optional,
  text,
  textRecord,
  type Check,
} from './check.ts';
import { isInside } from './scope.ts';
import { defineTask, lazily } from './task.ts';

const fetcher = lazily(() => import('../download/fetch.ts'));

/** Headers a row may carry: far more than any real request needs. */
const MAX_HEADERS = 100;

const url: Check = (value) =>
  typeof value === 'string' && /^https?:\/\//i.test(value) ? undefined : 'must be an http(s) URL';

const tempFolder: Check = (value) =>
  typeof value === 'string' ? tempFolderProblem(value) : 'must be a string';

/** Which name a file gets in a shared folder is the run's to decide: it keeps the manifest. */
const place: Check = (value) =>
  value === null ? undefined : 'must be null: a queue worker never names a file';

const shape = object<FetchInput>({
  url,
  tempFolder,
  place,
  headers: textRecord(MAX_HEADERS),
  visited: list(text, 64),
  options: object<FetchOptions>({
    retries: count,
    timeoutMs: count,
    maxTimeMs: count,
    maxBytes: count,
    perHost: count,
    headers: textRecord(MAX_HEADERS),
    locationTrusted: bool,
    anyType: bool,
    backoffMs: count,
    stacks: bool,
    http: oneOf('auto', '1.1', '2'),
    optOut: optional((value) =>
      value === null
        ? undefined
        : object<OptOutRule>({ directives: list(text, 64), agents: list(text, 16) })(value),
    ),
  }),
});

export const downloadUrl = defineTask<FetchInput, RequestResult>({
  run: async (input) => (await fetcher()).fetchOnce(input),
  accept: (input, scope) =>
    shape(input) ??
    (isInside((input as FetchInput).tempFolder, scope.writable)
      ? undefined
      : '"tempFolder" is not inside a folder this worker may write in (crew worker --allow-dir)'),
  // The run that keeps the manifest names every file; the worker only fetches the body.
  portable: (input) => ({ ...input, tempFolder: resolve(input.tempFolder), place: null }),
  describe: (input) => `download ${printable(capText(input.url, 300))}`,
});
