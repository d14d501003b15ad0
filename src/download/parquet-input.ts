/**
 * A parquet list's rows, read with hyparquet (pure JavaScript; snappy, gzip, zstd, brotli and
 * lz4 pages through hyparquet-compressors) a row group at a time from its own open file,
 * so memory holds one group's columns, never the file. Once the first row has decided the layout only
 * the columns it uses are read: a LAION shard's other columns are never decoded.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { reasonOf } from '../errors.ts';
import { InputError } from './errors.ts';
import type { Cells, Unreadable } from './records.ts';

/**
 * The most rows decoded at once. A row group is decoded whole when it is no larger (100,000
 * rows is common): decoding a group in smaller ranges cost twice the time (each range decodes
 * its pages again), for no less memory on 1,000,000 rows of URL and caption.
 */
export const MAX_RANGE_ROWS = 131_072;

/**
 * Rows handed on at once: one await a batch, not one a row, yet few enough that a batch's
 * cells die young (a young-generation collection does not promote them).
 */
const BATCH_ROWS = 256;

/** Ranges in a row that fail before the file counts as unreadable from there on. */
const MAX_FAILED_RANGES = 3;

const library = async () => {
  const [hyparquet, { compressors }] = await Promise.all([
    import('hyparquet'),
    import('hyparquet-compressors'),
  ]);
  return { ...hyparquet, compressors };
};

export class ParquetSource {
  readonly #path: string;
  readonly #file: FileHandle;
  readonly #buffer: AsyncBuffer;
  readonly #metadata: FileMetaData;
  readonly #rows: number;
  /** The top-level columns, in schema order. */
  readonly names: readonly string[];
  /** The columns read after the first row (indexes into `names`); all until told. */
  #columns: readonly number[] | undefined;
  #read = 0;
  #closed = false;

  private constructor(
    path: string,
    file: FileHandle,
    parts: { buffer: AsyncBuffer; metadata: FileMetaData; names: string[] },
  ) {
    this.#path = path;
    this.#file = file;
    this.#buffer = parts.buffer;
    this.#metadata = parts.metadata;
    this.names = parts.names;
    this.#rows = parts.metadata.row_groups.reduce((sum, group) => sum + Number(group.num_rows), 0);
  }

  /** Opens the file and reads its footer; InputError, naming the file, when it is not parquet. */
  static async open(path: string): Promise<ParquetSource> {
    const { parquetMetadataAsync, parquetSchema } = await library();
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const buffer: AsyncBuffer = {
        byteLength: size,
        slice: async (start, end = size) => {
          const bytes = new Uint8Array(Math.max(0, Math.min(end, size) - start));
          const { bytesRead } = await file.read(bytes, 0, bytes.length, start);
          if (bytesRead < bytes.length) throw new Error('the file is shorter than its footer says');
          return bytes.buffer;
        },
      };
      const metadata = await parquetMetadataAsync(buffer);
      const names = parquetSchema(metadata).children.map((child) => child.element.name);
      return new ParquetSource(path, file, { buffer, metadata, names });
    } catch (error) {
      await file.close();
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
   * range that cannot be decoded gives each of its rows as Unreadable, with why, and
   * reading goes on with the next.
   */
  async *batches(signal: AbortSignal): AsyncGenerator<(Cells | Unreadable)[]> {
    const { parquetRead, compressors } = await library();
    let failed = 0;
    try {
      for (const [start, end] of this.#ranges()) {
        if (this.#closed) return;
        signal.throwIfAborted();
        const wanted = (this.#columns ?? this.names.map((_, i) => i)).map((i) => this.names[i]!);
        // Columns, not row objects: hyparquet's rows are a transposed copy of these.
        const columns = new Map<string, Chunk[]>();
        let error: unknown;
        try {
          await parquetRead({
            file: this.#buffer,
            metadata: this.#metadata,
            columns: wanted,
            rowStart: start,
            rowEnd: end,
            compressors,
            onChunk: (chunk) => {
              const list = columns.get(chunk.columnName) ?? [];
              list.push({ rowStart: chunk.rowStart, data: chunk.columnData });
              columns.set(chunk.columnName, list);
            },
          });
        } catch (caught) {
          error = caught;
        }
        if (this.#closed) return;
        if (error !== undefined) {
          if (++failed >= MAX_FAILED_RANGES) {
            throw new InputError(
              `${this.#path}: rows ${start + 1}-${end} and the ${failed - 1} ranges before them cannot be read (${reasonOf(error)}); the file is damaged`,
            );
          }
          const why = `parquet rows ${start + 1}-${end} cannot be read: ${reasonOf(error)}`;
          for (let from = start; from < end; from += BATCH_ROWS) {
            yield Array.from({ length: Math.min(end, from + BATCH_ROWS) - from }, () => ({
              error: why,
            }));
          }
        } else {
          failed = 0;
          const cells = new CellReader(this.names, columns);
          for (let from = start; from < end; from += BATCH_ROWS) {
            yield cells.rows(from, Math.min(end, from + BATCH_ROWS));
            this.#read = Math.min(end, from + BATCH_ROWS);
          }
        }
        this.#read = end;
      }
    } finally {
      this.close();
    }
  }

  /**
   * The row ranges to decode, in order: the first row alone (the layout needs all its
   * columns once), then each row group whole, or in ranges of MAX_RANGE_ROWS when larger.
   */
  *#ranges(): Generator<[number, number]> {
    if (this.#rows === 0) return;
    yield [0, 1];
    let groupStart = 0;
    for (const group of this.#metadata.row_groups) {
      const groupEnd = groupStart + Number(group.num_rows);
      for (let start = Math.max(1, groupStart); start < groupEnd; start += MAX_RANGE_ROWS) {
        yield [start, Math.min(groupEnd, start + MAX_RANGE_ROWS)];
      }
      groupStart = groupEnd;
    }
  }
}

/** Values of one column from `rowStart` on (the file's row numbers, from 0). */
interface Chunk {
  readonly rowStart: number;
  readonly data: ArrayLike<unknown>;
}

/**
 * Rows' cells from the column chunks read, asked for in row order: each column keeps its
 * place in its chunks (a chunk may start before the range asked), so a row costs a look-up
 * per column read, not a search.
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
    const out: unknown[][] = [];
    // Filled, not holey: `map` and `some` skip holes, and a row's empty cells are values.
    for (let row = from; row < to; row++) out.push(new Array<unknown>(this.#width).fill(undefined));
    for (const column of this.#columns) {
      const { index, chunks } = column;
      for (let row = from; row < to; row++) {
        while (column.at < chunks.length - 1 && row >= chunkEnd(chunks[column.at]!)) column.at++;
        const chunk = chunks[column.at];
        const at = chunk === undefined ? -1 : row - chunk.rowStart;
        if (chunk !== undefined && at >= 0 && at < chunk.data.length)
          out[row - from]![index] = chunk.data[at];
      }
    }
    return out;
  }
}

const chunkEnd = (chunk: Chunk): number => chunk.rowStart + chunk.data.length;
