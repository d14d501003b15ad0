/**
 * A logstats run: list the inputs, plan byte ranges, count them on the pool (stdin and other
 * streams here), and put the parts together (summary.ts).
 */
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Interrupted, reasonOf } from '../errors.ts';
import type { PoolFactory, PoolRuntime } from '../pool/pool.ts';
import type { LogstatsConfig } from './config.ts';
import type { LineRules } from './keyed.ts';
import { listInputs, readHere, scanHere, type LogInput } from './read.ts';
import { planRanges, type LogFile, type ScanRange } from './split.ts';
import { summarize, type LogstatsResult } from './summary.ts';
import type { TallyResult } from './tally.ts';

/** The one task logstats needs of the pool. */
export interface LogstatsTasks {
  readonly logstatsRange: (input: {
    readonly range: ScanRange;
    readonly top: boolean;
    readonly rules?: LineRules | undefined;
  }) => Promise<TallyResult>;
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
  pools: PoolFactory<LogstatsTasks>,
  signal?: AbortSignal,
  onProgress?: LogstatsProgress,
): Promise<LogstatsResult> {
  const began = performance.now();
  const plan = await planInputs(config);
  const tracker = new FileTracker(plan, onProgress);
  const pool = await scanAll(plan, config, pools, tracker, signal);
  const scanned = { ...plan, parts: tracker.parts, warnings: tracker.warnings };
  return summarize(scanned, config, pool, performance.now() - began);
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
        failed.set(index, reasonOf(error));
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

/** Runs every range on the pool and stdin here; returns the pool's workers and runtime. */
async function scanAll(
  plan: InputPlan,
  config: LogstatsConfig,
  pools: PoolFactory<LogstatsTasks>,
  tracker: FileTracker,
  signal?: AbortSignal,
): Promise<{ readonly workers: number; readonly runtime: PoolRuntime }> {
  const { ranges, failed, inputs } = plan;
  const want = config.top > 0;
  const workers = Math.max(1, Math.min(config.workers, ranges.length));
  const pool =
    ranges.length > 0
      ? await pools({ runtime: config.runtime, workers, ...(signal ? { signal } : {}) })
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
        scanHere(inputs[index]!, want, config.rules, signal).then(
          (result) => tracker.settle(index, result, 0),
          (error: unknown) => {
            failed.set(index, reasonOf(error));
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
  // With nothing for the pool (stdin only), no pool started: what ran was this process.
  return pool ?? { workers: 0, runtime: config.runtime };
}
