import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Interrupted, ItemFailures, reasonOf } from '../../errors.ts';
import type { Runtime } from '../../pool/pool.ts';
import { pathText } from '../../logstats/file-names.ts';
import { listInputs, readHere, reason, scanHere, type LogInput } from '../../logstats/read.ts';
import { planRanges, type LogFile, type ScanRange } from '../../logstats/split.ts';
import { compareKeys } from '../../logstats/keyed.ts';
import type { Grouping } from '../../logstats/timestamp.ts';
import { ClientUnion, distinctClients, type TallyResult } from '../../logstats/tally.ts';
import { createTaskPool } from '../../tasks/pool.ts';
import { formatCount as count, formatMs, plural, round, style, table } from '../../ui/format.ts';
import { printable } from '../../ui/printable.ts';
import type { RunContext } from '../command.ts';
import type { LogstatsConfig } from './options.ts';

export async function run(config: LogstatsConfig, context: RunContext): Promise<LogstatsResult> {
  return runLogstats(config, context.signal, (p) =>
    context.progress(
      `counting: ${p.files} of ${p.totalFiles} files, ` +
        `${(p.bytes / 1e6).toFixed(0)} of ${(p.totalBytes / 1e6).toFixed(0)} MB`,
    ),
  );
}

export const format = formatLogstats;
export const json = logstatsJson;
export const check = checkLogstats;

/**
 * Said on stderr, not errors (exit 0): files counted only in part (a .gz with trailing
 * garbage, whose data before it was read, as gzip(1) does), and paths with no log file.
 */
export function notes(result: LogstatsResult, config: LogstatsConfig): string[] {
  const said = result.warnings.map(({ file, warning }) => `${printable(file)}: ${warning}`);
  if (result.fields.length > 0) {
    // Without --ip-field, say which of the common names held the clients.
    said.push(`JSON lines: client IPs from ${result.fields.map((f) => `"${f}"`).join(', ')}`);
  }
  if (result.files.length === 0 && result.failed.length === 0) {
    said.push(`no log files in ${printable(config.paths.map(pathText).join(', '))}`);
  }
  return said;
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
  /** Files counted only in part, with why (a .gz with trailing garbage). */
  readonly warnings: readonly { readonly file: string; readonly warning: string }[];
  readonly all: {
    readonly files: number;
    readonly total: number;
    readonly ip: number;
    readonly malformed: number;
    readonly bytes: number;
    readonly top?: readonly TopClient[];
  };
  /** With --by: one row per day or hour across every file, in time order. */
  readonly groups?: readonly GroupStats[];
  readonly by?: Grouping;
  /** JSON-lines logs: the fields the clients were read from. */
  readonly fields: readonly string[];
  readonly ms: number;
  readonly workers: number;
  readonly runtime: Runtime;
}

export interface GroupStats {
  readonly key: string;
  readonly total: number;
  readonly ip: number;
  readonly malformed: number;
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
  const plan = await planInputs(config);
  const tracker = new FileTracker(plan, onProgress);
  const workers = await scanAll(plan, config, tracker, signal);
  return summarize(plan, tracker, config, workers, performance.now() - began);
}

/** What to read: the inputs, those that failed already, and the ranges for the pool. */
interface InputPlan {
  readonly inputs: readonly LogInput[];
  readonly listErrors: readonly { name: string; error: string }[];
  /** Input index -> reason, for inputs that could not be read (filled while scanning too). */
  readonly failed: Map<number, string>;
  readonly ranges: readonly ScanRange[];
  /** Inputs read in this process, to their end: stdin, FIFOs, devices (see readHere). */
  readonly here: ReadonlySet<number>;
  readonly totalBytes: number;
}

async function planInputs(config: LogstatsConfig): Promise<InputPlan> {
  const listed = await listInputs(config.paths, config.recursive);
  const failed = new Map<number, string>();
  const inputs: LogInput[] = listed.files;
  const sized: (LogFile & { index: number })[] = [];
  const here = new Set<number>();
  await Promise.all(
    inputs.map(async (input, index) => {
      if (input.path === '-') return void here.add(index);
      try {
        const info = await stat(input.path);
        if (readHere(input.path, info)) return void here.add(index);
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
  return {
    inputs,
    listErrors: listed.errors,
    failed,
    ranges,
    here,
    totalBytes: files.reduce((sum, f) => sum + f.size, 0),
  };
}

/** Each input's finished parts, and progress in files and bytes as parts settle. */
class FileTracker {
  readonly parts = new Map<number, TallyResult[]>();
  readonly warnings = new Map<number, string>();
  readonly #failedParts = new Map<number, number>();
  readonly #rangesOf = new Map<number, number>();
  readonly #plan: InputPlan;
  readonly #onProgress: LogstatsProgress | undefined;
  doneFiles: number;
  #doneBytes = 0;

  constructor(plan: InputPlan, onProgress?: LogstatsProgress) {
    this.#plan = plan;
    this.#onProgress = onProgress;
    this.doneFiles = plan.failed.size;
    for (const r of plan.ranges) this.#rangesOf.set(r.file, (this.#rangesOf.get(r.file) ?? 0) + 1);
  }

  report(): void {
    this.#onProgress?.({
      files: this.doneFiles,
      totalFiles: this.#plan.inputs.length,
      bytes: this.#doneBytes,
      totalBytes: this.#plan.totalBytes,
    });
  }

  /** One part of input `index` finished (a result) or failed (undefined). */
  settle(index: number, result: TallyResult | undefined, bytes: number): void {
    this.#doneBytes += bytes;
    if (result?.warning) this.warnings.set(index, result.warning);
    if (result) {
      const parts = this.parts.get(index) ?? [];
      parts.push(result);
      this.parts.set(index, parts);
    } else {
      this.#failedParts.set(index, (this.#failedParts.get(index) ?? 0) + 1);
    }
    const settled = (this.parts.get(index)?.length ?? 0) + (this.#failedParts.get(index) ?? 0);
    if (settled === (this.#rangesOf.get(index) ?? 1)) this.doneFiles++;
    this.report();
  }
}

/** Runs every range on the pool and stdin here; returns how many workers the pool had. */
async function scanAll(
  plan: InputPlan,
  config: LogstatsConfig,
  tracker: FileTracker,
  signal?: AbortSignal,
): Promise<number> {
  const { ranges, failed, inputs } = plan;
  const want = config.top > 0;
  const workers = Math.max(1, Math.min(config.workers, ranges.length));
  const pool =
    ranges.length > 0
      ? await createTaskPool({ runtime: config.runtime, workers, ...(signal ? { signal } : {}) })
      : undefined;
  try {
    tracker.report();
    const scans: Promise<void>[] = ranges.map(async (range: ScanRange) => {
      try {
        const result = await pool!.run('logstatsRange', { range, top: want, rules: config.rules });
        tracker.settle(range.file, result, range.end - range.start);
      } catch (error) {
        if (signal?.aborted) throw error;
        if (!failed.has(range.file)) failed.set(range.file, reasonOf(error));
        tracker.settle(range.file, undefined, range.end - range.start);
      }
    });
    for (const index of plan.here) {
      scans.push(
        scanHere(inputs[index]!, want, config.rules).then(
          (result) => tracker.settle(index, result, 0),
          (error: unknown) => {
            failed.set(index, reason(error));
          },
        ),
      );
    }
    await Promise.all(scans);
    signal?.throwIfAborted(); // stdin's scan ends as a failed input when interrupted
  } catch (error) {
    if (signal?.aborted) {
      throw new Interrupted(
        `interrupted: ${tracker.doneFiles} of ${inputs.length} files had been counted`,
      );
    }
    throw error;
  } finally {
    await pool?.destroy();
  }
  return pool?.workers ?? 0;
}

/** Per-file numbers, and the exact union over every file. */
function summarize(
  plan: InputPlan,
  tracker: FileTracker,
  config: LogstatsConfig,
  workers: number,
  ms: number,
): LogstatsResult {
  const want = config.top > 0;
  const stats: FileStats[] = [];
  const counted: TallyResult[][] = [];
  plan.inputs.forEach((input, index) => {
    const parts = tracker.parts.get(index);
    if (plan.failed.has(index) || !parts) return;
    stats.push(countFile(input.name, parts, config.top));
    counted.push(parts);
  });
  tracker.parts.clear();
  // One file without --top is its own union: skip re-building a set of every address.
  const only = counted.length === 1 && !want ? stats[0] : undefined;
  const union = new ClientUnion(want);
  if (!only) for (const part of counted.flat()) union.add(part);
  const sum = (key: 'total' | 'malformed' | 'bytes'): number =>
    stats.reduce((n, f) => n + f[key], 0);
  const parts = counted.flat();
  return {
    files: stats,
    ...(config.rules.by !== undefined ? { by: config.rules.by, groups: mergeGroups(parts) } : {}),
    fields: [...new Set(parts.flatMap((part) => part.fields ?? []))].sort(),
    warnings: [...tracker.warnings]
      .sort(([a], [b]) => a - b)
      .map(([index, warning]) => ({ file: plan.inputs[index]!.name, warning })),
    failed: [
      ...plan.listErrors.map((e) => ({ file: e.name, error: e.error })),
      ...[...plan.failed].map(([index, error]) => ({ file: plan.inputs[index]!.name, error })),
    ],
    all: {
      files: stats.length,
      total: sum('total'),
      ip: only ? only.ip : union.ips,
      malformed: sum('malformed'),
      bytes: sum('bytes'),
      ...(want ? { top: union.top(config.top) } : {}),
    },
    ms,
    workers,
    runtime: config.runtime,
  };
}

/**
 * Each group's numbers over every file and range that holds it: the distinct IPs of a day
 * are the exact union of that day's sets from every part.
 */
function mergeGroups(parts: readonly TallyResult[]): GroupStats[] {
  const byKey = new Map<string, ClientUnion>();
  for (const part of parts) {
    for (const group of part.groups ?? []) {
      let union = byKey.get(group.key);
      if (union === undefined) byKey.set(group.key, (union = new ClientUnion(false)));
      union.add({ ...group, bytes: 0 });
    }
  }
  return [...byKey]
    .sort(([a], [b]) => compareKeys(a, b))
    .map(([key, union]) => ({
      key,
      total: union.total,
      ip: union.ips,
      malformed: union.malformed,
    }));
}

/** One file's numbers from its ranges; a lone range without --top needs no merging. */
function countFile(name: string, parts: readonly TallyResult[], top: number): FileStats {
  const sum = (key: 'total' | 'malformed' | 'bytes'): number =>
    parts.reduce((n, part) => n + part[key], 0);
  let ip: number;
  let topClients: readonly TopClient[] | undefined;
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && top === 0) {
    ip = distinctClients(only);
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

/** The human report: one row per file and a totals row, then the top clients if asked. */
export function formatLogstats(result: LogstatsResult): string {
  const { all } = result;
  // With --by, the rows are days (or hours) across every file; else, the files.
  const rows = (
    result.groups?.map((g) => [g.key, g.total, g.ip, g.malformed] as const) ??
    result.files.map((f) => [printable(f.file), f.total, f.ip, f.malformed] as const)
  ).map(([name, total, ip, malformed]) => [name, count(total), count(ip), count(malformed)]);
  rows.push([
    style('bold', `all (${plural(all.files, 'file')})`),
    style('bold', count(all.total)),
    style('bold', count(all.ip)),
    style('bold', count(all.malformed)),
  ]);
  const lines = [table([result.by ?? 'file', 'total', 'ip', 'malformed'], rows)];
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
    ...(result.groups ? { groups: result.groups } : {}),
    failed: result.failed,
    warnings: result.warnings,
    ms: round(result.ms),
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
  throw new ItemFailures(n, `${plural(n, 'file')} could not be read: ${list}`);
}
