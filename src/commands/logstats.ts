import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Interrupted, ItemFailures, UsageError } from '../errors.ts';
import { toCommonConfig, type CommonArgs, type CommonConfig } from '../config.ts';
import { createPool, TaskError, type Runtime } from '../pool/pool.ts';
import { listInputs, reason, scanStream, type LogInput } from '../logstats/read.ts';
import { planRanges, type LogFile, type ScanRange } from '../logstats/split.ts';
import { ClientUnion, type TallyResult } from '../logstats/tally.ts';
import { formatCount as count, formatMs, style, table } from '../ui/format.ts';
import { printable } from '../ui/printable.ts';

export interface LogstatsArgs extends CommonArgs {
  readonly paths?: readonly string[] | undefined;
  readonly recursive?: boolean | undefined;
  readonly top?: number | undefined;
  readonly splitSize?: string | undefined;
}

export interface LogstatsConfig extends CommonConfig {
  readonly paths: readonly string[];
  readonly recursive: boolean;
  /** 0: no top list. */
  readonly top: number;
  /** Cut files into ranges of this many bytes; undefined: decided from sizes and workers. */
  readonly splitBytes: number | undefined;
}

/** Validates the command line; child processes by default, one file per process. */
export function toLogstatsConfig(args: LogstatsArgs): LogstatsConfig {
  const common = toCommonConfig(args, 'process');
  const paths = args.paths ?? [];
  if (paths.length === 0) {
    throw new UsageError('name a log directory, log files, or - for stdin');
  }
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('stdin (-) can be read once');
  const top = args.top ?? 0;
  if (!(Number.isSafeInteger(top) && top >= 0 && top <= 10_000)) {
    throw new UsageError(`--top must be a whole number from 0 to 10000; got "${args.top}"`);
  }
  const splitBytes = args.splitSize === undefined ? undefined : parseSize(args.splitSize);
  return { ...common, paths, recursive: args.recursive ?? false, top, splitBytes };
}

/** "64M", "1g", "4096" -> bytes; a usage error for anything else. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(text.trim());
  const unit = match?.[2]?.[0]?.toLowerCase() ?? 'b';
  const scale = { b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[unit] ?? NaN;
  const bytes = match ? Math.round(Number(match[1]) * scale) : NaN;
  if (!(Number.isSafeInteger(bytes) && bytes >= 1)) {
    throw new UsageError(`--split-size must be a size such as 4096, 512K or 64M; got "${text}"`);
  }
  return bytes;
}

export interface TopClient {
  readonly ip: string;
  readonly requests: number;
}

export interface FileStats {
  readonly file: string;
  readonly total: number;
  readonly ip: number;
  readonly malformed: number;
  /** Bytes of log text scanned (after decompression). */
  readonly bytes: number;
  readonly ranges: number;
  readonly top?: readonly TopClient[];
}

export interface FileFailure {
  readonly file: string;
  readonly error: string;
}

export interface LogstatsResult {
  readonly files: readonly FileStats[];
  readonly failed: readonly FileFailure[];
  readonly all: {
    readonly files: number;
    readonly total: number;
    readonly ip: number;
    readonly malformed: number;
    readonly bytes: number;
    readonly top?: readonly TopClient[];
  };
  readonly ms: number;
  readonly workers: number;
  readonly runtime: Runtime;
}

/** Called as work finishes: files and bytes done of the totals known so far. */
export type LogstatsProgress = (p: {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
}) => void;

/**
 * Counts every input: ranges go to the pool, stdin is read here, and the parent merges the
 * workers' compact IP sets into exact per-file and overall distinct counts.
 */
export async function runLogstats(
  config: LogstatsConfig,
  signal?: AbortSignal,
  onProgress?: LogstatsProgress,
): Promise<LogstatsResult> {
  const began = performance.now();
  const listed = await listInputs(config.paths, config.recursive);
  const failed = new Map<number, string>();
  const inputs: LogInput[] = listed.files;
  const sized: (LogFile & { index: number })[] = [];
  await Promise.all(
    inputs.map(async (input, index) => {
      if (input.path === '-') return;
      try {
        const info = await stat(input.path);
        sized[index] = {
          index,
          path: input.path,
          size: info.size,
          gzip: /\.gz$/i.test(input.name),
        };
      } catch (error) {
        failed.set(index, reason(error));
      }
    }),
  );
  const files = sized.filter((f): f is LogFile & { index: number } => f !== undefined);
  // planRanges numbers files by their position in the list it gets; map back to inputs.
  // Inline runs one range at a time: cutting a file for it would only add a merge.
  const scanners = config.runtime === 'inline' ? 1 : config.workers;
  const ranges = planRanges(files, scanners, config.splitBytes).map((r) => ({
    ...r,
    file: files[r.file]!.index,
  }));
  const perFile = new Map<number, TallyResult[]>();
  const rangesOf = new Map<number, number>();
  for (const r of ranges) rangesOf.set(r.file, (rangesOf.get(r.file) ?? 0) + 1);

  const want = config.top > 0;
  const union = new ClientUnion(want);
  const totalFiles = inputs.length;
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  let doneFiles = failed.size;
  let doneBytes = 0;
  const report = (): void =>
    onProgress?.({ files: doneFiles, totalFiles, bytes: doneBytes, totalBytes });

  const failedParts = new Map<number, number>();
  const settle = (index: number, result: TallyResult | undefined, bytes: number): void => {
    doneBytes += bytes;
    if (result) {
      const parts = perFile.get(index) ?? [];
      parts.push(result);
      perFile.set(index, parts);
    }
    if (
      (perFile.get(index)?.length ?? 0) + (failedParts.get(index) ?? 0) ===
      (rangesOf.get(index) ?? 1)
    ) {
      doneFiles++;
    }
    report();
  };

  const workers = Math.max(1, Math.min(config.workers, ranges.length));
  const pool =
    ranges.length > 0
      ? await createPool({ runtime: config.runtime, workers, ...(signal ? { signal } : {}) })
      : undefined;
  try {
    report();
    const scans: Promise<void>[] = ranges.map(async (range: ScanRange) => {
      try {
        const result = await pool!.run('logstatsRange', { range, top: want });
        settle(range.file, result, range.end - range.start);
      } catch (error) {
        if (signal?.aborted) throw error;
        if (!failed.has(range.file)) failed.set(range.file, causeOf(error));
        failedParts.set(range.file, (failedParts.get(range.file) ?? 0) + 1);
        settle(range.file, undefined, range.end - range.start);
      }
    });
    const stdinIndex = inputs.findIndex((input) => input.path === '-');
    if (stdinIndex >= 0) {
      scans.push(
        scanStream(process.stdin, want).then(
          (result) => settle(stdinIndex, result, 0),
          (error: unknown) => {
            failed.set(stdinIndex, reason(error));
          },
        ),
      );
    }
    await Promise.all(scans);
  } catch (error) {
    if (signal?.aborted) {
      throw new Interrupted(`interrupted: ${doneFiles} of ${totalFiles} files had been counted`);
    }
    throw error;
  } finally {
    await pool?.destroy();
  }

  const stats: FileStats[] = [];
  const counted: TallyResult[][] = [];
  inputs.forEach((input, index) => {
    const parts = perFile.get(index);
    if (failed.has(index) || !parts) return;
    stats.push(countFile(input.name, parts, config.top));
    counted.push(parts);
  });
  perFile.clear();
  // One file without --top is its own union: skip re-building a set of every address.
  const only = counted.length === 1 && !want ? stats[0] : undefined;
  if (!only) for (const part of counted.flat()) union.add(part);
  const sum = (key: 'total' | 'malformed' | 'bytes'): number =>
    stats.reduce((n, f) => n + f[key], 0);

  return {
    files: stats,
    failed: [
      ...listed.errors.map((e) => ({ file: e.name, error: e.error })),
      ...[...failed].map(([index, error]) => ({ file: inputs[index]!.name, error })),
    ],
    all: {
      files: stats.length,
      total: sum('total'),
      ip: only ? only.ip : union.ips,
      malformed: sum('malformed'),
      bytes: sum('bytes'),
      ...(want ? { top: union.top(config.top) } : {}),
    },
    ms: performance.now() - began,
    workers: pool?.workers ?? 0,
    runtime: config.runtime,
  };
}

/** One file's numbers from its ranges; a lone range without --top needs no merging. */
function countFile(name: string, parts: readonly TallyResult[], top: number): FileStats {
  const sum = (key: 'total' | 'malformed' | 'bytes'): number =>
    parts.reduce((n, part) => n + part[key], 0);
  let ip: number;
  let topClients: readonly TopClient[] | undefined;
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && top === 0) {
    ip = only.ipv4.length + only.ipv6.length;
  } else {
    const union = new ClientUnion(top > 0);
    for (const part of parts) union.add(part);
    ip = union.ips;
    if (top > 0) topClients = union.top(top);
  }
  return {
    file: name,
    total: sum('total'),
    ip,
    malformed: sum('malformed'),
    bytes: sum('bytes'),
    ranges: parts.length,
    ...(topClients ? { top: topClients } : {}),
  };
}

function causeOf(error: unknown): string {
  const cause = error instanceof TaskError ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The human report: one row per file and a totals row, then the top clients if asked. */
export function formatLogstats(result: LogstatsResult): string {
  const rows = result.files.map((f) => [
    printable(f.file),
    count(f.total),
    count(f.ip),
    count(f.malformed),
  ]);
  const { all } = result;
  rows.push([
    style('bold', `all (${all.files} file${all.files === 1 ? '' : 's'})`),
    style('bold', count(all.total)),
    style('bold', count(all.ip)),
    style('bold', count(all.malformed)),
  ]);
  const lines = [table(['file', 'total', 'ip', 'malformed'], rows)];
  const topBlocks: [string, readonly TopClient[] | undefined][] = [
    ...result.files.map((f): [string, readonly TopClient[] | undefined] => [f.file, f.top]),
    ['all files', all.top],
  ];
  for (const [name, top] of topBlocks) {
    if (!top) continue;
    lines.push('', `busiest clients: ${printable(name)}`);
    lines.push(
      top.length === 0
        ? '  (none)'
        : table(
            ['  ip', 'requests'],
            top.map((t) => [`  ${t.ip}`, count(t.requests)]),
          ),
    );
  }
  const seconds = result.ms / 1000;
  const mb = all.bytes / 1e6;
  lines.push(
    '',
    style(
      'dim',
      `${mb.toFixed(1)} MB, ${count(all.total)} line${all.total === 1 ? '' : 's'} in ${formatMs(result.ms)}` +
        (seconds > 0 ? ` (${(mb / seconds).toFixed(0)} MB/s)` : '') +
        (result.workers > 0 ? `, ${result.workers} × ${result.runtime}` : ''),
    ),
  );
  return lines.join('\n');
}

/** `--json`: files and all as the issue specifies, plus bytes, ranges, top, failed, ms. */
export function logstatsJson(result: LogstatsResult): Record<string, unknown> {
  return {
    files: result.files,
    all: result.all,
    failed: result.failed,
    ms: Number(result.ms.toFixed(1)),
    workers: result.workers,
    runtime: result.runtime,
  };
}

/** Exit 1 after the report when any input could not be read, naming each with its reason. */
export function checkLogstats(result: LogstatsResult): void {
  const n = result.failed.length;
  if (n === 0) return;
  // The error can quote the path too: escape the whole entry.
  const list = result.failed.map((f) => printable(`${f.file} (${f.error})`)).join('; ');
  throw new ItemFailures(n, `${n} file${n === 1 ? '' : 's'} could not be read: ${list}`);
}
