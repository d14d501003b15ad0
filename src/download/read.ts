/**
 * The reading stage: the CSV (a file, or stdin as it arrives) as numbered data rows, each a
 * job or the reason it cannot be one. Which row is the header and which columns hold the URL
 * and the name is decided here from the first records, by the rules in rows.ts. A CSV that
 * cannot be used at all is an InputError; a bad row is a value, and the run goes on.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';
import { reasonOf } from '../errors.ts';
import { LineCutter, MARK, OVERSIZED, parseLines } from './csv-lines.ts';
import { AUTO_ENCODING, detectEncoding } from './encoding.ts';
import { InputError } from './errors.ts';
import {
  detectLayout,
  firstRowIsHeader,
  toJob,
  type BadRow,
  type HeaderMode,
  type Job,
  type Layout,
} from './rows.ts';

export interface ReadOptions {
  /** A path, or '-' for stdin. */
  readonly csv: string;
  readonly csvHeader: HeaderMode;
  readonly urlColumn: string | undefined;
  readonly nameColumn: string | undefined;
  /** A TextDecoder label, or 'auto' to detect it from the bytes. */
  readonly encoding: string;
}

/** Data rows in CSV order; iterate once. `close()` stops reading (stdin included). */
export class CsvRows implements AsyncIterable<Job | BadRow> {
  readonly #options: ReadOptions;
  readonly #signal: AbortSignal;
  /** The file's size, for the fraction read; undefined for stdin or an empty file. */
  readonly #size: number | undefined;
  #input: (Readable & { bytesRead?: number }) | undefined;
  #parser: Readable | undefined;

  private constructor(options: ReadOptions, signal: AbortSignal, size: number | undefined) {
    this.#options = options;
    this.#signal = signal;
    this.#size = size || undefined;
  }

  /** Checks that the CSV file exists and is a file; reading starts with the iteration. */
  static async open(options: ReadOptions, signal: AbortSignal): Promise<CsvRows> {
    const size = options.csv === '-' ? undefined : await csvFileSize(options.csv);
    return new CsvRows(options, signal, size);
  }

  /** How much of the CSV file has been read (0 to 1); undefined for stdin. */
  fraction(): number | undefined {
    if (this.#size === undefined || this.#input === undefined) return undefined;
    return Math.min(1, (this.#input.bytesRead ?? 0) / this.#size);
  }

  /** Stops reading: ends the iteration even while it waits for more input. */
  close(): void {
    this.#input?.destroy();
    this.#parser?.destroy();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Job | BadRow> {
    const { csv } = this.#options;
    const input = csv === '-' ? process.stdin : createReadStream(csv);
    this.#input = input;
    const records = input.pipe(new CsvText(this.#options.encoding));
    this.#parser = records;
    // pipe() does not forward errors: a read error must end the parse, not vanish.
    input.on('error', (error: Error) => records.destroy(error));
    const stop = (): void => void records.destroy(this.#signal.reason as Error);
    // A signal that came while --out was being opened has fired its event already: stdin is
    // destroyed by then, and waiting for its end left nothing to wake the run (exit 13, the
    // lock left behind).
    if (this.#signal.aborted) stop();
    else this.#signal.addEventListener('abort', stop, { once: true });
    let layout: Layout | undefined;
    let header: string[] | undefined;
    let row = 0;
    try {
      for await (const record of recordsOf(records as AsyncIterable<string>)) {
        this.#signal.throwIfAborted();
        if (record[0]?.startsWith(MARK)) {
          yield { row: ++row, url: '', error: markedRowError(record[0]) };
          continue;
        }
        if (layout === undefined) {
          // A header is held back until the first data row arrives: the layout needs both.
          if (header === undefined && firstRowIsHeader(record, this.#options.csvHeader)) {
            header = record;
            continue;
          }
          layout = detectLayout(header ?? record, header ? record : undefined, {
            header: this.#options.csvHeader,
            urlColumn: this.#options.urlColumn,
            nameColumn: this.#options.nameColumn,
          });
        }
        yield toJob(record, layout, ++row, records.encoding);
      }
    } catch (error) {
      throw asInputError(error, csv);
    } finally {
      this.#signal.removeEventListener('abort', stop);
    }
  }
}

const markedRowError = (mark: string): string =>
  mark === OVERSIZED
    ? `row is over 1 MiB (a line or field that never ends?)`
    : 'unbalanced quotes in this row';

/** Lines parsed at a time: a few hundred rows' records at most are alive at once. */
const SLICE_LINES = 256;

/**
 * The records of batches of whole lines, parsed a slice at a time as they are asked for.
 * csv-parse's stream holds a record back until the byte after it arrives (a row read from a
 * pipe would wait for the next one), so each batch is parsed whole-lines-first; and not all
 * at once: a 64 KiB chunk is over a thousand records, which outlived two young-generation
 * collections while the rows were planned and were promoted, growing a million-row re-run's
 * old generation to 140 MB of garbage before its first full collection.
 */
async function* recordsOf(batches: AsyncIterable<string>): AsyncGenerator<string[]> {
  for await (const text of batches) {
    for (let from = 0; from < text.length;) {
      let to = from;
      for (let n = 0; n < SLICE_LINES && to < text.length; n++) {
        to = text.indexOf('\n', to) + 1 || text.length;
      }
      yield* parseLines(text.slice(from, to));
      from = to;
    }
  }
}

/**
 * CSV bytes in, batches of whole lines out, each ending in `\n`. The encoding is told, or
 * detected from the first bytes; the text is cut into lines (csv-lines.ts), and each batch
 * is given out as soon as it arrives.
 */
class CsvText extends Transform {
  #decoder: TextDecoder | undefined;
  #head: Buffer = Buffer.alloc(0);
  readonly #cutter = new LineCutter();

  constructor(encoding: string) {
    // One batch waiting at most: 16 (the default) read a megabyte ahead, whose strings lived
    // long enough to be promoted (100,000 failing rows ended with an 88 MB heap, now 75).
    super({ readableObjectMode: true, readableHighWaterMark: 1 });
    if (encoding !== AUTO_ENCODING) this.#decoder = new TextDecoder(encoding);
  }

  /** The canonical name of the encoding in use (utf-8 until known). */
  get encoding(): string {
    return this.#decoder?.encoding ?? 'utf-8';
  }

  override _transform(chunk: Buffer, _: BufferEncoding, done: TransformCallback): void {
    done(caught(() => this.#decode(chunk, false)));
  }

  override _flush(done: TransformCallback): void {
    done(
      caught(() => {
        this.#decode(Buffer.alloc(0), true);
        this.#lines(this.#cutter.end());
      }),
    );
  }

  #decode(chunk: Buffer, final: boolean): void {
    let bytes = chunk;
    if (this.#decoder === undefined) {
      bytes = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk]);
      const detected = detectEncoding(bytes, final);
      if (detected === undefined) {
        this.#head = bytes;
        return;
      }
      this.#head = Buffer.alloc(0);
      this.#decoder = new TextDecoder(detected);
    }
    this.#lines(this.#cutter.push(this.#decoder.decode(bytes, { stream: !final })));
  }

  #lines(lines: string): void {
    if (lines !== '') this.push(lines);
  }
}

/** What `work` threw, for a stream callback; null when it did not. */
function caught(work: () => void): Error | null {
  try {
    work();
    return null;
  } catch (error) {
    return error as Error;
  }
}

/** A read or parse failure in the words the user needs; anything else as it is. */
function asInputError(error: unknown, csv: string): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' && csv !== '-') return new InputError(`cannot read ${csv}: no such file`);
  if (code?.startsWith('CSV_')) {
    return new InputError(`${csv} is not valid CSV: ${(error as Error).message}`);
  }
  // The system's other refusals (EACCES, EIO): still a failed run, but one that names the file.
  if (csv !== '-' && code !== undefined && /^E[A-Z]+$/.test(code)) {
    return new Error(`cannot read ${csv}: ${reasonOf(error)}`, { cause: error });
  }
  return error;
}

async function csvFileSize(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new InputError(
      `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  if (info.isDirectory()) throw new InputError(`${path} is a directory, not a CSV file`);
  return info.size;
}
