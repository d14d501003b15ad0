/**
 * `downloadUrl`: one request for a URL, its body to a fresh file in the run's temp folder
 * (or, for a local worker that was asked, back in the answer). The run that keeps the
 * manifest gives every file its final name, never the worker.
 */
import { resolve } from 'node:path';
import { caProblem } from '../download/ca.ts';
import type { FetchInput, FetchOptions, RequestResult } from '../download/fetch.ts';
import { tempFolderProblem } from '../download/layout.ts';
import { capText } from '../download/limits.ts';
import {
  ENCODE_FORMATS,
  MAX_IMAGE_SIDE,
  MAX_IMAGE_JOBS,
  RESIZE_MODES,
  type ResizeOptions,
} from '../download/resize-plan.ts';
import { printable } from '../ui/printable.ts';
import type { OptOutRule } from '../download/opt-out.ts';
import type { ImageSizes } from '../download/resize.ts';
import {
  bool,
  count,
  exactly,
  isObject,
  list,
  numberIn,
  object,
  oneOf,
  optional,
  text,
  textRecord,
  textUpTo,
  wholeIn,
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

/** The image step's options: every value one the command line could give. */
const resize = object<ResizeOptions>(
  {
    mode: oneOf(...RESIZE_MODES),
    width: wholeIn(1, MAX_IMAGE_SIDE),
    height: wholeIn(1, MAX_IMAGE_SIDE),
    onlyIfBigger: bool,
    format: oneOf(...ENCODE_FORMATS),
    quality: wholeIn(0, 100),
    skipReencode: bool,
    keepMetadata: bool,
    minImageSize: count,
    maxImageArea: count,
    maxAspectRatio: numberIn(0, Number.MAX_SAFE_INTEGER),
    jobs: wholeIn(1, MAX_IMAGE_JOBS),
  },
  (options) =>
    options.format === 'png' && options.quality > 9
      ? '"quality" must be a compression level from 0 to 9 for png'
      : undefined,
);

/** A body in the result would cross the database: a queue worker leaves it in its temp file. */
const bodyInMemory: Check = (value) =>
  value === undefined ? undefined : 'must be absent: a queue worker never returns a body';

const shape = object<FetchInput>({
  url,
  tempFolder,
  bodyInMemory,
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
    rateLimit: optional(wholeIn(1, Number.MAX_SAFE_INTEGER)),
    ca: optional((value) => (typeof value === 'string' ? caProblem(value) : 'must be a string')),
    optOut: optional((value) =>
      value === null
        ? undefined
        : object<OptOutRule>({ directives: list(text, 64), agents: list(text, 16) })(value),
    ),
    resize: optional(resize),
  }),
});

/** A message or name in an answer: far above any crew writes, far below a flood. */
const MAX_ANSWER_TEXT = 64 * 1024;
const answerText = textUpTo(MAX_ANSWER_TEXT);
const status = wholeIn(100, 999);
const imageSizes = optional(
  object<ImageSizes>({
    originalWidth: count,
    originalHeight: count,
    width: optional(count),
    height: optional(count),
  }),
);

/** A field that is absent, or `true`. */
const flag = optional(exactly(true));

/**
 * Checks an answer's fields: only these names, each passing its check. (A union of kinds
 * with optional parts, which `object<T>` cannot type, so the names are listed here.)
 */
const fieldsOf =
  (fields: Readonly<Record<string, Check>>): Check =>
  (value) => {
    const record = value as Record<string, unknown>;
    const extra = Object.keys(record).find((key) => !Object.hasOwn(fields, key));
    if (extra !== undefined) return `unexpected field "${printable(extra.slice(0, 40))}"`;
    for (const [key, check] of Object.entries(fields)) {
      const why = check(record[key]);
      if (why !== undefined) return `"${key}" ${why}`;
    }
    return undefined;
  };

const okFields = fieldsOf({
  kind: exactly('ok'),
  status,
  bytes: count,
  sha256: optional(textUpTo(128)),
  contentType: answerText,
  ext: textUpTo(16),
  finalUrl: answerText,
  width: optional(count),
  height: optional(count),
  image: imageSizes,
  temp: optional(answerText),
  body: optional((value) => (value instanceof Uint8Array ? undefined : 'must be bytes')),
});

const LANDINGS = ['temp', 'body'] as const;

/**
 * A download's answer as the coordinator takes it from a queue worker: every field of its
 * kind typed and bounded, a body landed one way only. Where it landed is the fetcher's to
 * check against the run's temp folder (download/answer-check.ts).
 */
const requestResult: Check = (value) => {
  if (!isObject(value)) return 'must be an object';
  if (value['kind'] === 'redirect') {
    return fieldsOf({
      kind: exactly('redirect'),
      status,
      url: answerText,
      visited: list(answerText, 64),
    })(value);
  }
  if (value['kind'] === 'failed') {
    return fieldsOf({
      kind: exactly('failed'),
      output: flag,
      status: optional(status),
      error: answerText,
      retry: oneOf('no', 'yes', 'slow-down', 'fewer'),
      retryAfterMs: optional(count),
      unreachable: flag,
      optedOut: flag,
      filtered: flag,
      image: imageSizes,
    })(value);
  }
  if (value['kind'] !== 'ok') return '"kind" must be ok, redirect or failed';
  const landed = LANDINGS.filter((key) => value[key] !== undefined).length;
  return okFields(value) ?? (landed === 1 ? undefined : 'must land its body one way');
};

export const downloadUrl = defineTask<FetchInput, RequestResult>({
  run: async (input) => (await fetcher()).fetchOnce(input),
  accept: (input, scope) =>
    shape(input) ??
    (isInside((input as FetchInput).tempFolder, scope.writable)
      ? undefined
      : '"tempFolder" is not inside a folder this worker may write in (crew worker --allow-dir)'),
  acceptResult: (result) => requestResult(result),
  portable: ({ bodyInMemory: _, ...input }) => ({
    ...input,
    tempFolder: resolve(input.tempFolder),
  }),
  describe: (input) => `download ${printable(capText(input.url, 300))}`,
});
