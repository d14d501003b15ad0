/**
 * A parquet list's rows, read with hyparquet (pure JavaScript; snappy built in, gzip, zstd,
 * brotli and lz4 through hyparquet-compressors) from its own open file. Flat columns (LAION's all
 * are) are read a page at a time into a buffer each column reuses (parquet-pages.ts), so
 * memory holds a page of each column read, never a row group's chunks or the file; a list
 * or struct column is decoded by hyparquet a range of rows at a time. Once the first row
 * has decided the layout only the columns it uses are read: a LAION shard's other columns
 * are never decoded.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { AsyncBuffer, DecodedArray, FileMetaData, SchemaTree } from 'hyparquet';
import { reasonOf } from '../errors.ts';
import { InputError } from './errors.ts';
import { ByteWindow, ColumnPages } from './parquet-pages.ts';
import { PageStrings } from './parquet-strings.ts';
import type { Cells, Unreadable } from './records.ts';

/**
 * The most rows hyparquet decodes at once where a column is not flat. A row group is
 * decoded whole when it is no larger (100,000 rows is common): decoding a group in smaller
 * ranges cost twice the time (each range decodes its pages again).
 */
export const MAX_RANGE_ROWS = 131_072;

/**
 * Rows handed on at once: one await a batch, not one a row, yet few enough that a batch's
 * cells die young (a young-generation collection does not promote them).
 */
const BATCH_ROWS = 256;

/** Ranges in a row that fail before the file counts as unreadable from there on. */
const MAX_FAILED_RANGES = 3;

/** hyparquet's footer reader; its whole-range reader only for a list or struct column. */
const footer = () => import('hyparquet/src/metadata.js');
const rangeReader = () => import('hyparquet/src/read.js');

type Compressors = NonNullable<Parameters<typeof ColumnPages.of>[3]>;

/**
 * The decompressors a file's pages need. Snappy (LAION's, and most writers' default) and
 * uncompressed pages need none but hyparquet's own snappy; the other codecs load
 * hyparquet-compressors, whose gzip, zstd, brotli and lz4 cost ~7 MiB of memory a file that
 * has none of them need not hold.
 */
async function compressorsFor(metadata: FileMetaData): Promise<Compressors> {
  const codecs = new Set(
    metadata.row_groups.flatMap((group) => group.columns.map((chunk) => chunk.meta_data?.codec)),
  );
  codecs.delete('UNCOMPRESSED');
  codecs.delete('SNAPPY');
  if (codecs.size === 0) return {};
  // Its WebAssembly snappy hands each page back in fresh memory: hyparquet's own is used.
  const { SNAPPY: _, ...others } = (await import('hyparquet-compressors')).compressors;
  return others;
}

/** A range of rows to read, in the file's row numbers from 0 (`end` not included). */
interface Range {
  readonly start: number;
  readonly end: number;
  /** The row group the range lies in, and its first row. */
  readonly group: number;
  readonly groupStart: number;
}

export class ParquetSource {
  readonly #path: string;
  readonly #file: FileHandle;
  readonly #size: number;
  readonly #buffer: AsyncBuffer;
  readonly #metadata: FileMetaData;
  readonly #schema: SchemaTree;
  readonly #compressors: Compressors;
  readonly #rows: number;
  /** The top-level columns, in schema order. */
  readonly names: readonly string[];
  /** The columns read after the first row (indexes into `names`); all until told. */
  #columns: readonly number[] | undefined;
  /** Each column's page buffer, by name: reused from group to group. */
  readonly #windows = new Map<string, ByteWindow>();
  #read = 0;
  #closed = false;

  private constructor(
    path: string,
    file: { handle: FileHandle; size: number; buffer: AsyncBuffer },
    parts: { metadata: FileMetaData; schema: SchemaTree; compressors: Compressors },
  ) {
    this.#path = path;
    this.#file = file.handle;
    this.#size = file.size;
    this.#buffer = file.buffer;
    this.#metadata = parts.metadata;
    this.#schema = parts.schema;
    this.#compressors = parts.compressors;
    this.names = parts.schema.children.map((child) => child.element.name);
    this.#rows = parts.metadata.row_groups.reduce((sum, group) => sum + Number(group.num_rows), 0);
  }

  /** Opens the file and reads its footer; InputError, naming the file, when it is not parquet. */
  static async open(path: string): Promise<ParquetSource> {
    const { parquetMetadataAsync, parquetSchema } = await footer();
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const buffer: AsyncBuffer = {
        byteLength: size,
        slice: async (start, end = size) => {
          const bytes = new Uint8Array(Math.max(0, Math.min(end, size) - start));
          const { bytesRead } = await handle.read(bytes, 0, bytes.length, start);
          if (bytesRead < bytes.length) throw new Error('the file is shorter than its footer says');
          return bytes.buffer;
        },
      };
      const metadata = await parquetMetadataAsync(buffer);
      const schema = parquetSchema(metadata);
      const compressors = await compressorsFor(metadata);
      return new ParquetSource(path, { handle, size, buffer }, { metadata, schema, compressors });
    } catch (error) {
      await handle.close();
      throw new InputError(`${path} is not a readable parquet file: ${reasonOf(error)}`, {
        cause: error,
      });
    }
  }

  /** Reads only these columns (indexes into `names`) from the next batch on. */
  keepOnly(columns: readonly number[]): void {
    this.#columns = [...new Set(columns)];
  }

  /** How much of the file's rows have been read (0 to 1). */
  fraction(): number {
    return this.#rows === 0 ? 1 : Math.min(1, this.#read / this.#rows);
  }

  /** Closes the file; the rows' iteration ends at its next batch. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close().catch(() => undefined);
  }

  /**
   * The rows as cells (the columns not read are empty), in batches of at most BATCH_ROWS; a
   * range that cannot be decoded gives each of its rows from where it failed as
   * Unreadable, with why, and reading goes on with the next range.
   */
  async *batches(signal: AbortSignal): AsyncGenerator<(Cells | Unreadable)[]> {
    let failed = 0;
    try {
      for (const range of this.#ranges()) {
        if (this.#closed) return;
        signal.throwIfAborted();
        const wanted = (this.#columns ?? this.names.map((_, i) => i)).map((i) => this.names[i]!);
        let at = range.start;
        try {
          for await (const batch of this.#rowsOf(range, wanted)) {
            if (this.#closed) return;
            yield batch;
            at += batch.length;
            this.#read = at;
          }
          failed = 0;
        } catch (error) {
          if (this.#closed) return;
          signal.throwIfAborted();
          if (++failed >= MAX_FAILED_RANGES) {
            throw new InputError(
              `${this.#path}: rows ${at + 1}-${range.end} and the ${failed - 1} ranges before them cannot be read (${reasonOf(error)}); the file is damaged`,
            );
          }
          const why = `parquet rows ${at + 1}-${range.end} cannot be read: ${reasonOf(error)}`;
          for (let from = at; from < range.end; from += BATCH_ROWS) {
            yield Array.from({ length: Math.min(range.end, from + BATCH_ROWS) - from }, () => ({
              error: why,
            }));
          }
        }
        this.#read = range.end;
      }
    } finally {
      this.close();
    }
  }

  /**
   * The rows to read, in order: the first row alone (the layout needs all its columns
   * once), then each row group whole (less its first row, for the first group).
   */
  *#ranges(): Generator<Range> {
    if (this.#rows === 0) return;
    let groupStart = 0;
    for (const [group, { num_rows }] of this.#metadata.row_groups.entries()) {
      const groupEnd = groupStart + Number(num_rows);
      if (groupStart === 0 && groupEnd > 0) yield { start: 0, end: 1, group, groupStart };
      if (Math.max(1, groupStart) < groupEnd) {
        yield { start: Math.max(1, groupStart), end: groupEnd, group, groupStart };
      }
      groupStart = groupEnd;
    }
  }

  /** A range's rows as cells, in batches: page by page when every column read is flat. */
  async *#rowsOf(range: Range, wanted: readonly string[]): AsyncGenerator<unknown[][]> {
    const compressors = this.#compressors;
    const file = {
      handle: this.#file,
      size: this.#size,
      metadata: this.#metadata,
      schema: this.#schema,
    };
    const columns: { index: number; rows: ColumnRows }[] = [];
    for (const name of wanted) {
      const window = this.#windows.get(name) ?? new ByteWindow();
      this.#windows.set(name, window);
      const pages = await ColumnPages.of(file, { group: range.group, name }, window, compressors);
      if (pages === undefined) {
        yield* this.#decodedRanges(range, wanted);
        return;
      }
      columns.push({ index: this.names.indexOf(name), rows: new ColumnRows(pages, range) });
    }
    for (let from = range.start; from < range.end; from += BATCH_ROWS) {
      const to = Math.min(range.end, from + BATCH_ROWS);
      const cells = emptyCells(to - from, this.names.length);
      for (const { index, rows } of columns) await rows.fill(cells, index, from, to);
      yield cells;
    }
  }

  /** A range's rows decoded by hyparquet whole, a MAX_RANGE_ROWS at a time. */
  async *#decodedRanges(range: Range, wanted: readonly string[]): AsyncGenerator<unknown[][]> {
    const { parquetRead } = await rangeReader();
    const compressors = this.#compressors;
    for (let start = range.start; start < range.end; start += MAX_RANGE_ROWS) {
      const end = Math.min(range.end, start + MAX_RANGE_ROWS);
      // Columns, not row objects: hyparquet's rows are a transposed copy of these.
      const chunks = new Map<string, Chunk[]>();
      await parquetRead({
        file: this.#buffer,
        metadata: this.#metadata,
        columns: [...wanted],
        rowStart: start,
        rowEnd: end,
        compressors,
        onChunk: (chunk) => {
          const list = chunks.get(chunk.columnName) ?? [];
          list.push({ rowStart: chunk.rowStart, data: chunk.columnData });
          chunks.set(chunk.columnName, list);
        },
      });
      const cells = new CellReader(this.names, chunks);
      for (let from = start; from < end; from += BATCH_ROWS) {
        yield cells.rows(from, Math.min(end, from + BATCH_ROWS));
      }
    }
  }
}

/** `count` rows of `width` empty cells. Filled, not holey: `map` and `some` skip holes. */
function emptyCells(count: number, width: number): unknown[][] {
  const cells: unknown[][] = [];
  for (let row = 0; row < count; row++) cells.push(new Array<unknown>(width).fill(undefined));
  return cells;
}

/** One flat column's values, row by row in order, its pages decoded as rows reach them. */
class ColumnRows {
  readonly #pages: ColumnPages;
  #values: DecodedArray | PageStrings = [];
  /** The file's row number of the page's first value. */
  #start: number;

  constructor(pages: ColumnPages, range: Range) {
    this.#pages = pages;
    // Pages start at the group's first row: a range may start later (the first group's
    // second row), and the pages before it are decoded and passed over.
    this.#start = range.groupStart;
  }

  /** Puts the column's values of rows `from` to `to` into `cells` (row `from` first) at `index`. */
  async fill(cells: unknown[][], index: number, from: number, to: number): Promise<void> {
    for (let row = from; row < to;) {
      while (row >= this.#start + this.#values.length) {
        this.#start += this.#values.length;
        const next = await this.#pages.next();
        if (next === undefined) throw new Error('a column chunk ends before its row group');
        this.#values = next;
      }
      const until = Math.min(to, this.#start + this.#values.length);
      const values = this.#values;
      if (values instanceof PageStrings) {
        for (; row < until; row++) cells[row - from]![index] = values.at(row - this.#start);
      } else {
        for (; row < until; row++) cells[row - from]![index] = values[row - this.#start];
      }
    }
  }
}

/** Values of one column from `rowStart` on (the file's row numbers, from 0). */
interface Chunk {
  readonly rowStart: number;
  readonly data: ArrayLike<unknown>;
}

/**
 * Rows' cells from the column chunks hyparquet decoded, asked for in row order: each column
 * keeps its place in its chunks (a chunk may start before the range asked), so a row costs
 * a look-up per column read, not a search.
 */
class CellReader {
  readonly #width: number;
  /** For each column read: its index in the row, its chunks, the chunk rows are in now. */
  readonly #columns: { index: number; chunks: readonly Chunk[]; at: number }[] = [];

  constructor(names: readonly string[], columns: ReadonlyMap<string, readonly Chunk[]>) {
    this.#width = names.length;
    names.forEach((name, index) => {
      const chunks = columns.get(name);
      if (chunks !== undefined) this.#columns.push({ index, chunks, at: 0 });
    });
  }

  /** The cells of rows `from` to `to` (not included); a row no chunk holds is empty there. */
  rows(from: number, to: number): unknown[][] {
    const out = emptyCells(to - from, this.#width);
    for (const column of this.#columns) {
      const { index, chunks } = column;
      for (let row = from; row < to; row++) {
        while (column.at < chunks.length - 1 && row >= chunkEnd(chunks[column.at]!)) column.at++;
        const chunk = chunks[column.at];
        const at = chunk === undefined ? -1 : row - chunk.rowStart;
        if (chunk !== undefined && at >= 0 && at < chunk.data.length) {
          out[row - from]![index] = chunk.data[at];
        }
      }
    }
    return out;
  }
}

const chunkEnd = (chunk: Chunk): number => chunk.rowStart + chunk.data.length;
