/**
 * The reporting stage: counts of what the run did, the failures the summary lists (a bounded
 * number: the manifest has every one), progress after every finished row, and the result.
 */
import { performance } from 'node:perf_hooks';
import { Interrupted } from '../errors.ts';
import type { DownloadProgress, DownloadResult, RowFailure } from './config.ts';
import { OutputError } from './errors.ts';
import { plural } from '../ui/format.ts';
import type { ManifestLine } from './manifest.ts';

/** How many failures the summary and --json list; the manifest has every one. */
export const MAX_LISTED_FAILURES = 10_000;

/** What one run did so far. */
export class Tally {
  readonly #began: number;
  readonly #fraction: () => number | undefined;
  readonly #onProgress: ((p: DownloadProgress) => void) | undefined;
  readonly #maxListed: number;
  readonly #counts = { read: 0, done: 0, ok: 0, failed: 0, skipped: 0, bytes: 0 };
  readonly #failures: RowFailure[] = [];

  /**
   * `began` is when the run started (`performance.now()`); `fraction` says how much of the
   * CSV is read, for the progress line.
   */
  constructor(
    began: number,
    fraction: () => number | undefined,
    onProgress?: (p: DownloadProgress) => void,
    maxListed = MAX_LISTED_FAILURES,
  ) {
    this.#began = began;
    this.#fraction = fraction;
    this.#onProgress = onProgress;
    this.#maxListed = maxListed;
  }

  /** A data row came out of the CSV. */
  read(): void {
    this.#counts.read++;
  }

  /** A row finished, as its manifest line says. */
  finished(line: ManifestLine): void {
    const counts = this.#counts;
    counts.done++;
    if (line.status === 'ok') {
      counts.ok++;
      counts.bytes += line.bytes;
    } else if (line.status === 'skipped') counts.skipped++;
    else {
      counts.failed++;
      if (this.#failures.length < this.#maxListed) {
        this.#failures.push({ row: line.row, url: line.url, error: line.error ?? 'failed' });
      }
    }
    this.#onProgress?.({
      done: counts.done,
      read: counts.read,
      failed: counts.failed,
      bytes: counts.bytes,
      elapsedMs: performance.now() - this.#began,
      fraction: this.#fraction(),
    });
  }

  /** The error that ends an interrupted run: what was done, and how to finish. */
  interrupted(): Interrupted {
    const { ok, skipped, failed, read } = this.#counts;
    return new Interrupted(
      `interrupted: ${ok} downloaded, ${skipped} skipped, ${failed} failed of ${plural(read, 'row')} read; run the same command again to finish`,
    );
  }

  /** The error that ends a run stopped by its output: why, what was done, how to go on. */
  stopped(cause: OutputError): OutputError {
    const { ok, skipped, failed, read } = this.#counts;
    return new OutputError(
      `${cause.message}; stopped: ${ok} downloaded, ${skipped} skipped, ${failed} failed of ${plural(read, 'row')} read, all in the manifest; make room (or fix --out) and run the same command again to resume`,
      { cause },
    );
  }

  /** The run's result, timed now; `run` adds what other stages know. */
  result(run: {
    readonly requests: number;
    readonly out: string;
    readonly cleaned: number;
    readonly warnings?: readonly string[];
  }): DownloadResult {
    const counts = this.#counts;
    return {
      total: counts.read,
      ok: counts.ok,
      failed: counts.failed,
      skipped: counts.skipped,
      bytes: counts.bytes,
      ms: performance.now() - this.#began,
      requests: run.requests,
      failures: this.#failures,
      out: run.out,
      cleaned: run.cleaned,
      warnings: run.warnings ?? [],
    };
  }
}

/** The warning for manifest lines that were not rows: said once, however many. */
export function skippedLinesWarning(manifest: string, lines: number): string {
  return `${manifest}: ${plural(lines, 'line')} that ${lines === 1 ? 'is' : 'are'} not a row crew wrote (damaged?) read past; their rows are downloaded again`;
}
