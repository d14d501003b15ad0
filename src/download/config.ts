/**
 * What a download run is told and what it reports: the types shared by the command (which
 * builds the config and prints the result) and the pipeline's stages (which run it).
 */
import type { CommonConfig } from '../config.ts';
import type { FetchOptions } from './fetch.ts';
import type { InputFormatChoice } from './input-format.ts';
import type { HeaderMode } from './rows.ts';

/** Where rows' files go: all in --out, or in numbered folders of --shard-size rows. */
export type LayoutChoice = 'flat' | 'shards';
/** One file per row, or one webdataset tar per shard. */
export type OutputFormat = 'files' | 'webdataset';

export interface DownloadConfig extends CommonConfig {
  /** The list of URLs (CSV, TSV, JSON lines, parquet): a path, or '-' for stdin. */
  readonly csv: string;
  readonly out: string;
  /** The list's format (input-format.ts), or 'auto'. */
  readonly inputFormat?: InputFormatChoice;
  readonly csvHeader: HeaderMode;
  readonly urlColumn: string | undefined;
  readonly nameColumn: string | undefined;
  readonly captionColumn?: string | undefined;
  /** Columns kept with each row (names or 1-based indexes), in this order. */
  readonly saveColumns?: readonly string[] | undefined;
  readonly layout?: LayoutChoice;
  /** Rows per shard (--layout shards, and every webdataset). */
  readonly shardSize?: number;
  readonly outputFormat?: OutputFormat;
  /** Read the list and print the plan; fetch nothing. */
  readonly dryRun?: boolean;
  /** Fetch each origin's robots.txt once and skip what it disallows for crew. */
  readonly robotsTxt?: boolean;
  /** The CSV's text encoding (a TextDecoder label), or 'auto'. */
  readonly encoding: string;
  /** Forced extension, without the dot. */
  readonly ext: string | undefined;
  readonly concurrency: number;
  readonly perHost: number;
  readonly force: boolean;
  /** --limit-rate: body bytes per second for the whole run (each worker gets a share). */
  readonly limitRate?: number | undefined;
  readonly fetch: Omit<FetchOptions, 'perHost' | 'rateLimit'>;
}

export interface RowFailure {
  readonly row: number;
  readonly url: string;
  readonly error: string;
}

/** What `--dry-run` found: the list read, nothing fetched. */
export interface DownloadPlan {
  readonly format: string;
  /** Data rows, and those that cannot be downloaded (no usable URL). */
  readonly rows: number;
  readonly bad: number;
  readonly distinctUrls: number;
  /** The hosts with the most rows, most first. */
  readonly hosts: readonly { readonly host: string; readonly rows: number }[];
  /** Where the first rows would go, relative to --out (a name's extension comes later). */
  readonly files: readonly string[];
  /** Shards the rows make (webdataset or --layout shards). */
  readonly shards: number | undefined;
  /** Rows (and whole shards) a run now would skip as done. */
  readonly skip: number;
  readonly skipShards: number | undefined;
}

export interface DownloadResult {
  /** Set by --dry-run: the plan, and nothing was fetched. */
  readonly plan?: DownloadPlan;
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
  /** Rows whose server opted out (X-Robots-Tag): not kept, not failed. */
  readonly optedOut?: number;
  readonly bytes: number;
  readonly ms: number;
  readonly requests: number;
  readonly failures: readonly RowFailure[];
  readonly out: string;
  readonly cleaned: number;
  /** What the run read past and says on stderr: a damaged manifest's lines. */
  readonly warnings: readonly string[];
  /** Rows saved through the image step (--resize-mode, filters), and how many changed size. */
  readonly images?: number;
  readonly resized?: number;
  /** Rows outside --min-image-size, --max-image-area or --max-aspect-ratio. */
  readonly filtered?: number;
}

export interface DownloadProgress {
  readonly done: number;
  readonly read: number;
  readonly failed: number;
  readonly bytes: number;
  /** Rows saved through the image step, and rows it filtered out. */
  readonly images?: number;
  readonly filtered?: number;
  readonly elapsedMs: number;
  /** Fraction of the CSV file consumed, when it is a file (not stdin). */
  readonly fraction: number | undefined;
  /** Webdataset: rows ended whose shard is not complete yet (done once it is). */
  readonly waiting?: number;
}
