/**
 * What a download run is told and what it reports: the types shared by the command (which
 * builds the config and prints the result) and the pipeline's stages (which run it).
 */
import type { CommonConfig } from '../config.ts';
import type { FetchOptions } from './fetch.ts';
import type { HeaderMode } from './rows.ts';

export interface DownloadConfig extends CommonConfig {
  /** A path, or '-' for stdin. */
  readonly csv: string;
  readonly out: string;
  readonly csvHeader: HeaderMode;
  readonly urlColumn: string | undefined;
  readonly nameColumn: string | undefined;
  /** The CSV's text encoding (a TextDecoder label), or 'auto'. */
  readonly encoding: string;
  /** Forced extension, without the dot. */
  readonly ext: string | undefined;
  readonly concurrency: number;
  readonly perHost: number;
  readonly force: boolean;
  readonly fetch: Omit<FetchOptions, 'perHost'>;
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
  /** What the run read past and says on stderr: a damaged manifest's lines. */
  readonly warnings: readonly string[];
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
