/**
 * A logstats run: list the inputs, plan tasks (byte ranges of big files, batches of small
 * ones), count them on the pool (stdin and other streams here), and put the parts together
 * as they arrive (summary.ts).
 */
import { performance } from 'node:perf_hooks';
import { Interrupted, reasonOf, withPartial } from '../errors.ts';
import type { PoolFactory, PoolRuntime } from '../pool/pool.ts';
import type { LogstatsConfig } from './config.ts';
import type { FilesResult } from './batch.ts';
import { loadCrawlerCheck } from './crawlers.ts';
import type { LineRules } from './formats/index.ts';
import { listInputs, readHere, scanHere, type LogInput, type RangeResult } from './read.ts';
import { statEach } from './stat-each.ts';
import { planTasks, type LogFile, type ScanRange, type ScanTask } from './split.ts';
import { summarize, Totals, type LogstatsResult } from './summary.ts';
import type { TallyResult } from './tally.ts';

/** The tasks logstats needs of the pool. */
export interface LogstatsTasks {
  readonly logstatsRange: (input: {
    readonly range: ScanRange;
    readonly top: boolean;
    readonly rules?: LineRules | undefined;
  }) => Promise<RangeResult>;
  readonly logstatsFiles: (input: {
    readonly files: readonly ScanRange[];
    readonly top: number;
    readonly rules?: LineRules | undefined;
  }) => Promise<FilesResult>;
}

/** Called as work finishes: files and bytes done of the totals known so far. */
/** How far a run has got: files and bytes counted, of all. */
export interface ScanProgress {
  readonly files: number;
  readonly totalFiles: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

export type LogstatsProgress = (p: ScanProgress) => void;

/**
 * Counts every input: ranges and batches of small files go to the pool, stdin is read here,
 * and the parent merges the workers' compact IP sets into exact per-file and overall
 * distinct counts as they arrive.
 */
export async function runLogstats(
  config: LogstatsConfig,
  pools: PoolFactory<LogstatsTasks>,
  signal?: AbortSignal,
  onProgress?: LogstatsProgress,
): Promise<LogstatsResult> {
  const began = performance.now();
  const { tasks, ...plan } = await planInputs(config, signal);
  const tracker = new FileTracker(plan, tasks, config, onProgress);
  const scanned = { ...plan, totals: tracker.totals };
  // The agents panel says which agents are crawlers' when it is shown, here.
  if (config.rules.panels?.includes('agents') === true) await loadCrawlerCheck();
  let pool: { readonly workers: number; readonly runtime: PoolRuntime };
  try {
    pool = await scanAll(plan, tasks, config, pools, tracker, signal);
  } catch (error) {
    // What is known of a run that stopped: the files counted whole (a --json document). The
    // totals hold a file's numbers and clients only once its last part is in.
    const planned = { workers: config.workers, runtime: config.runtime };
    throw withPartial(error, summarize(scanned, config, planned, performance.now() - began));
  }
  return summarize(scanned, config, pool, performance.now() - began);
}

/** What to read: the inputs, and those that failed already. */
interface InputPlan {
  readonly inputs: readonly LogInput[];
  readonly listErrors: readonly { name: string; error: string }[];
  /** Input index -> reason, for inputs that could not be read (filled while scanning too). */
  readonly failed: Map<number, string>;
  /** Inputs read in this process, to their end: stdin, FIFOs, devices (see readHere). */
  readonly here: ReadonlySet<number>;
  readonly totalBytes: number;
}

/** The inputs, and the tasks for the pool (its own array: scanAll empties it). */
async function planInputs(
  config: LogstatsConfig,
  signal?: AbortSignal,
): Promise<InputPlan & { readonly tasks: ScanTask[] }> {
  const listed = await listInputs(config.paths, config.recursive, signal);
  const failed = new Map<number, string>();
  const inputs: LogInput[] = listed.files;
  const sized: (LogFile & { index: number })[] = [];
  const here = new Set<number>();
  // stdin is read here, whatever it is: it is not stat-ed.
  const paths = inputs.map(({ path }) => (path === '-' ? undefined : path));
  for (const [index, path] of paths.entries()) if (path === undefined) here.add(index);
  // A Ctrl-C while 100,000 files are looked at stops the looking; the run then stops
  // before its scan, with the summary of what was listed.
  await statEach(paths, signal, (index, info) => {
    const input = inputs[index]!;
    if (info instanceof Error) return void failed.set(index, reasonOf(info));
    if (readHere(input.path, info)) return void here.add(index);
    sized[index] = { index, path: input.path, size: info.size, gzip: /\.gz$/i.test(input.name) };
  });
  const files = sized.filter((f): f is LogFile & { index: number } => f !== undefined);
  // Inline runs one range at a time: cutting a file for it would only add a merge. Ranges
  // are numbered by input (each file's `index`).
  const scanners = config.runtime === 'inline' ? 1 : config.workers;
  const tasks = planTasks(files, scanners, config.splitBytes);
  return {
    inputs,
    listErrors: listed.errors,
    failed,
    tasks,
    here,
    totalBytes: files.reduce((sum, f) => sum + f.size, 0),
  };
}

/** What each input's parts added up to, and progress in files and bytes as parts settle. */
class FileTracker {
  readonly totals: Totals;
  /** Input index -> its planned ranges, and how many are still out (arrays: 100,000 files). */
  readonly #ranges: Uint32Array;
  readonly #out: Uint32Array;
  readonly #plan: InputPlan;
  readonly #onProgress: LogstatsProgress | undefined;
  doneFiles: number;
  #doneBytes = 0;

  constructor(
    plan: InputPlan,
    tasks: readonly ScanTask[],
    config: Pick<LogstatsConfig, 'top' | 'rules' | 'panelRows'>,
    onProgress?: LogstatsProgress,
  ) {
    this.totals = new Totals(config.top, config.rules.filter !== undefined, {
      panels: config.rules.panels ?? [],
      rows: config.panelRows,
    });
    this.#plan = plan;
    this.#onProgress = onProgress;
    this.doneFiles = plan.failed.size;
    this.#ranges = new Uint32Array(plan.inputs.length);
    for (const task of tasks) {
      for (const { file } of task.kind === 'range' ? [task.range] : task.files) {
        this.#ranges[file]!++;
      }
    }
    this.#out = this.#ranges.slice();
  }

  report(): void {
    this.#onProgress?.({
      files: this.doneFiles,
      totalFiles: this.#plan.inputs.length,
      bytes: this.#doneBytes,
      totalBytes: this.#plan.totalBytes,
    });
  }

  /**
   * A range came back counted, up to its end or (`result.next`) to where its rest starts,
   * which comes back later as a range of its own.
   */
  range(range: ScanRange, result: RangeResult): void {
    const file = range.file;
    if (!this.#plan.failed.has(file)) this.totals.part(file, result);
    this.#settle(file, (result.next ?? range.end) - range.start, result.next === undefined);
  }

  /** A range (or what was left of it) failed, and so its file. */
  rangeFailed(range: ScanRange, reason: string): void {
    this.#fail(range.file, reason);
    this.#settle(range.file, range.end - range.start, true);
  }

  /** A batch of whole files came back: each one's numbers or failure, and their union. */
  files(files: readonly ScanRange[], result: FilesResult): void {
    files.forEach((file, i) => {
      const count = result.files[i];
      if (count === undefined || 'error' in count) this.#fail(file.file, count?.error ?? 'lost');
      else this.totals.file(file.file, this.#plan.inputs[file.file]!.name, count);
      this.#settle(file.file, file.end, true);
    });
    this.totals.merge(result.union);
  }

  /** A batch failed as a whole (its worker died): so did each of its files. */
  filesFailed(files: readonly ScanRange[], reason: string): void {
    for (const file of files) {
      this.#fail(file.file, reason);
      this.#settle(file.file, file.end, true);
    }
  }

  /** Input `index`, read here, was counted. */
  here(index: number, result: TallyResult): void {
    this.totals.part(index, result);
    this.totals.close(index, this.#plan.inputs[index]!.name, 1);
    this.doneFiles++;
    this.report();
  }

  #fail(file: number, reason: string): void {
    if (!this.#plan.failed.has(file)) this.#plan.failed.set(file, reason);
    this.totals.drop(file);
  }

  #settle(file: number, bytes: number, last: boolean): void {
    this.#doneBytes += bytes;
    if (last) this.#out[file]!--;
    if (this.#out[file] === 0) {
      if (!this.#plan.failed.has(file)) {
        this.totals.close(file, this.#plan.inputs[file]!.name, this.#ranges[file]!);
      }
      this.doneFiles++;
    }
    this.report();
  }
}

/** Runs every task on the pool and stdin here; returns the pool's workers and runtime. */
async function scanAll(
  plan: InputPlan,
  tasks: ScanTask[],
  config: LogstatsConfig,
  pools: PoolFactory<LogstatsTasks>,
  tracker: FileTracker,
  signal?: AbortSignal,
): Promise<{ readonly workers: number; readonly runtime: PoolRuntime }> {
  const { failed, inputs } = plan;
  const workers = Math.max(1, Math.min(config.workers, tasks.length));
  // Interrupted while the inputs were listed: no pool is started for nothing.
  if (signal?.aborted) {
    throw new Interrupted(`interrupted: 0 of ${inputs.length} files had been counted`);
  }
  const pool =
    tasks.length > 0
      ? await pools({ runtime: config.runtime, workers, ...(signal ? { signal } : {}) })
      : undefined;
  try {
    tracker.report();
    const { rules, top } = config;
    // A range that stops early (millions of distinct clients) comes back with where its
    // rest starts: that is counted next, as a task of its own.
    const countRange = async (range: ScanRange): Promise<void> => {
      let result: RangeResult;
      try {
        result = await pool!.run('logstatsRange', { range, top: top > 0, rules });
      } catch (error) {
        if (signal?.aborted) throw error;
        return tracker.rangeFailed(range, reasonOf(error));
      }
      tracker.range(range, result);
      if (result.next !== undefined) await countRange({ ...range, start: result.next });
    };
    const countFiles = async (files: readonly ScanRange[]): Promise<void> => {
      try {
        tracker.files(files, await pool!.run('logstatsFiles', { files, top, rules }));
      } catch (error) {
        if (signal?.aborted) throw error;
        tracker.filesFailed(files, reasonOf(error));
      }
    };
    const scans: Promise<void>[] = tasks.map((task) =>
      task.kind === 'range' ? countRange(task.range) : countFiles(task.files),
    );
    // The pool holds each task until it is done: a batch's ranges then leave the heap, not
    // at the end of the run.
    tasks.length = 0;
    for (const index of plan.here) {
      scans.push(
        scanHere(inputs[index]!, top > 0, rules, signal).then(
          (result) => tracker.here(index, result),
          (error: unknown) => {
            // Ended by Ctrl-C, it did not fail: it is not counted in what a stop reports.
            if (!signal?.aborted) failed.set(index, reasonOf(error));
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
