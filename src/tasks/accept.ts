/**
 * What a worker accepts from the queue. A job is data written by whoever can reach the
 * database, so each task must name one of crew's tasks and carry exactly the input that
 * task takes: plain values of the right types, absolute paths, http(s) URLs, and temp
 * files named as crew names them.
 */
import { basename, isAbsolute } from 'node:path';
import { fileName, MANIFEST } from '../download/names.ts';

type Check = (input: Record<string, unknown>) => string | undefined;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

/** The keys an input must have, no more. */
function shape(input: Record<string, unknown>, keys: readonly string[]): string | undefined {
  const extra = Object.keys(input).find((key) => !keys.includes(key));
  if (extra !== undefined) return `unexpected field "${extra}"`;
  const missing = keys.find((key) => !(key in input));
  return missing === undefined ? undefined : `missing field "${missing}"`;
}

const checkSum: Check = (input) =>
  shape(input, ['start', 'end']) ??
  (typeof input['start'] === 'bigint' &&
  typeof input['end'] === 'bigint' &&
  input['start'] <= input['end']
    ? undefined
    : 'start and end must be BigInts with start <= end');

const RULE_KEYS = ['by', 'utc', 'format', 'ipField', 'timeField'];
const isText = (value: unknown): boolean => value === undefined || typeof value === 'string';

/** How lines are read (--by, --format...): known keys of the right types; may be absent. */
function checkRules(rules: unknown): string | undefined {
  if (rules === undefined) return undefined;
  if (!isObject(rules)) return 'rules must be an object';
  const extra = Object.keys(rules).find((key) => !RULE_KEYS.includes(key));
  if (extra !== undefined) return `unexpected field "${extra}"`;
  const ok =
    [undefined, 'day', 'hour'].includes(rules['by'] as string) &&
    ['auto', 'combined', 'json'].includes(rules['format'] as string) &&
    typeof rules['utc'] === 'boolean' &&
    isText(rules['ipField']) &&
    isText(rules['timeField']);
  return ok ? undefined : 'rules hold an unknown grouping, format or field';
}

const checkLogstats: Check = (input) => {
  const range = input['range'];
  const { rules, ...rest } = input;
  if (!isObject(range)) return shape(rest, ['range', 'top']) ?? 'range must be an object';
  return (
    shape(rest, ['range', 'top']) ??
    checkRules(rules) ??
    shape(range, ['file', 'path', 'start', 'end', 'gzip']) ??
    (typeof input['top'] !== 'boolean' || typeof range['gzip'] !== 'boolean'
      ? 'top and gzip must be booleans'
      : !isCount(range['file']) || !isCount(range['start']) || !isCount(range['end'])
        ? 'file, start and end must be whole numbers'
        : (range['start'] as number) > (range['end'] as number)
          ? 'start must not pass end'
          : typeof range['path'] !== 'string' || !isAbsolute(range['path'])
            ? 'path must be absolute'
            : undefined)
  );
};

const FETCH_OPTIONS = [
  'retries',
  'timeoutMs',
  'maxTimeMs',
  'maxBytes',
  'perHost',
  'headers',
  'locationTrusted',
  'anyType',
  'backoffMs',
  'stacks',
  'http',
] as const;

const FETCH_INPUT = ['url', 'tempPath', 'stem', 'ext', 'headers', 'visited', 'options'] as const;

/**
 * A worker renames the body to the stem (plus an extension) beside its temp file: the stem
 * must be one path segment that names.ts could have made, never `..`, a hidden file (crew's
 * own lock and temp files are hidden) or the manifest.
 */
const checkName = (stem: unknown, ext: unknown): string | undefined =>
  typeof stem !== 'string' ||
  stem === '' ||
  Buffer.byteLength(stem) > 255 ||
  // eslint-disable-next-line no-control-regex -- a NUL would cut the name short
  /[\u0000/\\]|^\./.test(stem) ||
  [stem, fileName(stem, typeof ext === 'string' ? ext : '')].includes(MANIFEST)
    ? 'stem must be one safe file name'
    : ext !== null && (typeof ext !== 'string' || !/^[a-z0-9]{1,10}$/i.test(ext))
      ? 'ext must be null or letters and digits'
      : undefined;

const isHeaders = (value: unknown): boolean =>
  isObject(value) && Object.values(value).every((v) => typeof v === 'string');

const checkDownload: Check = (input) => {
  const options = input['options'];
  const url = input['url'];
  const temp = input['tempPath'];
  const visited = input['visited'];
  if (!isObject(options)) return shape(input, FETCH_INPUT) ?? 'bad options';
  return (
    shape(input, FETCH_INPUT) ??
    shape(options, FETCH_OPTIONS) ??
    checkName(input['stem'], input['ext']) ??
    (typeof url !== 'string' || !/^https?:\/\//i.test(url)
      ? 'url must be http(s)'
      : typeof temp !== 'string' ||
          !isAbsolute(temp) ||
          !/^\.crew-[0-9a-f]+-[0-9a-f]+\.part$/.test(basename(temp))
        ? 'tempPath must be an absolute path to a crew temp file'
        : !['retries', 'timeoutMs', 'maxTimeMs', 'maxBytes', 'perHost', 'backoffMs'].every((k) =>
              isCount(options[k]),
            )
          ? 'fetch options must be whole numbers'
          : typeof options['anyType'] !== 'boolean' ||
              typeof options['locationTrusted'] !== 'boolean' ||
              typeof options['stacks'] !== 'boolean' ||
              !isHeaders(options['headers']) ||
              !isHeaders(input['headers']) ||
              !Array.isArray(visited) ||
              !visited.every((v) => typeof v === 'string')
            ? 'anyType, locationTrusted and stacks must be booleans, headers and visited strings'
            : !['auto', '1.1', '2'].includes(options['http'] as string)
              ? 'http must be auto, 1.1 or 2'
              : undefined)
  );
};

const checks: Record<string, Check> = {
  sumRange: checkSum,
  logstatsRange: checkLogstats,
  downloadUrl: checkDownload,
};

/** Why a task from the queue must not run, or undefined when it may. */
export function acceptTask(name: string, input: unknown): string | undefined {
  const check = Object.hasOwn(checks, name) ? checks[name] : undefined;
  if (!check) return `no crew task is named "${name}"`;
  if (!isObject(input)) return 'the input must be an object';
  return check(input);
}
