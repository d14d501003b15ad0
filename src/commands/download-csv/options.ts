import { UsageError } from '../../errors.ts';
import { parseSize, toCommonConfig, wholeNumber, type CommonArgs } from '../../config.ts';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_PER_HOST,
  defaultDownloadWorkers,
} from '../../download/defaults.ts';
import { AUTO_ENCODING, encodingName } from '../../download/encoding.ts';
import { declareOptions, withDefaults, type ArgsOf, type OptionTable } from '../../option-table.ts';
import { defineCommand } from '../command.ts';
import { imageOptions, toResizeOptions } from './image-options.ts';
import type { DownloadConfig, DownloadResult } from '../../download/config.ts';

/** A current desktop browser: image hosts often refuse agents they do not know. */
export const BROWSER_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const INPUT = 'Input:';
const OUTPUT = 'Output:';
const NETWORK = 'Network:';

/** Every option of `crew download-csv`, its default and help written once. */
const downloadOptions = {
  csv: { positional: true, type: 'string', describe: 'The CSV file, or - to read it from stdin' },
  'csv-header': {
    group: INPUT,
    type: 'string',
    choices: ['yes', 'no', 'auto'],
    default: 'auto',
    describe: 'Is the first row a header?',
    requiresArg: true,
  },
  'url-column': {
    group: INPUT,
    type: 'string',
    describe: 'URL column: header name or 1-based index',
    defaultDescription: 'detected',
    requiresArg: true,
  },
  'name-column': {
    group: INPUT,
    type: 'string',
    describe: 'Name column: header name or 1-based index',
    defaultDescription: 'detected',
    requiresArg: true,
  },
  encoding: {
    group: INPUT,
    type: 'string',
    default: AUTO_ENCODING,
    describe: "The CSV's text encoding: utf-8, gb18030, big5, shift_jis, windows-1252, utf-16le...",
    defaultDescription: `${AUTO_ENCODING}: a BOM, else UTF-8, else GB18030`,
    requiresArg: true,
  },
  out: {
    group: OUTPUT,
    alias: 'o',
    type: 'string',
    default: 'images',
    describe: 'Output directory',
    requiresArg: true,
  },
  ext: {
    group: OUTPUT,
    type: 'string',
    describe: 'Force this extension (e.g. png)',
    defaultDescription: 'from the content',
    requiresArg: true,
  },
  'any-type': {
    group: OUTPUT,
    type: 'boolean',
    default: false,
    describe: 'Accept bodies that are not images',
  },
  force: {
    group: OUTPUT,
    type: 'boolean',
    default: false,
    describe: 'Download every row again, even if the manifest says done',
  },
  concurrency: {
    group: NETWORK,
    alias: 'c',
    type: 'string',
    default: DEFAULT_CONCURRENCY,
    describe: 'Downloads in flight per worker',
    requiresArg: true,
  },
  'per-host': {
    group: NETWORK,
    type: 'string',
    default: DEFAULT_PER_HOST,
    describe: 'Connections per origin, all workers together',
    requiresArg: true,
  },
  retries: {
    group: NETWORK,
    type: 'string',
    default: 3,
    describe: 'Retries for network errors, timeouts, 5xx, 408, 429',
    requiresArg: true,
  },
  backoff: {
    group: NETWORK,
    type: 'number',
    default: 0.5,
    describe: 'First retry delay in seconds, doubling with jitter',
    requiresArg: true,
  },
  timeout: {
    group: NETWORK,
    type: 'number',
    default: 30,
    describe: 'Seconds allowed to connect, get headers, or between body bytes',
    requiresArg: true,
  },
  'max-time': {
    group: NETWORK,
    type: 'number',
    default: 120,
    describe: 'Seconds one request may take in all, a slow body included',
    requiresArg: true,
  },
  'max-bytes': {
    group: NETWORK,
    type: 'string',
    default: '50M',
    describe: 'Abort bodies bigger than this',
    requiresArg: true,
  },
  'user-agent': {
    group: NETWORK,
    type: 'string',
    default: BROWSER_USER_AGENT,
    describe: 'User-Agent header',
    defaultDescription: 'a desktop browser',
    requiresArg: true,
  },
  header: {
    group: NETWORK,
    alias: 'H',
    type: 'string',
    array: true,
    describe: 'Extra request header "Name: value" (repeatable)',
    requiresArg: true,
  },
  'location-trusted': {
    group: NETWORK,
    type: 'boolean',
    default: false,
    describe:
      'Send credentials (-H Authorization, Cookie, user:pass@) to redirect targets on other origins too',
  },
  ...imageOptions,
} as const satisfies OptionTable;

export type DownloadArgs = ArgsOf<typeof downloadOptions> & CommonArgs;

/** Validates the command line; worker threads by default (the work is I/O). */
export function toDownloadConfig(given: DownloadArgs): DownloadConfig {
  const common = toCommonConfig(given, { runtime: 'thread', workers: defaultDownloadWorkers() });
  const args = withDefaults(downloadOptions, given);
  if (!args.csv) throw new UsageError('name the CSV file to read, or - for stdin');
  const encoding = args.encoding;
  if (encoding !== AUTO_ENCODING && encodingName(encoding) === undefined) {
    throw new UsageError(
      `--encoding "${encoding}" is not an encoding crew knows; try utf-8, gb18030, big5, shift_jis, windows-1252 or utf-16le`,
    );
  }
  const ext = args.ext?.replace(/^\./, '');
  if (ext !== undefined && !/^[a-z0-9]{1,10}$/i.test(ext)) {
    throw new UsageError(`--ext must be letters and digits such as png or jpg; got "${args.ext}"`);
  }
  const timeout = seconds('--timeout', args.timeout, 0, 3600);
  const maxTime = seconds('--max-time', args.maxTime, 0, 86_400);
  const backoff = args.backoff;
  if (!(backoff >= 0 && backoff <= 60)) {
    throw new UsageError(`--backoff must be seconds from 0 to 60; got "${backoff}"`);
  }
  const headers = requestHeaders(args.userAgent, args.header ?? []);
  const resize = toResizeOptions(given, common.runtime === 'inline' ? 1 : common.workers);
  if (resize && resize.mode !== 'no' && ext !== undefined) {
    throw new UsageError("--ext cannot name resized images: they take --encode-format's extension");
  }
  return {
    ...common,
    csv: args.csv,
    out: args.out,
    csvHeader: args.csvHeader,
    urlColumn: args.urlColumn,
    nameColumn: args.nameColumn,
    encoding,
    ext,
    concurrency: wholeNumber('--concurrency', args.concurrency, 1, 1024),
    perHost: wholeNumber('--per-host', args.perHost, 1, 1024),
    force: args.force,
    fetch: {
      retries: wholeNumber('--retries', args.retries, 0, 100),
      timeoutMs: timeout * 1000,
      maxTimeMs: maxTime * 1000,
      maxBytes: parseSize('--max-bytes', args.maxBytes, '50M or 500K'),
      headers,
      locationTrusted: args.locationTrusted,
      anyType: args.anyType,
      backoffMs: backoff * 1000,
      stacks: common.debug || common.runtime === 'inline',
      ...(resize ? { resize } : {}),
    },
  };
}

/** A duration flag in seconds: more than `min`, at most `max`. */
function seconds(flag: string, value: number, min: number, max: number): number {
  if (!(value > min && value <= max)) {
    throw new UsageError(`${flag} must be seconds from ${min} to ${max}; got "${value}"`);
  }
  return value;
}

/** The User-Agent and each `-H "Name: value"`, names in lower case. */
function requestHeaders(userAgent: string, lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': userAgent };
  for (const line of lines) {
    const match = /^([!#$%&'*+.^_`|~0-9a-z-]+):\s*(.*)$/i.exec(line);
    if (!match) throw new UsageError(`-H must look like "Name: value"; got "${line}"`);
    headers[match[1]!.toLowerCase()] = match[2]!;
  }
  return headers;
}

/** `crew download-csv`: the declaration; the work is in the run module. */
export const downloadCommand = defineCommand<DownloadArgs, DownloadConfig, DownloadResult>({
  usage: 'download-csv <csv>',
  describe: 'Download every image listed in a CSV: retries, resume, safe names, a manifest',
  options: (y) =>
    declareOptions(y, downloadOptions)
      .example('$0 download-csv mv.csv', 'Every image of mv.csv into images/')
      .example('$0 download-csv list.csv -o pics --ext png', 'Into pics/, every file named .png')
      .example('scraper | $0 download-csv - --url-column image_url', 'Stream rows from a pipe')
      .example('$0 download-csv big.csv -w 4 -c 32 --per-host 16', 'More in flight')
      .example(
        '$0 download-csv list.csv --resize-mode border --image-size 256',
        'Every image resized to 256x256, padded white, saved as jpg',
      ),
  // yargs reads a bare "-" as no value: it means stdin here.
  toConfig: (args, argv) =>
    toDownloadConfig({ ...args, csv: args.csv || (argv.includes('-') ? '-' : undefined) }),
  progress: () => 'reading the CSV',
  load: () => import('./run.ts'),
});
