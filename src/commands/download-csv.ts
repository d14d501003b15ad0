import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { Interrupted, ItemFailures, UsageError } from '../errors.ts';
import { toCommonConfig, type CommonArgs, type CommonConfig } from '../config.ts';
import { createPool, type Pool } from '../pool/pool.ts';
import { LayoutError } from '../download/errors.ts';
import type { FetchOptions, FetchOutcome } from '../download/fetch.ts';
import {
  doneKey,
  MANIFEST,
  ManifestWriter,
  readManifest,
  type ManifestLine,
} from '../download/manifest.ts';
import { fileName, NameBook, stemFor } from '../download/names.ts';
import {
  detectLayout,
  isHttpUrl,
  toJob,
  type HeaderMode,
  type Job,
  type Layout,
} from '../download/rows.ts';
import { fileSize, prepareOut, publish, publishCopy, tempPath } from '../download/store.ts';
import { formatBytes, formatMs, style, table } from '../ui/format.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_PER_HOST } from '../download/defaults.ts';

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

export interface DownloadConfig extends CommonConfig {
  /** A path, or '-' for stdin. */
  readonly csv: string;
  readonly out: string;
  readonly csvHeader: HeaderMode;
  readonly urlColumn: string | undefined;
  readonly nameColumn: string | undefined;
  /** Forced extension, without the dot. */
  readonly ext: string | undefined;
  readonly concurrency: number;
  readonly perHost: number;
  readonly force: boolean;
  readonly fetch: Omit<FetchOptions, 'perHost'>;
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

export interface RowFailure {
  readonly row: number;
  readonly url: string;
  readonly error: string;
}

export interface DownloadResult {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
  readonly bytes: number;
  readonly ms: number;
  readonly requests: number;
  readonly failures: readonly RowFailure[];
  readonly out: string;
  readonly cleaned: number;
}

export interface DownloadProgress {
  readonly done: number;
  readonly read: number;
  readonly failed: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  /** Fraction of the CSV file consumed, when it is a file (not stdin). */
  readonly fraction: number | undefined;
}

/** Distinct URLs remembered for de-duplication (repeats in a CSV are usually close). */
export const MAX_REMEMBERED_URLS = 100_000;

/** How many failures the summary and --json list; the manifest has every one. */
export const MAX_LISTED_FAILURES = 10_000;

/** Rows in flight (fetching, or waiting on a URL another row fetches) before reading pauses. */
const inFlightLimit = (config: DownloadConfig): number =>
  Math.max(16, config.workers * config.concurrency * 2);

/**
 * Streams the CSV, names every row, fetches each distinct URL once through the pool, puts
 * every row's file in place, and appends one manifest line per finished row.
 */
export async function runDownload(
  config: DownloadConfig,
  signal: AbortSignal,
  onProgress?: (p: DownloadProgress) => void,
): Promise<DownloadResult> {
  const began = performance.now();
  const runId = randomBytes(4).toString('hex');
  const csvSize = config.csv === '-' ? undefined : await csvFileSize(config.csv);
  const cleaned = await prepareOut(config.out);
  const manifestPath = join(config.out, MANIFEST);
  const done = config.force
    ? new Map<string, { file: string; bytes: number }>()
    : await readManifest(manifestPath);
  const manifest = new ManifestWriter(manifestPath);
  const input: Readable = config.csv === '-' ? process.stdin : createReadStream(config.csv);
  const parser = input.pipe(
    parse({
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      trim: true,
    }),
  );

  // pipe() does not forward errors: a read error must end the parse, not vanish.
  input.on('error', (error) => parser.destroy(error));
  const counts = { read: 0, done: 0, ok: 0, failed: 0, skipped: 0, bytes: 0, requests: 0 };
  // Every failure is in the manifest; the report lists the first MAX_LISTED_FAILURES, so a
  // huge failing list cannot grow memory without bound.
  const failures: RowFailure[] = [];
  const names = new NameBook();
  // One fetch per distinct URL; later rows with it wait for it and copy its file.
  const byUrl = new Map<
    string,
    Promise<{ outcome: FetchOutcome; path?: string; writeError?: string }>
  >();
  const inFlight = new Set<Promise<void>>();
  let temps = 0;
  const report = (): void =>
    onProgress?.({
      done: counts.done,
      read: counts.read,
      failed: counts.failed,
      bytes: counts.bytes,
      elapsedMs: performance.now() - began,
      fraction: csvSize
        ? Math.min(1, (input as Readable & { bytesRead: number }).bytesRead / csvSize)
        : undefined,
    });

  const finish = (line: ManifestLine): void => {
    manifest.write(line);
    counts.done++;
    if (line.status === 'ok') {
      counts.ok++;
      counts.bytes += line.bytes;
    } else if (line.status === 'skipped') counts.skipped++;
    else {
      counts.failed++;
      if (failures.length < MAX_LISTED_FAILURES) {
        failures.push({ row: line.row, url: line.url, error: line.error ?? 'failed' });
      }
    }
    report();
  };
  const blank = {
    file: null,
    http: null,
    bytes: 0,
    sha256: null,
    contentType: null,
    attempts: 0,
    error: null,
    ms: 0,
  };

  const perWorker = Math.max(1, Math.ceil(config.perHost / Math.max(1, config.workers)));
  const pool: Pool = await createPool({
    runtime: config.runtime,
    workers: config.workers,
    tasksPerWorker: config.concurrency,
    signal,
  });

  const handle = async (job: Job, stem: string): Promise<void> => {
    const started = performance.now();
    const previous = done.get(doneKey(job.row, job.url));
    if (previous && (await fileSize(join(config.out, previous.file))) === previous.bytes) {
      finish({
        ...blank,
        row: job.row,
        id: job.id,
        name: job.name,
        url: job.url,
        status: 'skipped',
        file: previous.file,
        bytes: previous.bytes,
      });
      return;
    }
    const name = (outcome: FetchOutcome & { ok: true }): string =>
      fileName(stem, config.ext ?? outcome.ext);
    let fetched = byUrl.get(job.url);
    const first = fetched === undefined;
    if (!fetched) {
      const temp = tempPath(config.out, runId, temps++);
      // The first row's file is published before anyone else sees the outcome, so rows
      // sharing the URL copy a file that exists.
      fetched = pool
        .run('downloadUrl', {
          url: job.url,
          tempPath: temp,
          options: { ...config.fetch, perHost: perWorker },
        })
        .then(async (outcome) => {
          if (!outcome.ok) return { outcome };
          try {
            return { outcome, path: await publish(config.out, temp, name(outcome)) };
          } catch (error) {
            return { outcome, writeError: (error as Error).message };
          }
        });
      byUrl.set(job.url, fetched);
      // Remember the most recent URLs only: a repeat of a URL forgotten long ago is fetched
      // again (still correct, one more request), and memory stays bounded on any CSV.
      if (byUrl.size > MAX_REMEMBERED_URLS) byUrl.delete(byUrl.keys().next().value!);
      // Once settled, keep only what later rows need: memory per distinct URL stays small.
      // (A rejection means the run was aborted; the row's own await reports it.)
      fetched.then(
        (settled) => {
          if (!byUrl.has(job.url)) return; // already forgotten
          byUrl.set(
            job.url,
            Promise.resolve(
              settled.outcome.ok
                ? { ...settled, outcome: { ...settled.outcome, finalUrl: '' } }
                : { outcome: settled.outcome },
            ),
          );
        },
        () => undefined,
      );
      counts.requests++;
    }
    const { outcome, path, writeError } = await fetched;
    const base = {
      row: job.row,
      id: job.id,
      name: job.name,
      url: job.url,
      ms: round(performance.now() - started),
    };
    if (!outcome.ok) {
      finish({
        ...blank,
        ...base,
        status: 'failed',
        http: outcome.status ?? null,
        attempts: outcome.attempts,
        error: outcome.error,
      });
      return;
    }
    const file = name(outcome);
    try {
      if (writeError !== undefined || path === undefined) throw new Error(writeError);
      if (!first) await publishCopy(config.out, path, tempPath(config.out, runId, temps++), file);
    } catch (error) {
      finish({
        ...blank,
        ...base,
        status: 'failed',
        attempts: outcome.attempts,
        error: `cannot write ${file}: ${(error as Error).message}`,
      });
      return;
    }
    finish({
      ...base,
      status: 'ok',
      file,
      http: outcome.status,
      bytes: outcome.bytes,
      sha256: outcome.sha256,
      contentType: outcome.contentType || null,
      attempts: first ? outcome.attempts : 0,
      error: null,
    });
  };

  let layout: Layout | undefined;
  let pending: string[] | undefined;
  let row = 0;
  const take = async (record: string[]): Promise<void> => {
    row++;
    counts.read++;
    const job = toJob(record, layout!, row);
    if ('error' in job) {
      finish({ ...blank, row, id: '', name: '', url: job.url, status: 'failed', error: job.error });
      return;
    }
    const stem = names.claim(stemFor(job));
    const task = handle(job, stem).finally(() => inFlight.delete(task));
    inFlight.add(task);
    // Backpressure: stop reading the CSV while enough rows are in flight.
    while (inFlight.size >= inFlightLimit(config)) await Promise.race(inFlight);
  };

  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      signal.throwIfAborted();
      if (!layout) {
        // The first row is a header when told so, or (auto) when none of it is a URL.
        const header =
          config.csvHeader === 'yes' || (config.csvHeader === 'auto' && !record.some(isHttpUrl));
        if (pending === undefined && header) {
          pending = record;
          continue;
        }
        layout = detectLayout(pending ?? record, pending ? record : undefined, {
          header: pending ? 'yes' : 'no',
          urlColumn: config.urlColumn,
          nameColumn: config.nameColumn,
        });
      }
      await take(record);
    }
    await Promise.all(inFlight);
  } catch (error) {
    if (signal.aborted) {
      throw new Interrupted(
        `interrupted: ${counts.ok} downloaded, ${counts.skipped} skipped, ${counts.failed} failed of ${counts.read} rows read; run the same command again to finish`,
      );
    }
    if (error instanceof LayoutError) throw new UsageError(error.message, { cause: error });
    if ((error as { code?: string }).code === 'ENOENT' && config.csv !== '-') {
      throw new UsageError(`cannot read ${config.csv}: no such file`);
    }
    if ((error as { code?: string }).code?.startsWith('CSV_')) {
      throw new UsageError(`${config.csv} is not valid CSV: ${(error as Error).message}`);
    }
    throw error;
  } finally {
    input.destroy();
    await pool.destroy();
    await Promise.allSettled(inFlight);
    await manifest.close();
    // Threads killed mid-download leave their temp files: this run's are removed here.
    await prepareOut(config.out, runId);
  }
  return {
    total: counts.read,
    ok: counts.ok,
    failed: counts.failed,
    skipped: counts.skipped,
    bytes: counts.bytes,
    ms: performance.now() - began,
    requests: counts.requests,
    failures,
    out: config.out,
    cleaned,
  };
}

async function csvFileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new UsageError(`${path} is a directory, not a CSV file`);
    return info.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `cannot read ${path}: ${(error as { code?: string }).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
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
