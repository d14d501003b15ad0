import { join } from 'node:path';
import { ItemFailures, UsageError } from '../errors.ts';
import { toCommonConfig, type CommonArgs } from '../config.ts';
import type {
  DownloadConfig,
  DownloadProgress,
  DownloadResult,
  RowFailure,
} from '../download/config.ts';
import { InputError } from '../download/errors.ts';
import { MANIFEST } from '../download/manifest.ts';
import { runDownload as runPipeline } from '../download/run.ts';
import { formatBytes, formatMs, style, table } from '../ui/format.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_PER_HOST } from '../download/defaults.ts';

export type { DownloadConfig, DownloadProgress, DownloadResult, RowFailure };
export { MAX_REMEMBERED_URLS } from '../download/plan.ts';
export { MAX_LISTED_FAILURES } from '../download/report.ts';

/** A current desktop browser: image hosts often refuse agents they do not know. */
export const BROWSER_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export interface DownloadArgs extends CommonArgs {
  readonly csv?: string | undefined;
  readonly out?: string | undefined;
  readonly csvHeader?: string | undefined;
  readonly urlColumn?: string | number | undefined;
  readonly nameColumn?: string | number | undefined;
  readonly ext?: string | undefined;
  readonly anyType?: boolean | undefined;
  readonly concurrency?: number | undefined;
  readonly perHost?: number | undefined;
  readonly retries?: number | undefined;
  readonly timeout?: number | undefined;
  readonly maxBytes?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly header?: readonly string[] | undefined;
  readonly force?: boolean | undefined;
  readonly backoff?: number | undefined;
}

export { DEFAULT_CONCURRENCY, DEFAULT_PER_HOST };

const whole = (
  flag: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number => {
  const n = value ?? fallback;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}; got "${value}"`);
  }
  return n;
};

/** Validates the command line; worker threads by default (the work is I/O). */
export function toDownloadConfig(args: DownloadArgs): DownloadConfig {
  const common = toCommonConfig(args, 'thread');
  if (!args.csv) throw new UsageError('name the CSV file to read, or - for stdin');
  const csvHeader = args.csvHeader ?? 'auto';
  if (csvHeader !== 'yes' && csvHeader !== 'no' && csvHeader !== 'auto') {
    throw new UsageError(`--csv-header must be yes, no or auto; got "${csvHeader}"`);
  }
  const ext = args.ext?.replace(/^\./, '');
  if (ext !== undefined && !/^[a-z0-9]{1,10}$/i.test(ext)) {
    throw new UsageError(`--ext must be letters and digits such as png or jpg; got "${args.ext}"`);
  }
  const timeout = args.timeout ?? 30;
  if (!(timeout > 0 && timeout <= 3600)) {
    throw new UsageError(`--timeout must be seconds from 0 to 3600; got "${args.timeout}"`);
  }
  const backoff = args.backoff ?? 0.5;
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
    out: args.out ?? 'images',
    csvHeader,
    urlColumn: args.urlColumn === undefined ? undefined : String(args.urlColumn),
    nameColumn: args.nameColumn === undefined ? undefined : String(args.nameColumn),
    ext,
    concurrency: whole('--concurrency', args.concurrency, DEFAULT_CONCURRENCY, 1, 1024),
    perHost: whole('--per-host', args.perHost, DEFAULT_PER_HOST, 1, 1024),
    force: args.force ?? false,
    fetch: {
      retries: whole('--retries', args.retries, 3, 0, 100),
      timeoutMs: timeout * 1000,
      maxBytes: parseBytes(args.maxBytes ?? '50M'),
      headers,
      anyType: args.anyType ?? false,
      backoffMs: backoff * 1000,
    },
  };
}

function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg])?i?b?$/i.exec(text.trim());
  const scale = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[match?.[2]?.toLowerCase() ?? ''] ?? 1;
  const bytes = match ? Math.round(Number(match[1]) * scale) : NaN;
  if (!(Number.isSafeInteger(bytes) && bytes >= 1)) {
    throw new UsageError(`--max-bytes must be a size such as 50M or 500K; got "${text}"`);
  }
  return bytes;
}

/** The download run; a CSV that cannot be used as given is a usage error (exit 2). */
export async function runDownload(
  config: DownloadConfig,
  signal: AbortSignal,
  onProgress?: (p: DownloadProgress) => void,
): Promise<DownloadResult> {
  try {
    return await runPipeline(config, signal, onProgress);
  } catch (error) {
    throw error instanceof InputError ? new UsageError(error.message, { cause: error }) : error;
  }
}

const round = (x: number): number => Math.round(x * 10) / 10;

/** Failures grouped by reason, biggest group first, with the first few URLs of each. */
export function groupFailures(
  failures: readonly RowFailure[],
  examples = 3,
): { error: string; rows: number; urls: string[] }[] {
  const groups = new Map<string, { error: string; rows: number; urls: string[] }>();
  for (const f of failures) {
    const group = groups.get(f.error) ?? { error: f.error, rows: 0, urls: [] };
    group.rows++;
    if (group.urls.length < examples) group.urls.push(f.url || `(row ${f.row})`);
    groups.set(f.error, group);
  }
  return [...groups.values()].sort((a, b) => b.rows - a.rows);
}

/** The human summary: counts, bytes, time and rate, then failures by reason. */
export function formatDownload(result: DownloadResult): string {
  const seconds = result.ms / 1000;
  const lines = [
    table(
      ['downloaded', style('bold', `${result.ok} of ${result.total} rows`)],
      [
        ['skipped', `${result.skipped} (already done)`],
        ['failed', result.failed > 0 ? style('red', String(result.failed)) : '0'],
        ['bytes', formatBytes(result.bytes)],
        [
          'time',
          `${formatMs(result.ms)} (${formatBytes(seconds > 0 ? result.bytes / seconds : 0)}/s)`,
        ],
        ['files in', result.out],
      ],
    ),
  ];
  if (result.failed > result.failures.length) {
    lines.push('', `(the first ${result.failures.length} failures below; the manifest has all)`);
  }
  for (const group of groupFailures(result.failures)) {
    lines.push('', `${style('red', group.error)}: ${group.rows} row${group.rows === 1 ? '' : 's'}`);
    for (const url of group.urls) lines.push(`  ${url}`);
    if (group.rows > group.urls.length)
      lines.push(`  ... and ${group.rows - group.urls.length} more`);
  }
  return lines.join('\n');
}

export function downloadJson(result: DownloadResult): Record<string, unknown> {
  return {
    total: result.total,
    ok: result.ok,
    failed: result.failed,
    skipped: result.skipped,
    bytes: result.bytes,
    ms: round(result.ms),
    requests: result.requests,
    out: result.out,
    failures: result.failures,
    // True when more rows failed than `failures` lists (see MAX_LISTED_FAILURES).
    failuresTruncated: result.failed > result.failures.length,
  };
}

/** Exit 1 after the summary when any row failed. */
export function checkDownload(result: DownloadResult): void {
  if (result.failed > 0) {
    throw new ItemFailures(
      result.failed,
      `${result.failed} of ${result.total} rows failed (see ${join(result.out, MANIFEST)})`,
    );
  }
}
