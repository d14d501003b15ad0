/**
 * The reading stage: the list (a file, or stdin as it arrives) as numbered data rows, each a
 * job or the reason it cannot be one. Its format (CSV, TSV, JSON lines, parquet; gzip for
 * the text ones) is told or detected (input-format.ts); which row is the header and which
 * columns hold the URL, the name, the caption and the kept columns is decided here from the
 * first records, by the rules in rows.ts, the same for every format. A list that cannot be
 * used at all is an InputError naming it; a bad row is a value, and the run goes on.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { reasonOf } from '../errors.ts';
import { MARK, OVERSIZED, parseLines } from './csv-lines.ts';
import { InputError, LayoutError } from './errors.ts';
import {
  formatByName,
  framing,
  MAGIC_BYTES,
  type InputFormat,
  type InputFormatChoice,
} from './input-format.ts';
import { ParquetSource } from './parquet-input.ts';
import { JsonLines, textOf, tsvRecords, type Cells, type Unreadable } from './records.ts';
import {
  detectLayout,
  firstRowIsHeader,
  toJob,
  type BadRow,
  type HeaderMode,
  type Job,
  type Layout,
} from './rows.ts';
import { TextLines } from './text-lines.ts';

export interface ReadOptions {
  /** A path, or '-' for stdin. */
  readonly csv: string;
  readonly inputFormat?: InputFormatChoice;
  readonly csvHeader: HeaderMode;
  readonly urlColumn: string | undefined;
  readonly nameColumn: string | undefined;
  readonly captionColumn?: string | undefined;
  readonly saveColumns?: readonly string[] | undefined;
  /** A TextDecoder label, or 'auto' to detect it from the bytes. */
  readonly encoding: string;
}

/** What a file's first bytes are; undefined until stdin's (or a pipe's) first chunk says. */
type Framing = ReturnType<typeof framing> | undefined;

/** The field names of a list that has them apart from its rows (JSON lines, parquet). */
interface Names {
  readonly names: readonly string[];
}

/** What a format's reader gives: a row's cells, a row it could not read, or the names. */
type Item = Cells | Unreadable | Names;

/** What reading has seen so far: rows numbered, and the header (names) once known. */
interface ReadState {
  row: number;
  header: readonly string[] | undefined;
  named: boolean;
}

const isNames = (item: Item): item is Names => 'names' in item && !Array.isArray(item);
const isUnreadable = (item: Item): item is Unreadable => 'error' in item && !Array.isArray(item);

/** Data rows in list order; iterate once. `close()` stops reading (stdin included). */
export class InputRows implements AsyncIterable<Job | BadRow> {
  readonly #options: ReadOptions;
  readonly #signal: AbortSignal;
  /** The file's size, for the fraction read; undefined for stdin or an empty file. */
  readonly #size: number | undefined;
  /** What the file's first bytes are; undefined for stdin (its first chunk says). */
  readonly #framing: Framing;
  /** The format as told or as the name and magic say; a text one may wait for its first line. */
  #format: InputFormat | undefined;
  #input: (Readable & { bytesRead?: number }) | undefined;
  #lines: TextLines | undefined;
  #parquet: ParquetSource | undefined;
  #layout: Layout | undefined;

  private constructor(
    options: ReadOptions,
    signal: AbortSignal,
    file: { size: number | undefined; framing: Framing },
  ) {
    this.#options = options;
    this.#signal = signal;
    this.#size = file.size || undefined;
    this.#framing = file.framing;
    const told = options.inputFormat ?? 'auto';
    this.#format =
      told !== 'auto'
        ? told
        : file.framing === 'parquet'
          ? 'parquet'
          : options.csv === '-'
            ? undefined
            : formatByName(options.csv);
    if (this.#format === 'parquet' && file.framing === 'gzip') this.#format = undefined;
  }

  /**
   * Checks that the list exists and is a file, and reads its first bytes; reading starts
   * with the iteration. InputError for parquet on stdin (it is read from its end).
   */
  static async open(options: ReadOptions, signal: AbortSignal): Promise<InputRows> {
    if (options.csv === '-') {
      if (options.inputFormat === 'parquet') {
        throw new InputError('a parquet file cannot be read from stdin: name the file');
      }
      return new InputRows(options, signal, { size: undefined, framing: undefined });
    }
    const info = await listFile(options.csv);
    // A pipe's first bytes are read once: its first chunk says what it is, as stdin's does.
    const head = info.regular ? await firstBytes(options.csv) : undefined;
    return new InputRows(options, signal, {
      size: info.regular ? info.size : undefined,
      framing: head && framing(head),
    });
  }

  /** The list's format, once known (a text list's may wait for its first line). */
  get format(): InputFormat | undefined {
    return this.#format ?? this.#lines?.format;
  }

  /** The layout, once the first rows decided it. */
  get layout(): Layout | undefined {
    return this.#layout;
  }

  /** How much of the list has been read (0 to 1); undefined for stdin. */
  fraction(): number | undefined {
    if (this.#parquet) return this.#parquet.fraction();
    if (this.#size === undefined || this.#input === undefined) return undefined;
    return Math.min(1, (this.#input.bytesRead ?? 0) / this.#size);
  }

  /** Stops reading: ends the iteration even while it waits for more input. */
  close(): void {
    this.#input?.destroy();
    this.#lines?.destroy();
    this.#parquet?.close();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Job | BadRow> {
    for await (const batch of this.batches()) {
      for (const row of batch) {
        // A run stops between rows, not batches: no row is handed on after a Ctrl-C.
        this.#signal.throwIfAborted();
        yield row;
      }
    }
  }

  /**
   * The rows in list order, in batches of up to a few hundred: one await a batch, not one a
   * row, for a reader that goes through a million rows at memory speed (a dry run).
   */
  async *batches(): AsyncGenerator<(Job | BadRow)[]> {
    const { csv } = this.#options;
    const state: ReadState = { row: 0, header: undefined, named: false };
    try {
      for await (const items of this.#items()) {
        this.#signal.throwIfAborted();
        const rows: (Job | BadRow)[] = [];
        for (const item of items) {
          const row = this.#rowOf(item, state);
          if (row !== undefined) rows.push(row);
        }
        if (rows.length > 0) yield rows;
      }
    } catch (error) {
      throw asInputError(error, csv);
    }
  }

  /** An item as a row; undefined for the names or a header (the layout waits for a data row). */
  #rowOf(item: Item, state: ReadState): Job | BadRow | undefined {
    if (isNames(item)) {
      state.header = item.names;
      state.named = true;
      return undefined;
    }
    if (isUnreadable(item)) return { row: ++state.row, url: '', error: item.error };
    if (this.#layout === undefined) {
      const texts = item.map(textOf);
      // A header is held back until the first data row arrives: the layout needs both.
      if (
        !state.named &&
        state.header === undefined &&
        firstRowIsHeader(texts, this.#options.csvHeader)
      ) {
        state.header = texts;
        return undefined;
      }
      this.#layout = detectLayout(state.header ?? texts, state.header ? texts : undefined, {
        header: state.named ? 'yes' : this.#options.csvHeader,
        urlColumn: this.#options.urlColumn,
        nameColumn: this.#options.nameColumn,
        captionColumn: this.#options.captionColumn,
        saveColumns: this.#options.saveColumns,
      });
      this.#parquet?.keepOnly(columnsOf(this.#layout));
    }
    return toJob(item, this.#layout, ++state.row, this.#lines?.encoding);
  }

  /** The format's items, a batch at a time. */
  #items(): AsyncIterable<readonly Item[]> {
    if (this.#format === 'parquet') return this.#parquetItems();
    return this.#textItems();
  }

  async *#parquetItems(): AsyncGenerator<readonly Item[]> {
    const source = await ParquetSource.open(this.#options.csv);
    this.#parquet = source;
    yield [{ names: source.names }];
    yield* source.batches(this.#signal);
  }

  async *#textItems(): AsyncGenerator<readonly Item[]> {
    const { csv } = this.#options;
    const raw = csv === '-' ? process.stdin : createReadStream(csv);
    this.#input = raw;
    // Before the first chunk is awaited (stdin's says its format): a Ctrl-C while an idle
    // pipe gives nothing must end that wait too.
    // (raw has no error listener yet: it is destroyed quietly, and the abort is what is thrown.)
    const stop = (): void =>
      void (this.#lines ? this.#lines.destroy(this.#signal.reason as Error) : raw.destroy());
    // A signal that came while --out was being opened has fired its event already: stdin is
    // destroyed by then, and waiting for its end left nothing to wake the run (exit 13, the
    // lock left behind).
    if (this.#signal.aborted) stop();
    else this.#signal.addEventListener('abort', stop, { once: true });
    try {
      yield* this.#textItemsOf(raw);
    } finally {
      this.#signal.removeEventListener('abort', stop);
    }
  }

  async *#textItemsOf(raw: Readable): AsyncGenerator<readonly Item[]> {
    const { encoding } = this.#options;
    let bytes: Readable;
    try {
      bytes = await this.#decompressed(raw);
    } catch (error) {
      this.#signal.throwIfAborted();
      throw error;
    }
    this.#signal.throwIfAborted();
    const told = this.#format === 'parquet' ? undefined : this.#format;
    const lines = bytes.pipe(new TextLines(encoding, told));
    this.#lines = lines;
    // pipe() does not forward errors: a read error must end the parse, not vanish.
    raw.on('error', (error: Error) => lines.destroy(error));
    if (bytes !== raw) bytes.on('error', (error: Error) => lines.destroy(error));
    const json = new JsonLines();
    for await (const text of lines as AsyncIterable<string>) {
      for (const slice of slices(text)) {
        if (lines.format !== 'jsonl') {
          yield markedRows(lines.format === 'tsv' ? tsvRecords(slice) : parseLines(slice));
        } else {
          yield jsonItems(slice, json);
        }
      }
    }
  }

  /** The bytes as text: gunzipped when they are gzip (a file's magic, or stdin's first chunk). */
  async #decompressed(raw: Readable): Promise<Readable> {
    let input = raw;
    let gzip = this.#framing === 'gzip';
    if (this.#framing === undefined) {
      const peeked = await peek(raw);
      input = peeked.stream;
      gzip = framing(peeked.head) === 'gzip';
      if (framing(peeked.head) === 'parquet') {
        throw new InputError('a parquet file cannot be read from stdin: name the file');
      }
    }
    if (!gzip) return input;
    const gunzip = createGunzip();
    input.on('error', (error: Error) => gunzip.destroy(error));
    return input.pipe(gunzip);
  }
}

/** Old name: the reader read only CSV. */
export { InputRows as CsvRows };

/** The columns a layout reads (a parquet list reads only these). */
function columnsOf(layout: Layout): number[] {
  const columns = [layout.url, layout.name, layout.id, layout.caption];
  for (const saved of layout.saved ?? []) columns.push(saved.index);
  return columns.filter((index): index is number => index !== undefined);
}

/** CSV or TSV records, a marker line (too long, unbalanced quotes) as the row's failure. */
function markedRows(records: readonly string[][]): Item[] {
  return records.map((record) =>
    record[0]?.startsWith(MARK) ? { error: markedRowError(record[0]) } : record,
  );
}

/** JSON lines' items: the names once the first object gave them, then each line's cells. */
function jsonItems(slice: string, json: JsonLines): Item[] {
  const items: Item[] = [];
  for (const line of slice.split('\n')) {
    const named = json.names !== undefined;
    const cells = line.startsWith(MARK) ? { error: markedRowError(line) } : json.parse(line);
    if (cells === undefined) continue;
    if (!named && json.names !== undefined) items.push({ names: json.names });
    items.push(cells);
  }
  return items;
}

const markedRowError = (mark: string): string =>
  mark === OVERSIZED
    ? `row is over 1 MiB (a line or field that never ends?)`
    : 'unbalanced quotes in this row';

/** Lines parsed at a time: a few hundred rows' records at most are alive at once. */
const SLICE_LINES = 256;

/**
 * Batches of whole lines, cut into slices of SLICE_LINES lines to parse one at a time. Not
 * all at once: a 64 KiB chunk is over a thousand records, which outlived two young-generation
 * collections while the rows were planned and were promoted, growing a million-row re-run's
 * old generation to 140 MB of garbage before its first full collection.
 */
function* slices(text: string): Generator<string> {
  for (let from = 0; from < text.length;) {
    let to = from;
    for (let n = 0; n < SLICE_LINES && to < text.length; n++) {
      to = text.indexOf('\n', to) + 1 || text.length;
    }
    yield text.slice(from, to);
    from = to;
  }
}

/** A stream's first chunk, and a stream that gives it again followed by the rest. */
async function peek(stream: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await chunks.next();
  const head = first.done === true ? Buffer.alloc(0) : first.value;
  async function* again(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) {
      yield next.value;
    }
  }
  const rest = Readable.from(again(), { objectMode: false });
  return { head, stream: rest };
}

/** A read or parse failure in the words the user needs, naming the list; anything else as it is. */
function asInputError(error: unknown, csv: string): unknown {
  const name = csv === '-' ? 'stdin' : csv;
  if (error instanceof LayoutError) {
    return new LayoutError(`${name}: ${error.message}`, { cause: error });
  }
  if (error instanceof InputError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' && csv !== '-') return new InputError(`cannot read ${csv}: no such file`);
  if (code?.startsWith('CSV_')) {
    return new InputError(`${name} is not valid CSV: ${(error as Error).message}`);
  }
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'Z_NEED_DICT') {
    return new InputError(`${name} is not valid gzip: ${reasonOf(error)}`, { cause: error });
  }
  // The system's other refusals (EACCES, EIO): still a failed run, but one that names the file.
  if (csv !== '-' && code !== undefined && /^E[A-Z]+$/.test(code)) {
    return new Error(`cannot read ${csv}: ${reasonOf(error)}`, { cause: error });
  }
  return error;
}

async function listFile(path: string): Promise<{ size: number; regular: boolean }> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new InputError(
      `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  if (info.isDirectory()) throw new InputError(`${path} is a directory, not a list of URLs`);
  return { size: info.size, regular: info.isFile() };
}

/** The file's first MAGIC_BYTES bytes (fewer when it is shorter). */
async function firstBytes(path: string): Promise<Buffer> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (error) {
    // A file the user may not read is a failed run (exit 1), as a read of it would be.
    throw asInputError(error, path);
  }
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(MAGIC_BYTES), 0, MAGIC_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
