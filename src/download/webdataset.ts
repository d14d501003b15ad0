/**
 * Webdataset output: one `NNNNN.tar` per shard of --shard-size rows, holding for each ok
 * row `<key>.<ext>` (the image), `<key>.json` (its metadata) and `<key>.txt` (its caption,
 * when the list has a caption column); beside it `NNNNN_stats.json` (counts, failures by
 * reason, bytes, time) and `NNNNN.parquet` (one row per input row, failed rows with why).
 *
 * A shard's tar is written in the run's temp folder and given its final name only once
 * every row of the shard has ended, its two side files are in place and its rows' manifest
 * lines are written: a tar under a final name is whole, and a killed run leaves none torn.
 * A row counts as done only then, so nothing reported done is lost with an unfinished tar. A re-run
 * skips a shard whose three files are there, whose tar has the size its stats say, and
 * whose rows are the rows the list has now (a digest of them, in the stats); it redoes
 * any other. Memory: the rows of the shards being written (their manifest lines), never
 * their bodies: a small one (under body-file.ts' HELD_BYTES) comes from its worker in
 * memory and goes into the tar at once, a bigger one from its temp file.
 */
import { createHash, type Hash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isOutputProblem, OutputError, reasonWithoutPaths } from './errors.ts';
import type { FetchOutcome } from './fetch.ts';
import { keyOf, shardName, shardOf } from './layout.ts';
import { blank } from './lines.ts';
import { MAX_QUEUED, type ManifestLine } from './manifest.ts';
import { keptName, writeShardTable, type ColumnKind } from './shard-table.ts';
import type { BadRow, Job } from './rows.ts';
import { fileSize } from './store.ts';
import { TarWriter, type MemberBytes, type MemberData } from './tar.ts';

type Fetched = Extract<FetchOutcome, { ok: true }>;

/** Where a fetched body is for its tar: in memory (a small one), or in its temp file. */
export type Body = { readonly body: Uint8Array } | { readonly temp: string };

/** A row read from the list: a job, or a row that cannot be one. */
export type ListRow = Job | BadRow;

/** Where an image sits in a shard's tar, for a later row with the same URL to copy. */
export interface Member extends MemberData {
  readonly shard: number;
}

/** What the stage is told of the list's columns once its layout is known. */
export interface DatasetSchema {
  readonly caption: boolean;
  /** The kept columns, in the order of a job's `saved` values, and how each is typed. */
  readonly columns: readonly { readonly name: string; readonly kind: ColumnKind }[];
}

export interface DatasetOptions {
  readonly out: string;
  /** The run's temp folder: tars are written there. */
  readonly temp: string;
  readonly shardSize: number;
  /** Redo every shard, complete or not. */
  readonly force: boolean;
  /** The extension --ext forces, or null. */
  readonly ext: string | null;
  /** The list's columns; asked once the first rows have been read. */
  readonly schema: () => DatasetSchema;
}

export interface DatasetHooks {
  /** A row of a completed shard: write its manifest line, and say when it is written. */
  readonly record: (line: ManifestLine, onWritten?: () => void) => void;
  /** A row whose shard's tar has its final name: it is done. */
  readonly done: (line: ManifestLine) => void;
  /** A row of a shard an earlier run completed: counted as skipped. */
  readonly skipped: (line: ManifestLine) => void;
}

/** A shard's files in --out. */
export const shardFiles = (shard: number) => {
  const name = shardName(shard);
  return { tar: `${name}.tar`, stats: `${name}_stats.json`, parquet: `${name}.parquet` };
};

/** The rows of a shard an earlier run completed, as its stats recorded them. */
interface Previous {
  readonly rows: number;
  readonly input: string;
}

/** One shard while this run reads or writes it. */
class Shard {
  readonly number: number;
  readonly started = Date.now();
  readonly digest: Hash = createHash('sha256');
  tar: TarWriter | undefined;
  read = 0;
  ended = 0;
  allRead = false;
  readonly lines: ManifestLine[] = [];
  /** Complete on disk from an earlier run: its rows wait here until the digest says. */
  previous: Previous | undefined;
  held: ListRow[] = [];
  /** Its final tar is crew's (an earlier run's), so a redo may replace it. */
  ours = false;

  constructor(number: number) {
    this.number = number;
  }
}

export class Webdataset {
  readonly #options: DatasetOptions;
  readonly #hooks: DatasetHooks;
  readonly #shards = new Map<number, Shard>();
  /** Complete shards whose tar waits, aside, for their manifest lines to be written. */
  readonly #sealing = new Set<number>();
  /** A tar that could not be given its final name (told by `settled`). */
  #failure: unknown;
  #reading: Shard | undefined;
  #schema: DatasetSchema | undefined;
  /** Shards skipped and written by this run. */
  skippedShards = 0;
  writtenShards = 0;

  constructor(options: DatasetOptions, hooks: DatasetHooks) {
    this.#options = options;
    this.#hooks = hooks;
  }

  /** The row's key in its shard's tar. */
  keyOf(row: number): string {
    return keyOf(row, this.#options.shardSize);
  }

  /** The tar a row's image goes in, relative to --out. */
  fileOf(row: number): string {
    return shardFiles(shardOf(row, this.#options.shardSize)).tar;
  }

  /** Rows ended and waiting for their shard to be complete. */
  get waiting(): number {
    let rows = 0;
    for (const shard of this.#shards.values()) rows += shard.lines.length;
    return rows;
  }

  /**
   * A row read from the list (in order): the rows to fetch now. None while the rows of a
   * shard an earlier run completed are held to compare; all of them once they differ.
   */
  read(row: ListRow): ListRow[] {
    const number = shardOf(row.row, this.#options.shardSize);
    const ready = this.#reading?.number === number ? [] : this.#endReading();
    let shard = this.#shards.get(number);
    if (shard === undefined) {
      shard = this.#open(number);
      this.#shards.set(number, shard);
    }
    this.#reading = shard;
    shard.read++;
    shard.digest.update(fingerprint(row));
    if (shard.previous) shard.held.push(row);
    else ready.push(row);
    return ready;
  }

  /** The list ended: the rows to fetch now (a last shard's held rows, if they differ). */
  end(): ListRow[] {
    return this.#endReading();
  }

  /**
   * Appends the first row's body (in memory, or its temp file, removed then), with its json
   * and txt, to its shard's tar. Throws what the disk says.
   */
  add(job: Job, outcome: Fetched & Body): Member {
    if ('body' in outcome) return this.#append(job, outcome, outcome.body);
    try {
      return this.#append(job, outcome, { source: outcome.temp, start: 0 });
    } finally {
      rmSync(outcome.temp, { force: true });
    }
  }

  /** Appends the image a row with the same URL put in a tar, again, for this row. */
  copy(job: Job, member: Member, outcome: Fetched): Member {
    const source =
      this.#shards.has(member.shard) || this.#sealing.has(member.shard)
        ? this.#asidePath(member.shard)
        : join(this.#options.out, shardFiles(member.shard).tar);
    return this.#append(job, { ...outcome, bytes: member.size }, { source, start: member.offset });
  }

  /** A row of this run ended (ok, failed, opted out): its line waits for its shard. */
  finish(line: ManifestLine): void {
    const shard = this.#shards.get(shardOf(line.row, this.#options.shardSize));
    if (shard === undefined) throw new Error(`row ${line.row} ended in no open shard`);
    shard.lines.push(line);
    shard.ended++;
    this.#completeIfDone(shard);
  }

  /** Closes the tars of shards left unfinished (the temp folder, with them, goes next). */
  close(): void {
    for (const shard of this.#shards.values()) shard.tar?.close();
  }

  /**
   * Throws when a complete shard's tar could not be given its final name (its rows were
   * not reported done). Call once the manifest is closed.
   */
  settled(): void {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- what the rename threw
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Appends a row's image (`body` itself, or `bytes` of a file from `start`), its json and
   * its txt: all of them or none. A body in memory goes with the others in one write.
   */
  #append(
    job: Job,
    outcome: Fetched,
    body: Uint8Array | { readonly source: string; readonly start: number },
  ): Member {
    const number = shardOf(job.row, this.#options.shardSize);
    const shard = this.#shards.get(number);
    if (shard === undefined) throw new Error(`row ${job.row} has no open shard`);
    shard.tar ??= new TarWriter(this.#asidePath(number));
    const tar = shard.tar;
    const key = this.keyOf(job.row);
    const image = `${key}.${this.#options.ext ?? (outcome.ext || 'bin')}`;
    const sides: MemberBytes[] = [
      { name: `${key}.json`, data: Buffer.from(JSON.stringify(this.#sidecar(job, key, outcome))) },
    ];
    if (job.caption !== undefined)
      sides.push({ name: `${key}.txt`, data: Buffer.from(job.caption) });
    if (body instanceof Uint8Array) {
      const [member] = tar.addAll([{ name: image, data: body }, ...sides]);
      return { shard: number, ...member! };
    }
    let member: MemberData | undefined;
    tar.whole(() => {
      member = tar.addFrom(image, body.source, outcome.bytes, body.start);
      tar.addAll(sides);
    });
    return { shard: number, ...member! };
  }

  /** A row's `<key>.json`: what the list said of it and what was fetched. */
  #sidecar(job: Job, key: string, outcome: Fetched): Record<string, unknown> {
    const schema = this.#schemaNow();
    const own: Record<string, unknown> = {
      key,
      row: job.row,
      url: job.url,
      ...(job.caption === undefined ? {} : { caption: job.caption }),
      width: outcome.width ?? null,
      height: outcome.height ?? null,
      ...(outcome.image
        ? {
            originalWidth: outcome.image.originalWidth,
            originalHeight: outcome.image.originalHeight,
          }
        : {}),
      sha256: outcome.sha256,
      bytes: outcome.bytes,
      status: 'ok',
      http: outcome.status,
      contentType: outcome.contentType || null,
    };
    const sidecar: Record<string, unknown> = {};
    schema.columns.forEach((column, i) => {
      sidecar[keptName(column.name)] = job.saved?.[i] ?? null;
    });
    return { ...own, ...sidecar };
  }

  #schemaNow(): DatasetSchema {
    return (this.#schema ??= this.#options.schema());
  }

  #asidePath(shard: number): string {
    return join(this.#options.temp, shardFiles(shard).tar);
  }

  /** A shard seen for the first time: what an earlier run left of it. */
  #open(number: number): Shard {
    const shard = new Shard(number);
    const disk = shardOnDisk(this.#options.out, number);
    if (disk.kind === 'foreign') {
      const { tar, stats } = shardFiles(number);
      throw new OutputError(
        `${join(this.#options.out, tar)} is not a shard crew wrote (no matching ${stats}): move it away, or use another --out`,
      );
    }
    shard.ours = disk.kind === 'ours';
    if (disk.kind === 'ours' && !this.#options.force) shard.previous = disk.complete;
    return shard;
  }

  /** The shard being read has all its rows: settle a held one, complete a done one. */
  #endReading(): ListRow[] {
    const shard = this.#reading;
    this.#reading = undefined;
    if (shard === undefined) return [];
    shard.allRead = true;
    const previous = shard.previous;
    if (previous === undefined) {
      this.#completeIfDone(shard);
      return [];
    }
    shard.previous = undefined;
    const held = shard.held;
    shard.held = [];
    if (previous.rows === shard.read && previous.input === shard.digest.copy().digest('hex')) {
      this.#shards.delete(shard.number);
      this.skippedShards++;
      const file = shardFiles(shard.number).tar;
      for (const row of held) this.#hooks.skipped(skippedRow(row, file));
      return [];
    }
    return held; // the list changed: the shard is done again
  }

  #completeIfDone(shard: Shard): void {
    if (!shard.allRead || shard.previous !== undefined || shard.ended < shard.read) return;
    this.#shards.delete(shard.number);
    shard.lines.sort((a, b) => a.row - b.row);
    try {
      this.#complete(shard);
    } catch (error) {
      shard.tar?.close();
      // A full or unusable --out stops the run; its temp folder, with the tar, is removed.
      if (error instanceof OutputError || !isOutputProblem(error)) throw error;
      const tar = join(this.#options.out, shardFiles(shard.number).tar);
      throw new OutputError(`cannot write ${tar}: ${reasonWithoutPaths(error)}`, { cause: error });
    }
    this.writtenShards++;
    // The tar gets its final name once every line of the shard is written, and its rows are
    // done only then: a kill before leaves lines a re-run redoes, never a row reported done
    // whose tar is not there.
    this.#sealing.add(shard.number);
    this.#recordFrom(shard, 0);
  }

  /**
   * Hands the shard's manifest lines over from `from` on, MAX_QUEUED at a time (the next
   * slice once the last line of this one is written), then seals the shard. All at once, a
   * shard of 10,000 rows became ~3 MiB of JSON text and as much again joined for one write,
   * on top of its table: ~8 MiB more peak memory than files layout, for nothing.
   */
  #recordFrom(shard: Shard, from: number): void {
    const { lines } = shard;
    if (from >= lines.length) return this.#seal(shard);
    const end = Math.min(lines.length, from + MAX_QUEUED);
    for (let i = from; i < end - 1; i++) this.#hooks.record(lines[i]!);
    this.#hooks.record(lines[end - 1]!, () => this.#recordFrom(shard, end));
  }

  /** Gives a complete shard's tar its final name, then its rows are done. */
  #seal(shard: Shard): void {
    this.#sealing.delete(shard.number);
    try {
      renameSync(
        this.#asidePath(shard.number),
        join(this.#options.out, shardFiles(shard.number).tar),
      );
    } catch (error) {
      this.#failure ??= new OutputError(
        `cannot name ${join(this.#options.out, shardFiles(shard.number).tar)}: ${reasonWithoutPaths(error)}`,
        { cause: error },
      );
      return;
    }
    for (const line of shard.lines) this.#hooks.done(line);
  }

  /**
   * Finishes the tar and writes the side files aside, then gives the side files their final
   * names; the tar keeps its temp name until its rows' lines are written (`#seal`): a tar
   * under its final name is whole, and its side files are there.
   */
  #complete(shard: Shard): void {
    const { out, temp } = this.#options;
    const files = shardFiles(shard.number);
    const aside = this.#asidePath(shard.number);
    shard.tar ??= new TarWriter(aside); // a shard of failed rows has an empty tar
    const tarBytes = shard.tar.finish();
    const schema = this.#schemaNow();
    const table = join(temp, files.parquet);
    writeShardTable(table, shard.lines, {
      keyOf: (row) => this.keyOf(row),
      caption: schema.caption,
      columns: schema.columns,
    });
    const stats = join(temp, files.stats);
    writeFileSync(stats, `${JSON.stringify(statsOf(shard, tarBytes), null, 2)}\n`, {
      flag: 'wx',
    });
    // A redo's old tar goes first: a kill from here on leaves no tar to trust, so the next
    // run does the shard again; never stale side files beside a tar.
    if (shard.ours) rmSync(join(out, files.tar), { force: true });
    else if (fileSize(join(out, files.tar)) !== undefined) {
      throw new OutputError(`${join(out, files.tar)} appeared while crew wrote it: not replaced`);
    }
    renameSync(table, join(out, files.parquet));
    renameSync(stats, join(out, files.stats));
  }
}

/**
 * What an earlier run left of shard `number` in `out`: no tar; a tar that is not crew's (no
 * stats that give its size); or crew's, complete when its table is there too.
 */
export function shardOnDisk(
  out: string,
  number: number,
):
  | { readonly kind: 'none' }
  | { readonly kind: 'foreign' }
  | { readonly kind: 'ours'; readonly complete: Previous | undefined } {
  const files = shardFiles(number);
  const tarBytes = fileSize(join(out, files.tar));
  if (tarBytes === undefined) return { kind: 'none' };
  const stats = readStats(join(out, files.stats));
  if (stats === undefined || stats.tarBytes !== tarBytes) return { kind: 'foreign' };
  const complete = fileSize(join(out, files.parquet)) !== undefined;
  return {
    kind: 'ours',
    complete: complete ? { rows: stats.rows, input: stats.input } : undefined,
  };
}

/** What of a row makes its shard's content: a shard is skipped only when all of it matches. */
export function fingerprint(row: ListRow): string {
  if ('error' in row) return `${row.row}\t${row.url}\t${row.error}\n`;
  return `${row.row}\t${row.url}\t${row.caption ?? ''}\t${JSON.stringify(row.saved ?? [])}\n`;
}

function skippedRow(row: ListRow, file: string): ManifestLine {
  const id = 'id' in row ? row.id : '';
  const name = 'name' in row ? row.name : '';
  return { ...blank, row: row.row, id, name, url: row.url, file, status: 'skipped' };
}

/** An earlier run's stats of a shard, if the file is one crew wrote. */
function readStats(path: string): { rows: number; input: string; tarBytes: number } | undefined {
  try {
    const stats = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const { rows, input, tarBytes } = stats;
    return typeof rows === 'number' && typeof input === 'string' && typeof tarBytes === 'number'
      ? { rows, input, tarBytes }
      : undefined;
  } catch {
    return undefined;
  }
}

/** A shard's `NNNNN_stats.json`. */
function statsOf(shard: Shard, tarBytes: number): Record<string, unknown> {
  const failedByReason: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let optedOut = 0;
  let bytes = 0;
  for (const line of shard.lines) {
    if (line.status === 'ok') {
      ok++;
      bytes += line.bytes;
    } else if (line.status === 'opted-out') optedOut++;
    else {
      failed++;
      const reason = line.error ?? 'failed';
      failedByReason[reason] = (failedByReason[reason] ?? 0) + 1;
    }
  }
  const finished = Date.now();
  return {
    shard: shardName(shard.number),
    rows: shard.read,
    ok,
    failed,
    optedOut,
    failedByReason,
    bytes,
    tarBytes,
    seconds: (finished - shard.started) / 1000,
    started: new Date(shard.started).toISOString(),
    finished: new Date(finished).toISOString(),
    // The rows this shard was made from: a re-run skips it only when they are the same.
    input: shard.digest.digest('hex'),
  };
}
