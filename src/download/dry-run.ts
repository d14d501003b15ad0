/**
 * `--dry-run`: the list read as a run would read it, and the plan told without a request:
 * rows, distinct URLs, the hosts with the most rows, where the first rows would go (names or
 * shards), and what a run now would skip. Reads --out's manifest and shards; writes nothing.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { recordedUrl } from './credentials.ts';
import type { DownloadConfig, DownloadResult } from './config.ts';
import { filePath, flatLayout, keyOf, namesFor, shardOf, shardsLayout } from './layout.ts';
import { MANIFEST, readManifest, type Done } from './manifest.ts';
import { Fingerprints, NameBook, stemFor } from './names.ts';
import { fetchKey } from './plan.ts';
import { InputRows } from './read.ts';
import { skippedLinesWarning } from './report.ts';
import type { BadRow, Job } from './rows.ts';
import { fileSize } from './store.ts';
import { fingerprint, shardFiles, shardOnDisk } from './webdataset.ts';
import { createHash, type Hash } from 'node:crypto';

/** Files listed, and hosts listed by rows. */
const SHOWN = 5;
/** Distinct hosts counted; past this, rows of new hosts count in no host (bounded memory). */
const MAX_HOSTS = 100_000;

/** Reads the whole list and returns its plan as a result with nothing fetched. */
export async function planDownload(
  config: DownloadConfig,
  signal: AbortSignal,
): Promise<DownloadResult> {
  const began = performance.now();
  const rows = await InputRows.open(config, signal);
  const manifest = join(config.out, MANIFEST);
  const { done, skipped: damaged } = await readManifest(manifest);
  const webdataset = config.outputFormat === 'webdataset';
  const size = config.shardSize ?? 10_000;
  const sharded = webdataset || config.layout === 'shards';
  const counts = new PlanCounts(config, done);
  const shards = new ShardCheck(config.out, size, webdataset && !config.force);
  try {
    const folders = sharded ? shardsLayout(size) : flatLayout;
    for await (const batch of rows.batches()) {
      for (const row of batch) {
        counts.add(row, folders.folderOf(row.row));
        if (webdataset) shards.add(row);
      }
    }
  } finally {
    rows.close();
  }
  shards.end();
  const total = counts.rows;
  return {
    total,
    ok: 0,
    failed: 0,
    skipped: 0,
    bytes: 0,
    ms: performance.now() - began,
    requests: 0,
    failures: [],
    out: config.out,
    cleaned: 0,
    warnings: damaged > 0 ? [skippedLinesWarning(manifest, damaged)] : [],
    plan: {
      format: rows.format ?? 'csv',
      rows: total,
      bad: counts.bad,
      distinctUrls: counts.distinct,
      hosts: counts.topHosts(),
      files: webdataset
        ? counts.firstRows.map(
            (row) => `${shardFiles(shardOf(row, size)).tar}: ${keyOf(row, size)}.*`,
          )
        : counts.files,
      shards: sharded && total > 0 ? shardOf(counts.lastRow, size) + 1 : undefined,
      skip: webdataset ? shards.skipRows : counts.skip,
      skipShards: webdataset ? shards.skipShards : undefined,
    },
  };
}

/** Rows, distinct URLs, hosts, names and resumable rows of a list, row by row. */
class PlanCounts {
  rows = 0;
  bad = 0;
  distinct = 0;
  skip = 0;
  lastRow = 0;
  readonly files: string[] = [];
  readonly firstRows: number[] = [];
  readonly #urls = new Fingerprints({ values: false });
  readonly #hosts = new Map<string, number>();
  readonly #names: NameBook;
  readonly #config: DownloadConfig;
  readonly #done: Done;

  constructor(config: DownloadConfig, done: Done) {
    this.#config = config;
    this.#done = done;
    this.#names = new NameBook({ expected: done.size });
  }

  add(row: Job | BadRow, folder: string): void {
    this.rows++;
    this.lastRow = row.row;
    if ('error' in row) {
      this.bad++;
      return;
    }
    // Parsed once for the three things it says: the fetch's key, the host, the name.
    const parsed = URL.parse(row.url);
    if (this.#urls.add(fetchKey(row.url, parsed))) this.distinct++;
    const host = parsed?.host ?? '';
    const known = this.#hosts.get(host);
    if (known !== undefined || this.#hosts.size < MAX_HOSTS)
      this.#hosts.set(host, (known ?? 0) + 1);
    if (this.firstRows.length < SHOWN) this.firstRows.push(row.row);
    if (this.#config.outputFormat === 'webdataset') return;
    const stem = this.#names.claim(stemFor(row, parsed));
    if (this.files.length < SHOWN) this.files.push(filePath(folder, stem, this.#config.ext ?? '*'));
    if (this.#config.force || this.#done.size === 0) return;
    const previous = this.#done.get(row.row, recordedUrl(row.url), namesFor(folder, stem));
    if (previous && fileSize(join(this.#config.out, previous.file)) === previous.bytes) this.skip++;
  }

  topHosts(): { host: string; rows: number }[] {
    return [...this.#hosts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, SHOWN)
      .map(([host, rows]) => ({ host, rows }));
  }
}

/** Which shards an earlier run completed for these very rows (as a run would check). */
class ShardCheck {
  skipRows = 0;
  skipShards = 0;
  readonly #out: string;
  readonly #size: number;
  readonly #enabled: boolean;
  #shard = -1;
  #rows = 0;
  #digest: Hash | undefined;

  constructor(out: string, size: number, enabled: boolean) {
    this.#out = out;
    this.#size = size;
    this.#enabled = enabled;
  }

  add(row: Job | BadRow): void {
    if (!this.#enabled) return;
    const shard = shardOf(row.row, this.#size);
    if (shard !== this.#shard) {
      this.end();
      this.#shard = shard;
      this.#rows = 0;
      this.#digest = createHash('sha256');
    }
    this.#rows++;
    this.#digest!.update(fingerprint(row));
  }

  end(): void {
    if (this.#digest === undefined) return;
    const disk = shardOnDisk(this.#out, this.#shard);
    const previous = disk.kind === 'ours' ? disk.complete : undefined;
    if (previous && previous.rows === this.#rows && previous.input === this.#digest.digest('hex')) {
      this.skipRows += this.#rows;
      this.skipShards++;
    }
    this.#digest = undefined;
  }
}
