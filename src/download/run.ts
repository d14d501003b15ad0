/**
 * A download run as a pipeline of stages, top to bottom: read the list's rows (read.ts), plan
 * each row (plan.ts: its name, resume, one fetch per URL), fetch through the pool
 * (fetcher.ts), publish the files and manifest lines (publish.ts; webdataset.ts for shards of
 * tars), report (report.ts). Each stage keeps its own state; this module wires them and
 * bounds the rows in flight.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { withPartial } from '../errors.ts';
import type { DownloadConfig, DownloadProgress, DownloadResult } from './config.ts';
import { OutputError, writeFailure } from './errors.ts';
import type { FetchOutcome } from './fetch.ts';
import { planDownload } from './dry-run.ts';
import { filePath, flatLayout, shardsLayout } from './layout.ts';
import { Fetcher, type Destination, type DownloadTasks } from './fetcher.ts';
import { robotNames } from './opt-out.ts';
import type { RobotsCache } from './robots.ts';
import type { PoolFactory } from '../pool/pool.ts';
import {
  badRowLine,
  carried,
  fetchFailedLine,
  okLine,
  skippedLine,
  writeFailedLine,
  type ColumnNames,
} from './lines.ts';
import { MANIFEST, type ManifestLine } from './manifest.ts';
import { Planner } from './plan.ts';
import { Output, type Published } from './publish.ts';
import { InputRows } from './read.ts';
import { skippedLinesWarning, Tally } from './report.ts';
import type { BadRow, Job } from './rows.ts';
import { Webdataset } from './webdataset.ts';

/** Ctrl-C ended the run (its message is built once the manifest is closed). */
const INTERRUPTED = Symbol('interrupted');

interface Stages {
  readonly plan: Planner;
  readonly fetcher: Fetcher;
  readonly output: Output;
  /** Webdataset output: each shard's tar, side files, and when its rows are done. */
  readonly dataset: Webdataset | undefined;
  /** --robots-txt: each origin's rules. */
  readonly robots: RobotsCache | undefined;
}

/**
 * Streams the list, names every row, fetches each distinct URL once through the pool, puts
 * every row's file in place (or in its shard's tar), and appends one manifest line per
 * finished row. Throws InputError when the list cannot be used, Interrupted when `signal`
 * aborts the run, and OutputError, at once, when --out cannot take more (what finished is
 * in the manifest). Whatever it throws carries the result so far (partialOf): the counts of
 * a run that stopped. With `dryRun`, reads the list and returns its plan instead.
 */
export async function runDownload(
  config: DownloadConfig,
  pools: PoolFactory<DownloadTasks>,
  signal: AbortSignal,
  onProgress?: (p: DownloadProgress) => void,
): Promise<DownloadResult> {
  if (config.dryRun) return planDownload(config, signal);
  const parts: Parts = {};
  // (The progress asks how many rows wait for their shard only once rows have finished.)
  const tally = new Tally(
    performance.now(),
    () => parts.rows?.fraction(),
    onProgress,
    undefined,
    () => parts.dataset?.waiting ?? 0,
  );
  const known: Known = { requests: 0, cleaned: 0, warnings: [] };
  try {
    // A full disk stops the run as Ctrl-C would: every stage listens to `runSignal`.
    const stop = new AbortController();
    const runSignal = AbortSignal.any([signal, stop.signal]);
    parts.rows = await InputRows.open(config, runSignal);
    return await runStages(config, pools, { signal, stop, runSignal }, parts, tally, known);
  } catch (error) {
    throw withPartial(error, tally.result({ out: config.out, ...known }));
  }
}

/** The stages the progress line asks about, once they exist. */
interface Parts {
  rows?: InputRows;
  dataset?: Webdataset | undefined;
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
  parts: Parts,
  tally: Tally,
  known: Known,
): Promise<DownloadResult> {
  const { signal, stop, runSignal } = signals;
  const rows = parts.rows!;
  const output = await Output.open(config.out, { shared: config.queue !== undefined });
  known.cleaned = output.cleaned;
  if (output.skippedLines > 0) {
    known.warnings = [skippedLinesWarning(join(config.out, MANIFEST), output.skippedLines)];
  }
  const dataset = webdatasetOf(config, { output, rows, tally });
  parts.dataset = dataset;
  const finish = finisher(output, tally, dataset);
  const halt = (error: unknown): void => {
    if (error instanceof OutputError && !stop.signal.aborted) {
      stop.abort(error);
      rows.close();
    }
  };
  const inFlight = new InFlight(Math.max(16, config.workers * config.concurrency * 2), halt);
  let fetcher: Fetcher | undefined;
  let failure: unknown;
  let robots: RobotsCache | undefined;
  try {
    robots = await robotsOf(config, runSignal);
    fetcher = new Fetcher(config, pools, runSignal, (change) => inFlight.backingOff(change));
    const plan = new Planner({
      out: config.out,
      ext: config.ext,
      done: output.done,
      layout: config.layout === 'shards' ? shardsLayout(config.shardSize ?? 10_000) : flatLayout,
      force: config.force,
      optOut: config.fetch.optOut != null,
    });
    const stages: Stages = { plan, fetcher, output, dataset, robots };
    const columns = (): ColumnNames => rows.layout?.saved?.map((c) => c.name) ?? [];
    const dispatch = async (row: Job | BadRow): Promise<void> => {
      if ('error' in row) return finishBad(badRowLine(row), stages, finish);
      const work = dataset ? webRow(row, stages) : downloadRow(row, plan.stem(row), stages);
      await inFlight.add(work.then((line) => finish(withCarried(line, row, columns()))));
    };
    for await (const row of rows) {
      tally.read();
      for (const ready of dataset ? dataset.read(row) : [row]) await dispatch(ready);
      // A row leaves the flight when its line is queued; the manifest's queue is bounded too.
      const room = output.room();
      if (room) await room;
    }
    for (const ready of dataset?.end() ?? []) await dispatch(ready);
    await inFlight.all();
  } catch (error) {
    failure = signal.aborted ? INTERRUPTED : stop.signal.aborted ? stop.signal.reason : error;
  } finally {
    rows.close();
    await fetcher?.destroy();
    await robots?.close();
    known.requests = fetcher?.requests ?? 0;
    if (fetcher?.shortOfWorkers) known.warnings = [...known.warnings, fetcher.shortOfWorkers];
    await inFlight.settled();
    dataset?.close();
    // The manifest's own writes can fail last (a disk that filled up on its final lines).
    await output.close().catch((error: unknown) => void (failure ??= error));
    try {
      dataset?.settled();
    } catch (error) {
      failure ??= error;
    }
  }
  // Counted after close: the lines it wrote last are rows done too.
  if (failure === INTERRUPTED) throw tally.interrupted();
  if (failure instanceof OutputError) throw tally.stopped(failure);
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- whatever a stage threw
  if (failure !== undefined) throw failure;
  return tally.result({ out: config.out, ...known });
}

/** A bad row's line: into its shard (webdataset), else the manifest. */
function finishBad(line: ManifestLine, stages: Stages, finish: (line: ManifestLine) => void): void {
  if (stages.dataset) stages.dataset.finish({ ...line, key: stages.dataset.keyOf(line.row) });
  else finish(line);
}

/** A line with what the list says of its row (caption, kept columns), skipped rows aside. */
function withCarried(line: ManifestLine, job: Job, columns: ColumnNames): ManifestLine {
  return line.status === 'skipped' ? line : { ...line, ...carried(job, columns) };
}

/**
 * Where a finished row's line goes. A skipped row's line is already in the manifest:
 * writing it again would grow a finished job's manifest by one line per row on every
 * re-run. A webdataset row waits for its shard; any other row is done (counted, reported)
 * once its line is written.
 */
function finisher(
  output: Output,
  tally: Tally,
  dataset: Webdataset | undefined,
): (line: ManifestLine) => void {
  return (line) => {
    if (line.status === 'skipped') tally.finished(line);
    else if (dataset && 'key' in line) dataset.finish(line);
    else output.record(line, () => tally.finished(line));
  };
}

/** The webdataset stage of a run, when it writes one. */
function webdatasetOf(
  config: DownloadConfig,
  parts: { readonly output: Output; readonly rows: InputRows; readonly tally: Tally },
): Webdataset | undefined {
  if (config.outputFormat !== 'webdataset') return undefined;
  const { output, rows, tally } = parts;
  return new Webdataset(
    {
      out: config.out,
      temp: output.tempFolder,
      shardSize: config.shardSize ?? 10_000,
      force: config.force,
      ext: config.ext ?? null,
      schema: () => ({
        caption: rows.layout?.caption !== undefined,
        columns: (rows.layout?.saved ?? []).map((c) => ({
          name: c.name,
          kind: rows.format === 'csv' || rows.format === 'tsv' ? 'STRING' : 'JSON',
        })),
      }),
    },
    {
      record: (line, onWritten) => output.record(line, onWritten),
      // A row of a written shard is done (counted, reported) once its tar has its final name.
      done: (line) => tally.finished(line),
      skipped: (line) => tally.finished(line),
    },
  );
}

/**
 * One row of a webdataset, from its fetch to its line: the image and its sidecars go into
 * the shard's tar as soon as they are whole. Rejects only when the run is aborted or stopped.
 */
async function webRow(job: Job, stages: Stages): Promise<ManifestLine> {
  const { plan, dataset } = stages;
  const shards = dataset!;
  const started = performance.now();
  const { first, published } = plan.fetchOnce(job.url, () => fetchIntoShard(job, stages));
  const { outcome, member, writeError } = await published;
  const ms = Math.round((performance.now() - started) * 10) / 10;
  const file = shards.fileOf(job.row);
  const key = shards.keyOf(job.row);
  if (!outcome.ok) {
    if (outcome.output)
      throw new OutputError(`cannot write to ${stages.output.out}: ${outcome.error}`);
    return { ...fetchFailedLine(job, ms, outcome), key };
  }
  let failure = writeError;
  let own = first ? member : undefined;
  if (!first && member !== undefined) {
    try {
      own = shards.copy(job, member, outcome);
    } catch (error) {
      failure = writeFailure(error);
    }
  }
  if (own === undefined) {
    const why = failure ?? { message: 'not placed', output: false };
    if (why.output) throw new OutputError(`cannot write to ${stages.output.out}: ${why.message}`);
    return { ...writeFailedLine(job, ms, outcome, file, why.message), key };
  }
  return { ...okLine(job, ms, outcome, file, first), key };
}

/** Fetches a URL for the first row that has it; its body goes into that row's shard. */
async function fetchIntoShard(job: Job, stages: Stages): Promise<Published> {
  const { output, dataset } = stages;
  // A small body comes back in memory, never written to a temp file only to be read back
  // (no queue worker sends one: tasks' `portable` drops the ask).
  const outcome = await fetchAllowed(
    job.url,
    { tempFolder: output.tempFolder, bodyInMemory: true },
    stages,
  );
  if (!outcome.ok) return { outcome };
  if (!('temp' in outcome) && !('body' in outcome)) {
    return { outcome, writeError: { message: 'no body to put in the tar', output: false } };
  }
  try {
    return { outcome: withoutBody(outcome), member: dataset!.add(job, outcome) };
  } catch (error) {
    return { outcome: withoutBody(outcome), writeError: writeFailure(error) };
  }
}

const NO_BODY = new Uint8Array(0);

/**
 * The outcome as rows sharing its URL see it, once its body is in the tar (or could not be
 * put there): without the body, which the planner would otherwise keep with the URL for
 * every recent row (plan.ts' UrlMemory), up to a MiB each.
 */
const withoutBody = (outcome: FetchOutcome): FetchOutcome =>
  outcome.ok && 'body' in outcome ? { ...outcome, body: NO_BODY } : outcome;

/** One row, from its plan to its manifest line. Rejects only when the run is aborted. */
async function downloadRow(job: Job, stem: string, stages: Stages): Promise<ManifestLine> {
  const { plan, output } = stages;
  const started = performance.now();
  const previous = plan.finishedBefore(job, stem);
  if (previous && plan.skips(previous)) return skippedLine(job, previous);
  if (plan.optedOutBefore(job)) return skippedLine(job, { file: null, bytes: 0 });
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
  const { output, plan } = stages;
  const { folder, stem, previous } = target;
  try {
    output.folder(folder); // made before the fetch: a folder that cannot be made fails the row now
  } catch (error) {
    const { message, output: whole } = writeFailure(error);
    const outcome = { ok: false, status: undefined, error: message, attempts: 0 } as const;
    return { outcome: whole ? { ...outcome, output: true } : outcome };
  }
  const outcome = await fetchAllowed(url, { tempFolder: output.tempFolder }, stages);
  if (!outcome.ok) return { outcome };
  // Not asked for here (bodyInMemory): a body in memory has no file to name.
  if ('body' in outcome) {
    return { outcome, writeError: { message: 'no file to place', output: false } };
  }
  // Named here, never in the worker, and in the same turn as the row's line is queued (the
  // rest of this row's way to the manifest is promise callbacks, which a signal cannot come
  // between): a run stopped now writes that line before it ends.
  try {
    let file = output.place(outcome.temp, folder, stem, plan.ext ?? outcome.ext);
    if (previous) file = output.replaceOwn(file, previous.file);
    return { outcome, file };
  } catch (error) {
    return { outcome, writeError: writeFailure(error) };
  }
}

/** Fetches `url`, unless its origin's robots.txt (--robots-txt) disallows it. */
async function fetchAllowed(url: string, into: Destination, stages: Stages): Promise<FetchOutcome> {
  const refused = await stages.robots?.verdict(url);
  if (refused === undefined) return stages.fetcher.fetch(url, into);
  const outcome = { ok: false, status: undefined, error: refused.error, attempts: 0 } as const;
  return refused.optedOut ? { ...outcome, optedOut: true } : outcome;
}

/**
 * The robots.txt rules of the run, with --robots-txt. Loaded only then: otherwise the
 * parent never makes a request, and undici took ~100 ms of every run's start to load.
 */
async function robotsOf(
  config: DownloadConfig,
  signal: AbortSignal,
): Promise<RobotsCache | undefined> {
  if (!config.robotsTxt) return undefined;
  const { RobotsCache, robotsDispatcher } = await import('./robots.ts');
  const userAgent = config.fetch.headers['user-agent'] ?? '';
  const agents = config.fetch.optOut?.agents ?? robotNames(userAgent);
  const dispatcher = robotsDispatcher(config.fetch);
  return new RobotsCache(
    { userAgent, agents, timeoutMs: config.fetch.timeoutMs, dispatcher },
    signal,
  );
}

/**
 * Rows waiting out a back-off, at most, besides the rows in flight: a row is a few hundred
 * bytes to a few KiB (its columns, caption, promises), so a few MiB at most.
 */
export const MAX_BACKING_OFF = 4096;

/**
 * Rows in flight (fetching, or waiting on a URL another row fetches). Reading pauses at the
 * limit, so memory does not grow with the CSV. Rows waiting out a back-off (their own
 * before a retry, or their host's after a 429 or 503) do not count: a list with many flaky
 * hosts would fill every place with rows asleep, and the healthy hosts' rows behind them
 * were not even read. They are bounded apart, by `maxBackingOff`.
 */
export class InFlight {
  readonly #limit: number;
  readonly #maxBackingOff: number;
  readonly #onError: (error: unknown) => void;
  readonly #tasks = new Set<Promise<void>>();
  /** Of the rows in #tasks, those waiting out a back-off. */
  #backingOff = 0;
  #failure: { readonly error: unknown } | undefined;
  /** The reader, waiting for room (there is one reader, so one waiter). */
  #wake: (() => void) | undefined;

  /** `onError` hears of a row's failure at once, even while reading waits for input. */
  constructor(limit: number, onError: (error: unknown) => void, maxBackingOff = MAX_BACKING_OFF) {
    this.#limit = limit;
    this.#maxBackingOff = maxBackingOff;
    this.#onError = onError;
  }

  /** `change` more rows (fewer, when negative) wait out a back-off. */
  backingOff(change: number): void {
    this.#backingOff += change;
    // One fewer row in flight may be room for the reader.
    if (change > 0) this.#wakeReader();
  }

  /** Whether the reader must wait: no place in flight, or too many rows asleep. */
  #full(): boolean {
    const asleep = Math.min(this.#backingOff, this.#maxBackingOff);
    return this.#tasks.size - asleep >= this.#limit;
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
    while (this.#full() && !this.#failure) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    if (this.#failure) throw this.#failure.error;
  }

  #leave(tracked: Promise<void>): void {
    this.#tasks.delete(tracked);
    this.#wakeReader();
  }

  #wakeReader(): void {
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
