/**
 * A download run as a pipeline of stages, top to bottom: read the CSV's rows (read.ts), plan
 * each row (plan.ts: its name, resume, one fetch per URL), fetch through the pool
 * (fetcher.ts), publish the files and manifest lines (publish.ts), report (report.ts). Each
 * stage keeps its own state; this module wires them and bounds the rows in flight.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { withPartial } from '../errors.ts';
import type { DownloadConfig, DownloadProgress, DownloadResult } from './config.ts';
import { OutputError } from './errors.ts';
import { writeFailure, type Placement } from './fetch.ts';
import { filePath, flatLayout, inFolder } from './layout.ts';
import { Fetcher, type DownloadTasks } from './fetcher.ts';
import type { PoolFactory } from '../pool/pool.ts';
import { badRowLine, fetchFailedLine, okLine, skippedLine, writeFailedLine } from './lines.ts';
import { MANIFEST, type ManifestLine } from './manifest.ts';
import { Planner } from './plan.ts';
import { Output, type Published } from './publish.ts';
import { CsvRows } from './read.ts';
import { skippedLinesWarning, Tally } from './report.ts';
import type { Job } from './rows.ts';

/** Ctrl-C ended the run (its message is built once the manifest is closed). */
const INTERRUPTED = Symbol('interrupted');

interface Stages {
  readonly plan: Planner;
  readonly fetcher: Fetcher;
  readonly output: Output;
}

/**
 * Streams the CSV, names every row, fetches each distinct URL once through the pool, puts
 * every row's file in place, and appends one manifest line per finished row. Throws
 * InputError when the CSV cannot be used, Interrupted when `signal` aborts the run, and
 * OutputError, at once, when --out cannot take more (what finished is in the manifest).
 * Whatever it throws carries the result so far (partialOf): the counts of a run that stopped.
 */
export async function runDownload(
  config: DownloadConfig,
  pools: PoolFactory<DownloadTasks>,
  signal: AbortSignal,
  onProgress?: (p: DownloadProgress) => void,
): Promise<DownloadResult> {
  let rows: CsvRows | undefined;
  const tally = new Tally(performance.now(), () => rows?.fraction(), onProgress);
  const known: Known = { requests: 0, cleaned: 0, warnings: [] };
  try {
    // A full disk stops the run as Ctrl-C would: every stage listens to `runSignal`.
    const stop = new AbortController();
    const runSignal = AbortSignal.any([signal, stop.signal]);
    rows = await CsvRows.open(config, runSignal);
    return await runStages(config, pools, { signal, stop, runSignal }, rows, tally, known);
  } catch (error) {
    throw withPartial(error, tally.result({ out: config.out, ...known }));
  }
}

/** What stages other than the tally learned, for the result (a partial one too). */
interface Known {
  requests: number;
  cleaned: number;
  warnings: readonly string[];
}

/** The run from --out's lock on: rows to the pool, lines to the manifest, the result. */
async function runStages(
  config: DownloadConfig,
  pools: PoolFactory<DownloadTasks>,
  signals: { signal: AbortSignal; stop: AbortController; runSignal: AbortSignal },
  rows: CsvRows,
  tally: Tally,
  known: Known,
): Promise<DownloadResult> {
  const { signal, stop, runSignal } = signals;
  const output = await Output.open(config.out, { shared: config.queue !== undefined });
  known.cleaned = output.cleaned;
  if (output.skippedLines > 0) {
    known.warnings = [skippedLinesWarning(join(config.out, MANIFEST), output.skippedLines)];
  }
  const finish = (line: ManifestLine): void => {
    // A skipped row's line is already in the manifest: writing it again would grow a
    // finished job's manifest by one line per row on every re-run. Any other row is done
    // (counted, reported) once its line is written.
    if (line.status === 'skipped') tally.finished(line);
    else output.record(line, () => tally.finished(line));
  };
  const halt = (error: unknown): void => {
    if (error instanceof OutputError && !stop.signal.aborted) {
      stop.abort(error);
      rows.close();
    }
  };
  const inFlight = new InFlight(Math.max(16, config.workers * config.concurrency * 2), halt);
  let fetcher: Fetcher | undefined;
  let failure: unknown;
  try {
    fetcher = new Fetcher(config, pools, runSignal);
    const plan = new Planner({
      out: config.out,
      ext: config.ext,
      done: output.done,
      layout: flatLayout,
      force: config.force,
    });
    const stages: Stages = { plan, fetcher, output };
    for await (const row of rows) {
      tally.read();
      if ('error' in row) finish(badRowLine(row));
      else await inFlight.add(downloadRow(row, plan.stem(row), stages).then(finish));
      // A row leaves the flight when its line is queued; the manifest's queue is bounded too.
      const room = output.room();
      if (room) await room;
    }
    await inFlight.all();
  } catch (error) {
    failure = signal.aborted ? INTERRUPTED : stop.signal.aborted ? stop.signal.reason : error;
  } finally {
    rows.close();
    await fetcher?.destroy();
    known.requests = fetcher?.requests ?? 0;
    await inFlight.settled();
    // The manifest's own writes can fail last (a disk that filled up on its final lines).
    await output.close().catch((error: unknown) => void (failure ??= error));
  }
  // Counted after close: the lines it wrote last are rows done too.
  if (failure === INTERRUPTED) throw tally.interrupted();
  if (failure instanceof OutputError) throw tally.stopped(failure);
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- whatever a stage threw
  if (failure !== undefined) throw failure;
  return tally.result({ out: config.out, ...known });
}

/** One row, from its plan to its manifest line. Rejects only when the run is aborted. */
async function downloadRow(job: Job, stem: string, stages: Stages): Promise<ManifestLine> {
  const { plan, output } = stages;
  const started = performance.now();
  const previous = plan.finishedBefore(job, stem);
  if (previous && plan.skips(previous)) return skippedLine(job, previous);
  const folder = plan.folderOf(job);
  const { first, published } = plan.fetchOnce(job.url, () =>
    fetchFirst(job.url, { folder, stem, previous }, stages),
  );
  const { outcome, file, writeError } = await published;
  const ms = Math.round((performance.now() - started) * 10) / 10;
  if (!outcome.ok) {
    // Not this row's failure: no row after it could be stored either.
    if (outcome.output) throw new OutputError(`cannot write to ${output.out}: ${outcome.error}`);
    return fetchFailedLine(job, ms, outcome);
  }
  const ext = plan.ext ?? outcome.ext;
  let failure = writeError;
  let own = first ? file : undefined;
  if (!first && file !== undefined) {
    try {
      own = await output.copy(file, folder, stem, ext);
    } catch (error) {
      failure = writeFailure(error);
    }
  }
  if (own === undefined) {
    const why = failure ?? { message: 'not placed', output: false };
    // Not this row's failure: no row after it could be stored either.
    if (why.output) throw new OutputError(`cannot write to ${output.out}: ${why.message}`);
    return writeFailedLine(job, ms, outcome, filePath(folder, stem, ext), why.message);
  }
  return okLine(job, ms, outcome, own, first);
}

/** Where the first row with a URL puts its file, and what an earlier run left for it. */
interface Target {
  /** The layout's folder for the row, relative to --out. */
  readonly folder: string;
  readonly stem: string;
  /** The row's file as an earlier run recorded it (fetched again: --force, or it changed). */
  readonly previous: { readonly file: string } | undefined;
}

/**
 * Fetches a URL for the first row that has it, and puts that row's file in place before any
 * other row sees the outcome, so rows sharing the URL copy a file that exists.
 */
async function fetchFirst(url: string, target: Target, stages: Stages): Promise<Published> {
  const { output, plan, fetcher } = stages;
  const { folder, stem, previous } = target;
  let place: Placement;
  try {
    place = { folder: output.folder(folder), stem, ext: plan.ext };
  } catch (error) {
    const { message, output: whole } = writeFailure(error);
    const outcome = { ok: false, status: undefined, error: message, attempts: 0 } as const;
    return { outcome: whole ? { ...outcome, output: true } : outcome };
  }
  const outcome = await fetcher.fetch(url, { tempFolder: output.tempFolder, place });
  if (!outcome.ok) return { outcome };
  if ('writeError' in outcome) return { outcome, writeError: outcome.writeError };
  try {
    let file =
      'placed' in outcome
        ? inFolder(folder, outcome.placed)
        : output.place(outcome.temp, folder, stem, plan.ext ?? outcome.ext);
    if (previous) file = output.replaceOwn(file, previous.file);
    return { outcome, file };
  } catch (error) {
    return { outcome, writeError: writeFailure(error) };
  }
}

/**
 * Rows in flight (fetching, or waiting on a URL another row fetches). Reading pauses at the
 * limit, so memory does not grow with the CSV.
 */
export class InFlight {
  readonly #limit: number;
  readonly #onError: (error: unknown) => void;
  readonly #tasks = new Set<Promise<void>>();
  #failure: { readonly error: unknown } | undefined;
  /** The reader, waiting for room (there is one reader, so one waiter). */
  #wake: (() => void) | undefined;

  /** `onError` hears of a row's failure at once, even while reading waits for input. */
  constructor(limit: number, onError: (error: unknown) => void) {
    this.#limit = limit;
    this.#onError = onError;
  }

  /**
   * Adds a row's task; resolves once there is room for another row, and rejects (with the
   * first failure) once a row has failed.
   */
  async add(task: Promise<void>): Promise<void> {
    const tracked: Promise<void> = task.then(
      () => this.#leave(tracked),
      // A row that fails while the reader waits on stdin is kept here (not an unhandled
      // rejection), and told to `onError` at once.
      (error: unknown) => {
        this.#failure ??= { error };
        this.#onError(error);
        this.#leave(tracked);
      },
    );
    this.#tasks.add(tracked);
    // Not Promise.race over the set: that hangs a reaction on every row in flight for each
    // row read (64 a row at the default limit), and a stalled row keeps one for every row
    // read while it stalls.
    while (this.#tasks.size >= this.#limit && !this.#failure) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    if (this.#failure) throw this.#failure.error;
  }

  #leave(tracked: Promise<void>): void {
    this.#tasks.delete(tracked);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Every row finished; rejects with the first that failed. */
  async all(): Promise<void> {
    await this.settled();
    if (this.#failure) throw this.#failure.error;
  }

  /** Every row settled, however (after an abort). Tracked rows never reject. */
  async settled(): Promise<void> {
    await Promise.all(this.#tasks);
  }
}
