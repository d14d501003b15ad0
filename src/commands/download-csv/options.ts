import { UsageError } from '../../errors.ts';
import { parseSize, toCommonConfig, wholeNumber, type CommonArgs } from '../../config.ts';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_PER_HOST,
  defaultConcurrency,
  defaultDownloadWorkers,
  MIN_IN_FLIGHT,
} from '../../download/defaults.ts';
import { AUTO_ENCODING, encodingName } from '../../download/encoding.ts';
import type { Argv } from 'yargs';
import { defineCommand } from '../command.ts';
import type { DownloadConfig, DownloadResult } from '../../download/config.ts';

/** Every option's default, written once: the help text and toDownloadConfig both read them. */
export const DEFAULTS = {
  out: 'images',
  csvHeader: 'auto',
  encoding: AUTO_ENCODING,
  concurrency: DEFAULT_CONCURRENCY,
  perHost: DEFAULT_PER_HOST,
  retries: 3,
  backoff: 0.5,
  timeout: 30,
  maxTime: 120,
  maxBytes: '50M',
} as const;

/** A current desktop browser: image hosts often refuse agents they do not know. */
export const BROWSER_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export interface DownloadArgs extends CommonArgs {
  readonly csv?: string | undefined;
  readonly out?: string | undefined;
  readonly csvHeader?: string | undefined;
  readonly urlColumn?: string | number | undefined;
  readonly nameColumn?: string | number | undefined;
  readonly encoding?: string | undefined;
  readonly ext?: string | undefined;
  readonly anyType?: boolean | undefined;
  readonly concurrency?: string | number | undefined;
  readonly perHost?: string | number | undefined;
  readonly retries?: string | number | undefined;
  readonly timeout?: number | undefined;
  readonly maxTime?: number | undefined;
  readonly locationTrusted?: boolean | undefined;
  readonly maxBytes?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly header?: readonly string[] | undefined;
  readonly force?: boolean | undefined;
  readonly backoff?: number | undefined;
  readonly 'http1.1'?: boolean | undefined;
  readonly http2?: boolean | undefined;
}

/** Validates the command line; worker threads by default (the work is I/O). */
export function toDownloadConfig(args: DownloadArgs): DownloadConfig {
  const common = toCommonConfig(args, { runtime: 'thread', workers: defaultDownloadWorkers() });
  if (!args.csv) throw new UsageError('name the CSV file to read, or - for stdin');
  const csvHeader = args.csvHeader ?? DEFAULTS.csvHeader;
  if (csvHeader !== 'yes' && csvHeader !== 'no' && csvHeader !== 'auto') {
    throw new UsageError(`--csv-header must be yes, no or auto; got "${csvHeader}"`);
  }
  const encoding = args.encoding ?? DEFAULTS.encoding;
  if (encoding !== AUTO_ENCODING && encodingName(encoding) === undefined) {
    throw new UsageError(
      `--encoding "${encoding}" is not an encoding crew knows; try utf-8, gb18030, big5, shift_jis, windows-1252 or utf-16le`,
    );
  }
  const ext = args.ext?.replace(/^\./, '');
  if (ext !== undefined && !/^[a-z0-9]{1,10}$/i.test(ext)) {
    throw new UsageError(`--ext must be letters and digits such as png or jpg; got "${args.ext}"`);
  }
  const timeout = args.timeout ?? DEFAULTS.timeout;
  if (!(timeout > 0 && timeout <= 3600)) {
    throw new UsageError(`--timeout must be seconds from 0 to 3600; got "${args.timeout}"`);
  }
  const maxTime = args.maxTime ?? DEFAULTS.maxTime;
  if (!(maxTime > 0 && maxTime <= 86_400)) {
    throw new UsageError(`--max-time must be seconds from 0 to 86400; got "${args.maxTime}"`);
  }
  const backoff = args.backoff ?? DEFAULTS.backoff;
  if (!(backoff >= 0 && backoff <= 60)) {
    throw new UsageError(`--backoff must be seconds from 0 to 60; got "${args.backoff}"`);
  }
  const headers: Record<string, string> = { 'user-agent': args.userAgent ?? BROWSER_USER_AGENT };
  for (const line of args.header ?? []) {
    const match = /^([!#$%&'*+.^_`|~0-9a-z-]+):\s*(.*)$/i.exec(line);
    if (!match) throw new UsageError(`-H must look like "Name: value"; got "${line}"`);
    headers[match[1]!.toLowerCase()] = match[2]!;
  }
  return {
    ...common,
    csv: args.csv,
    out: args.out ?? DEFAULTS.out,
    csvHeader,
    urlColumn: args.urlColumn === undefined ? undefined : String(args.urlColumn),
    nameColumn: args.nameColumn === undefined ? undefined : String(args.nameColumn),
    encoding,
    ext,
    concurrency: wholeNumber(
      '--concurrency',
      args.concurrency,
      // Inline, every download runs in this one thread, whatever --workers says.
      defaultConcurrency(common.runtime === 'inline' ? 1 : common.workers),
      1,
      1024,
    ),
    perHost: wholeNumber('--per-host', args.perHost, DEFAULTS.perHost, 1, 1024),
    force: args.force ?? false,
    fetch: {
      retries: wholeNumber('--retries', args.retries, DEFAULTS.retries, 0, 100),
      timeoutMs: timeout * 1000,
      maxTimeMs: maxTime * 1000,
      maxBytes: parseSize('--max-bytes', args.maxBytes ?? DEFAULTS.maxBytes, '50M or 500K'),
      headers,
      locationTrusted: args.locationTrusted ?? false,
      anyType: args.anyType ?? false,
      backoffMs: backoff * 1000,
      stacks: common.debug || common.runtime === 'inline',
      http: args['http1.1'] ? '1.1' : args.http2 ? '2' : 'auto',
    },
  };
}

/** Where rows come from and how files are named. */
const inputOptions = (y: Argv): Argv =>
  y
    .positional('csv', {
      type: 'string',
      describe: 'The CSV file, or - to read it from stdin',
    })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: `Output directory [default: ${DEFAULTS.out}]`,
      requiresArg: true,
    })
    .option('csv-header', {
      type: 'string',
      choices: ['yes', 'no', 'auto'],
      describe: `Is the first row a header? [default: ${DEFAULTS.csvHeader}]`,
      requiresArg: true,
    })
    .option('url-column', {
      type: 'string',
      describe: 'URL column: header name or 1-based index [default: detected]',
      requiresArg: true,
    })
    .option('name-column', {
      type: 'string',
      describe: 'Name column: header name or 1-based index [default: detected]',
      requiresArg: true,
    })
    .option('encoding', {
      type: 'string',
      describe: `The CSV's text encoding: utf-8, gb18030, big5, shift_jis, windows-1252, utf-16le... [default: ${DEFAULTS.encoding}: a BOM, else UTF-8, else GB18030]`,
      requiresArg: true,
    })
    .option('ext', {
      type: 'string',
      describe: 'Force this extension (e.g. png) [default: from the content]',
      requiresArg: true,
    })
    .option('any-type', { type: 'boolean', describe: 'Accept bodies that are not images' });

/** How each URL is fetched. */
const fetchOptions = (y: Argv): Argv =>
  y
    .option('concurrency', {
      alias: 'c',
      type: 'string',
      describe: `Downloads in flight per worker [default: ${DEFAULTS.concurrency}, more when the workers together have fewer than ${MIN_IN_FLIGHT}]`,
      requiresArg: true,
    })
    .option('per-host', {
      type: 'string',
      describe: `Requests at once per origin, all workers together: connections over HTTP/1.1, streams over HTTP/2 [default: ${DEFAULTS.perHost}]`,
      requiresArg: true,
    })
    .option('retries', {
      type: 'string',
      describe: `Retries for network errors, timeouts, 5xx, 408, 429 [default: ${DEFAULTS.retries}]`,
      requiresArg: true,
    })
    .option('backoff', {
      type: 'number',
      describe: `First retry delay in seconds, doubling with jitter [default: ${DEFAULTS.backoff}]`,
      requiresArg: true,
    })
    .option('timeout', {
      type: 'number',
      describe: `Seconds allowed to connect, get headers, or between body bytes [default: ${DEFAULTS.timeout}]`,
      requiresArg: true,
    })
    .option('max-time', {
      type: 'number',
      describe: `Seconds one request may take in all, a slow body included [default: ${DEFAULTS.maxTime}]`,
      requiresArg: true,
    })
    .option('max-bytes', {
      type: 'string',
      describe: `Abort bodies bigger than this [default: ${DEFAULTS.maxBytes}]`,
      requiresArg: true,
    })
    .option('user-agent', {
      type: 'string',
      describe: 'User-Agent header [default: a desktop browser]',
      requiresArg: true,
    })
    .option('header', {
      alias: 'H',
      type: 'string',
      array: true,
      describe: 'Extra request header "Name: value" (repeatable)',
      requiresArg: true,
    })
    .option('location-trusted', {
      type: 'boolean',
      describe:
        'Send credentials (-H Authorization, Cookie, user:pass@) to redirect targets on other origins too',
    })
    // curl's names; "http1.1" is one name, not http1's field "1".
    .parserConfiguration({ 'dot-notation': false })
    .option('http1.1', {
      type: 'boolean',
      describe:
        'HTTP/1.1 only, up to --per-host connections per host [default: HTTPS servers choose, most HTTP/2]',
    })
    .option('http2', {
      type: 'boolean',
      describe: 'Ask HTTPS servers for HTTP/2 first: one connection per host, many streams',
    })
    .conflicts('http1.1', 'http2');

/** `crew download-csv`: the declaration; the work is in the run module. */
export const downloadCommand = defineCommand<DownloadArgs, DownloadConfig, DownloadResult>({
  usage: 'download-csv <csv>',
  describe: 'Download every image listed in a CSV: retries, resume, safe names, a manifest',
  options: (y) =>
    fetchOptions(inputOptions(y))
      .option('force', {
        type: 'boolean',
        describe: 'Download every row again, even if the manifest says done',
      })
      .example('$0 download-csv mv.csv', 'Every image of mv.csv into images/')
      .example('$0 download-csv list.csv -o pics --ext png', 'Into pics/, every file named .png')
      .example('scraper | $0 download-csv - --url-column image_url', 'Stream rows from a pipe')
      .example('$0 download-csv big.csv -w 4 -c 32 --per-host 16', 'More in flight'),
  // yargs reads a bare "-" as no value: it means stdin here.,
  toConfig: (args, argv) =>
    toDownloadConfig({ ...args, csv: args.csv || (argv.includes('-') ? '-' : undefined) }),
  progress: () => 'reading the CSV',
  load: () => import('./run.ts'),
});
