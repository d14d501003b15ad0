/**
 * The manifest line for each way a row can end: skipped (an earlier run did it), bad (no
 * usable URL), failed (the fetch, or writing the file), or ok. Pure.
 */
import { recordedUrl } from './credentials.ts';
import { reasonWithoutPaths } from './errors.ts';
import type { FetchOutcome } from './fetch.ts';
import { capText } from './limits.ts';
import type { ManifestLine } from './manifest.ts';
import type { ImageSizes } from './resize.ts';
import type { BadRow, Job } from './rows.ts';

type Fetched = Extract<FetchOutcome, { ok: true }>;
type NotFetched = Extract<FetchOutcome, { ok: false }>;

/** A line's fields with nothing in them yet: what a row that fetched nothing has. */
export const blank = {
  file: null,
  http: null,
  bytes: 0,
  sha256: null,
  contentType: null,
  attempts: 0,
  error: null,
  ms: 0,
} as const;

/** The kept columns' names, in the order of a job's `saved` values (set once per run). */
export type ColumnNames = readonly string[];

// What is written is capped, and a URL's password never is (see credentials.ts).
const who = (job: Job): Pick<ManifestLine, 'row' | 'id' | 'name' | 'url'> => ({
  row: job.row,
  id: capText(job.id),
  name: capText(job.name),
  url: recordedUrl(job.url),
});

/** What the list says of the row besides its URL: its caption and kept columns. */
export function carried(job: Job, names: ColumnNames): Pick<ManifestLine, 'caption' | 'columns'> {
  const columns: Record<string, unknown> = {};
  names.forEach((name, i) => (columns[name] = job.saved?.[i] ?? null));
  return {
    ...(job.caption === undefined ? {} : { caption: job.caption }),
    ...(names.length === 0 ? {} : { columns }),
  };
}

/** The row's file, as an earlier run recorded it, is still there. */
export function skippedLine(
  job: Job,
  previous: { file: string | null; bytes: number },
): ManifestLine {
  return { ...blank, ...who(job), status: 'skipped', file: previous.file, bytes: previous.bytes };
}

/** The row has no usable URL. */
export function badRowLine(bad: BadRow): ManifestLine {
  return {
    ...blank,
    row: bad.row,
    id: '',
    name: '',
    url: recordedUrl(bad.url),
    status: 'failed',
    error: bad.error,
  };
}

/**
 * The URL could not be fetched (every row sharing it gets the same reason), its server opted
 * out of the image's use, or the image step did not keep its image: outside a filter
 * (`filtered`) or unreadable.
 */
export function fetchFailedLine(job: Job, ms: number, outcome: NotFetched): ManifestLine {
  return {
    ...blank,
    ...who(job),
    ms,
    status: outcome.optedOut ? 'opted-out' : outcome.filtered ? 'filtered' : 'failed',
    http: outcome.status ?? null,
    attempts: outcome.attempts,
    error: outcome.error,
    ...imageFields(outcome.image),
  };
}

/** The manifest's image sizes, when the image step ran. */
const imageFields = (image: ImageSizes | undefined): Partial<ManifestLine> =>
  image === undefined
    ? {}
    : {
        originalWidth: image.originalWidth,
        originalHeight: image.originalHeight,
        ...(image.width === undefined ? {} : { width: image.width }),
        ...(image.height === undefined ? {} : { height: image.height }),
      };

/** The body arrived but the row's file could not be put in place. */
export function writeFailedLine(
  job: Job,
  ms: number,
  outcome: Fetched,
  file: string,
  error: unknown,
): ManifestLine {
  return {
    ...blank,
    ...who(job),
    ms,
    status: 'failed',
    attempts: outcome.attempts,
    error: `cannot write ${file}: ${reasonWithoutPaths(error)}`,
  };
}

/**
 * The row's file is in place. Only the row that fetched the URL counts the attempts; rows
 * that copied its file made none.
 */
export function okLine(
  job: Job,
  ms: number,
  outcome: Fetched,
  file: string,
  fetchedHere: boolean,
): ManifestLine {
  return {
    ...who(job),
    ms,
    status: 'ok',
    file,
    http: outcome.status,
    bytes: outcome.bytes,
    sha256: outcome.sha256,
    contentType: outcome.contentType || null,
    attempts: fetchedHere ? outcome.attempts : 0,
    error: null,
    width: outcome.width ?? null,
    height: outcome.height ?? null,
    ...imageFields(outcome.image),
  };
}
