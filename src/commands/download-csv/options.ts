import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { reasonOf, UsageError } from '../../errors.ts';
import { CA_TOO_BIG, caProblem, MAX_CA_BYTES } from '../../download/ca.ts';
import { parseSize, toCommonConfig, wholeNumber, type CommonArgs } from '../../config.ts';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_PER_HOST,
  defaultConcurrency,
  defaultDownloadWorkers,
  lanePool,
  MIN_IN_FLIGHT,
} from '../../download/defaults.ts';
import { AUTO_ENCODING, encodingName } from '../../download/encoding.ts';
import { MANIFEST } from '../../download/names.ts';
import { INPUT_FORMATS } from '../../download/input-format.ts';
import { DEFAULT_OPT_OUT_DIRECTIVES, parseDirectives, robotNames } from '../../download/opt-out.ts';
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

/**
 * The most rows in a shard: a shard's rows wait in memory (their manifest lines, ~0.5 KB
 * each) until its tar is complete, so 100,000 rows is ~50 MB per shard being written.
 */
export const MAX_SHARD_SIZE = 100_000;

/** Every option of `crew download-csv`, its default and help written once. */
const downloadOptions = {
  csv: {
    positional: true,
    type: 'string',
    describe: 'The list of URLs (CSV, TSV, JSON lines, parquet; .gz), or - for stdin',
  },
  'input-format': {
    group: INPUT,
    type: 'string',
    choices: INPUT_FORMATS,
    default: 'auto',
    describe: "The list's format",
    defaultDescription: 'auto: by extension, magic bytes, then the first line',
    requiresArg: true,
  },
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
  'caption-column': {
    group: INPUT,
    type: 'string',
    describe: 'Caption column, kept with each row: field name or 1-based index',
    defaultDescription: 'a column named caption, text, alt, alt_text or description',
    requiresArg: true,
  },
  'save-columns': {
    group: INPUT,
    type: 'string',
    describe: 'More columns kept with each row: names or 1-based indexes, comma-separated',
    requiresArg: true,
  },
  encoding: {
    group: INPUT,
    type: 'string',
    default: AUTO_ENCODING,
    describe: "A text list's encoding: utf-8, gb18030, big5, shift_jis, windows-1252, utf-16le...",
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
  layout: {
    group: OUTPUT,
    type: 'string',
    choices: ['flat', 'shards'],
    describe: 'Every file in --out, or in numbered folders of --shard-size rows',
    defaultDescription: 'flat (shards with --output-format webdataset)',
    requiresArg: true,
  },
  'shard-size': {
    group: OUTPUT,
    type: 'string',
    default: 10_000,
    describe: `Rows per shard (at most ${MAX_SHARD_SIZE.toLocaleString('en-US')})`,
    requiresArg: true,
  },
  'output-format': {
    group: OUTPUT,
    type: 'string',
    choices: ['files', 'webdataset'],
    default: 'files',
    describe: 'A file per row, or a NNNNN.tar per shard with .json and .txt sidecars',
    requiresArg: true,
  },
  'dry-run': {
    group: OUTPUT,
    type: 'boolean',
    default: false,
    describe: 'Read the list and print the plan; fetch nothing',
  },
  concurrency: {
    group: NETWORK,
    alias: 'c',
    type: 'string',
    // No table default: it depends on the workers (defaultConcurrency).
    describe: 'Downloads in flight per worker',
    defaultDescription: `${DEFAULT_CONCURRENCY}, more when the workers together have fewer than ${MIN_IN_FLIGHT}`,
    requiresArg: true,
  },
  'per-host': {
    group: NETWORK,
    type: 'string',
    default: DEFAULT_PER_HOST,
    describe:
      'Requests at once per origin, all workers together: connections over HTTP/1.1, streams over HTTP/2',
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
    // One value each time: a greedy list would take the CSV named after it as a header.
    nargs: 1,
    describe: 'Extra request header "Name: value" (repeatable)',
    requiresArg: true,
  },
  'opt-out-directives': {
    group: NETWORK,
    type: 'string',
    default: DEFAULT_OPT_OUT_DIRECTIVES.join(','),
    describe: 'X-Robots-Tag directives that keep an image out (status opted-out)',
    requiresArg: true,
  },
  'ignore-opt-out': {
    group: NETWORK,
    type: 'boolean',
    default: false,
    describe: 'Keep images whose server opted out (X-Robots-Tag: noai ...): you answer for that',
  },
  'robots-txt': {
    group: NETWORK,
    type: 'boolean',
    default: false,
    describe: "Fetch each origin's robots.txt once; rows it disallows for crew are opted-out",
  },
  'location-trusted': {
    group: NETWORK,
    type: 'boolean',
    default: false,
    describe:
      'Send credentials (-H Authorization, Cookie, user:pass@) to redirect targets on other origins too',
  },
  // curl's names ("http1.1" is one name: the command's parser reads dots as dots).
  'http1.1': {
    group: NETWORK,
    type: 'boolean',
    default: false,
    conflicts: 'http2',
    describe: 'HTTP/1.1 only, up to --per-host connections per host',
    defaultDescription: 'HTTPS servers choose, most HTTP/2',
  },
  http2: {
    group: NETWORK,
    type: 'boolean',
    default: false,
    describe: 'Ask HTTPS servers for HTTP/2 first: one connection per host, many streams',
  },
  // curl's name and units (K and M: 1024 and 1024 x 1024 bytes).
  'limit-rate': {
    group: NETWORK,
    type: 'string',
    describe:
      'Body bytes per second for the whole run, e.g. 500K or 2M; each worker gets an equal share',
    defaultDescription: 'no limit',
    requiresArg: true,
  },
  // curl's name; unlike curl's, it adds to the CAs trusted, it does not replace them.
  cacert: {
    group: NETWORK,
    type: 'string',
    describe: `Also trust the CA certificates in this PEM file for HTTPS (at most ${MAX_CA_BYTES / 1024} KiB)`,
    defaultDescription: "the system's CAs only",
    requiresArg: true,
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
  const directives = parseDirectives(args.optOutDirectives);
  if (directives === undefined) {
    throw new UsageError(
      `--opt-out-directives must be comma-separated directive names such as noai,noimageai; got "${args.optOutDirectives}"`,
    );
  }
  const outputFormat = args.outputFormat;
  if (outputFormat === 'webdataset' && args.layout === 'flat') {
    throw new UsageError('--output-format webdataset writes shards: drop --layout flat');
  }
  const resize = toResizeOptions(given, common.runtime === 'inline' ? 1 : common.workers);
  if (resize && resize.mode !== 'no' && ext !== undefined) {
    throw new UsageError("--ext cannot name resized images: they take --encode-format's extension");
  }
  return {
    ...common,
    csv: args.csv,
    out: args.out,
    inputFormat: args.inputFormat,
    csvHeader: args.csvHeader,
    urlColumn: args.urlColumn,
    nameColumn: args.nameColumn,
    captionColumn: args.captionColumn,
    saveColumns: columnList(args.saveColumns),
    layout: outputFormat === 'webdataset' ? 'shards' : (args.layout ?? 'flat'),
    shardSize: wholeNumber('--shard-size', args.shardSize, 1, MAX_SHARD_SIZE),
    outputFormat,
    dryRun: args.dryRun,
    robotsTxt: args.robotsTxt,
    encoding,
    ext,
    concurrency: wholeNumber(
      '--concurrency',
      // Inline, every download runs in this one thread, whatever --workers says.
      args.concurrency ?? defaultConcurrency(common.runtime === 'inline' ? 1 : common.workers),
      1,
      1024,
    ),
    perHost: wholeNumber('--per-host', args.perHost, 1, 1024),
    force: args.force,
    limitRate:
      args.limitRate === undefined
        ? undefined
        : parseSize('--limit-rate', args.limitRate, '500K or 2M (bytes per second)'),
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
      http: args['http1.1'] ? '1.1' : args.http2 ? '2' : 'auto',
      ...(args.cacert === undefined ? {} : { ca: readCa(args.cacert) }),
      optOut: args.ignoreOptOut ? null : { directives, agents: robotNames(headers['user-agent']) },
      ...(resize ? { resize } : {}),
    },
  };
}

/**
 * --cacert's PEM text, read once here: the workers get the text, never the path. A file
 * that cannot be read or holds no valid certificate is a usage error naming it.
 */
function readCa(path: string): string {
  let text: string;
  try {
    // Not read whole when it is too big (a device, a log given by mistake).
    if (statSync(path).size > MAX_CA_BYTES) return fail(CA_TOO_BIG);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return fail(reasonOf(error));
  }
  const problem = caProblem(text);
  return problem === undefined ? text : fail(problem);

  function fail(reason: string): never {
    throw new UsageError(`--cacert ${path}: ${reason}`);
  }
}

/** `--save-columns a,b,c` as a list; empty names are a usage error, repeats are dropped. */
function columnList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) {
    throw new UsageError(
      `--save-columns must be column names or indexes, comma-separated; got "${text}"`,
    );
  }
  return [...new Set(names)];
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

/** `crew download-csv` (also `crew download`): the declaration; the work is in the run module. */
export const downloadCommand = defineCommand<DownloadArgs, DownloadConfig, DownloadResult>({
  usage: 'download-csv <csv>',
  aliases: ['download <csv>'],
  describe:
    'Download every image of a list (CSV, TSV, JSON lines, parquet): retries, resume, opt-outs, shards, webdataset',
  options: (y) =>
    declareOptions(y.parserConfiguration({ 'dot-notation': false }), downloadOptions)
      .example('$0 download-csv mv.csv', 'Every image of mv.csv into images/')
      .example('$0 download-csv list.csv -o pics --ext png', 'Into pics/, every file named .png')
      .example('scraper | $0 download-csv - --url-column image_url', 'Stream rows from a pipe')
      .example(
        '$0 download cc3m.tsv --caption-column 1 --output-format webdataset',
        'caption<TAB>url rows into 00000.tar, 00001.tar... with .json and .txt',
      )
      .example(
        '$0 download laion.parquet --save-columns similarity,LICENSE --dry-run',
        'What a run would do: rows, URLs, hosts, shards',
      )
      .example('$0 download-csv big.csv -w 4 -c 32 --per-host 16', 'More in flight')
      .example(
        '$0 download-csv list.csv --resize-mode border --image-size 256',
        'Every image resized to 256x256, padded white, saved as jpg',
      ),
  // yargs reads a bare "-" as no value: it means stdin here.
  toConfig: (args, argv) =>
    toDownloadConfig({ ...args, csv: args.csv || (argv.includes('-') ? '-' : undefined) }),
  progress: () => 'reading the list',
  load: () => import('./run.ts'),
  // A fresh --out downloads from its first row: its first worker starts while crew loads
  // (the first answer came ~0.1 s sooner). A re-run may download nothing, and starts none.
  warmPool: (config) =>
    config.dryRun ||
    config.queue !== undefined ||
    config.runtime === 'inline' ||
    existsSync(join(config.out, MANIFEST))
      ? undefined
      : lanePool(config),
});
