/** `downloadUrl`: one request for a URL, its body to a temp file then renamed into place. */
import { basename, isAbsolute, resolve } from 'node:path';
import type { FetchInput, FetchOptions, RequestResult } from '../download/fetch.ts';
import { fileName, MANIFEST } from '../download/names.ts';
import { capText } from '../download/limits.ts';
import { printable } from '../ui/printable.ts';
import { bool, count, list, object, text, textRecord, type Check } from './check.ts';
import { defineTask, lazily } from './task.ts';

const fetcher = lazily(() => import('../download/fetch.ts'));

/** Headers a row may carry: far more than any real request needs. */
const MAX_HEADERS = 100;

const url: Check = (value) =>
  typeof value === 'string' && /^https?:\/\//i.test(value) ? undefined : 'must be an http(s) URL';

const tempPath: Check = (value) =>
  typeof value === 'string' &&
  isAbsolute(value) &&
  /^\.crew-[0-9a-f]+-[0-9a-f]+\.part$/.test(basename(value))
    ? undefined
    : 'must be an absolute path to a crew temp file';

/**
 * A worker renames the body to the stem (plus an extension) beside its temp file: the stem
 * must be one path segment that names.ts could have made, never `..`, a hidden file (crew's
 * own lock and temp files are hidden) or the manifest.
 */
const stem: Check = (value) =>
  typeof value === 'string' &&
  value !== '' &&
  Buffer.byteLength(value) <= 255 &&
  // eslint-disable-next-line no-control-regex -- a NUL would cut the name short
  !/[\u0000/\\]|^\./.test(value)
    ? undefined
    : 'must be one safe file name';

const ext: Check = (value) =>
  value === null || (typeof value === 'string' && /^[a-z0-9]{1,10}$/i.test(value))
    ? undefined
    : 'must be null or letters and digits';

const options = object<FetchOptions>({
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
});

export const downloadUrl = defineTask<FetchInput, RequestResult>({
  run: async (input) => (await fetcher()).fetchOnce(input),
  accept: object<FetchInput>(
    {
      url,
      tempPath,
      stem,
      ext,
      headers: textRecord(MAX_HEADERS),
      visited: list(text, 64),
      options,
    },
    (input) =>
      [input.stem, fileName(input.stem, input.ext ?? '')].includes(MANIFEST)
        ? 'the stem must not name the manifest'
        : undefined,
  ),
  portable: (input) => ({ ...input, tempPath: resolve(input.tempPath) }),
  describe: (input) => `download ${printable(capText(input.url, 300))}`,
});
