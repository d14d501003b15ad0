/**
 * `<out>/crew-manifest.jsonl`: one JSON line per finished row, appended as it finishes, so an
 * interrupted run loses nothing it had finished, and a re-run knows what to skip.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { reasonOf } from '../errors.ts';
import { DoneRows } from './done-rows.ts';
import { OutputError } from './errors.ts';
import { writeAll } from './store.ts';

export { MANIFEST } from './names.ts';

/**
 * Lines that finish within this many milliseconds share one write: one system call and one
 * trip through libuv's thread pool per batch instead of per row (3000 small files a second
 * made the manifest's writes the parent's busiest work). A row counts as done only once its
 * line is written, so a kill -9 loses no row that was reported done.
 */
export const BATCH_MS = 5;

/**
 * Lines waiting to be written (queued, or in the write under way) at which the reader of the
 * CSV waits for them (`room`), and they are written without waiting for BATCH_MS. Rows that
 * fail at once (a dead host) finish faster than a loop turn writes them: a million such rows
 * had up to ~75,000 lines and their rows waiting here, and peaked at 260-295 MiB; with 4096
 * at most, 208 MiB (lines that wait that long outlive the young generation and fill the
 * old); with 256, 154 MiB at the same 60,000 rows/s. A download's 5 ms batch holds fewer.
 */
export const MAX_QUEUED = 256;

export type RowStatus = 'ok' | 'failed' | 'skipped';

export interface ManifestLine {
  readonly row: number;
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly file: string | null;
  readonly status: RowStatus;
  readonly http: number | null;
  readonly bytes: number;
  readonly sha256: string | null;
  readonly contentType: string | null;
  readonly attempts: number;
  readonly error: string | null;
  readonly ms: number;
}

/** Where each finished row's file is, by row and URL (a changed CSV does not match). */
export type Done = DoneRows;

/** What a re-run learns from the manifest: the rows done, and how many lines were not rows. */
export interface ManifestRead {
  readonly done: Done;
  /**
   * Lines that are not a row crew wrote (`null`, another JSON value, fields of the wrong
   * type, text, a line over MAX_LINE_BYTES). A line crew began and a crash cut short is
   * passed over without being counted: a kill -9 is no damage.
   */
  readonly skipped: number;
}

/**
 * The longest line read: crew's own are under 100 KB (a URL of 8 KB, a name, id and error of
 * 1024 characters each, all possibly escaped). Anything longer is skipped as it is read, so
 * a 1 GiB tail a crash or a file-system repair left costs no memory (it once crashed crew
 * with a RangeError after 630 MB, and left the lock behind).
 */
export const MAX_LINE_BYTES = 1 << 20;

/** The fields of a line a re-run uses, checked: the manifest is input like any other. */
type Row = Pick<ManifestLine, 'row' | 'url' | 'status' | 'file' | 'bytes'>;

const STATUSES: ReadonlySet<unknown> = new Set<RowStatus>(['ok', 'failed', 'skipped']);

/** A row of crew's from one line; 'torn' for the start of one cut short; undefined for none. */
export function rowOf(text: string): Row | 'blank' | 'torn' | undefined {
  if (text.trim() === '') return 'blank';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Every line crew writes starts so (JSON.stringify keeps the fields in order).
    return text.startsWith('{"row":') ? 'torn' : undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { row, url, status, file, bytes } = value as Record<string, unknown>;
  const count = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!count(row) || !count(bytes) || typeof url !== 'string' || !STATUSES.has(status)) {
    return undefined;
  }
  if (file !== null && typeof file !== 'string') return undefined;
  return { row, url, status: status as RowStatus, file, bytes };
}

/** Reads manifest lines (undefined: one over MAX_LINE_BYTES): the rows finished, last line winning. */
export async function doneFrom(lines: AsyncIterable<string | undefined>): Promise<ManifestRead> {
  const done = new DoneRows();
  let skipped = 0;
  for await (const text of lines) {
    const line = text === undefined ? undefined : rowOf(text);
    if (line === 'blank' || line === 'torn') continue;
    if (line === undefined) {
      skipped++;
    } else if ((line.status === 'ok' || line.status === 'skipped') && line.file) {
      done.set(line.row, line.url, line.file, line.bytes);
    } else {
      done.delete(line.row, line.url);
    }
  }
  return { done, skipped };
}

/**
 * The lines of `file` from its start, read a chunk at a time: a line over `max` bytes is
 * dropped as it arrives and given as undefined, so memory stays bounded whatever the file.
 */
export async function* linesOf(
  file: FileHandle,
  max = MAX_LINE_BYTES,
): AsyncGenerator<string | undefined> {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  /** The start of a line that did not end in the chunks read so far. */
  let held: Buffer[] = [];
  let heldBytes = 0;
  let tooLong = false;
  for (let position = 0; ;) {
    const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const bytes = chunk.subarray(0, bytesRead);
    for (let from = 0; from < bytesRead;) {
      const newline = bytes.indexOf(0x0a, from);
      const end = newline === -1 ? bytesRead : newline;
      if (!tooLong && heldBytes + end - from > max) {
        tooLong = true;
        held = [];
      }
      if (newline === -1) {
        // The chunk is read into again: what is kept of it must be a copy.
        if (!tooLong) held.push(Buffer.from(bytes.subarray(from, end)));
        heldBytes += end - from;
        break;
      }
      if (tooLong) yield undefined;
      else if (held.length === 0) yield bytes.toString('utf8', from, end);
      else yield Buffer.concat([...held, bytes.subarray(from, end)]).toString('utf8');
      held = [];
      heldBytes = 0;
      tooLong = false;
      from = newline + 1;
    }
  }
  if (tooLong) yield undefined;
  else if (held.length > 0) yield Buffer.concat(held).toString('utf8');
}

/** The rows a previous run finished, from the manifest at `path`; none if there is none. */
export async function readManifest(path: string): Promise<ManifestRead> {
  let file;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return { done: new DoneRows(), skipped: 0 };
  }
  try {
    return await doneFrom(linesOf(file));
  } finally {
    await file.close();
  }
}

/**
 * The manifest, open for reading what an earlier run finished and for appending this run's
 * lines. It is opened without following a link and must be a regular file of this user's:
 * in a shared --out, another user could otherwise plant `crew-manifest.jsonl -> /etc/...`
 * and have crew (run as root) append to that file.
 */
export class ManifestFile {
  readonly #file: FileHandle;
  readonly #path: string;
  #pending: string[] = [];
  /** Told, in order, once the lines they wait for are written. */
  #waiting: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #error: OutputError | undefined;
  /** Lines written to this object and not yet on disk (or failed). */
  #queued = 0;
  /** The reader, waiting in `room` (there is one reader). */
  #reader: (() => void) | undefined;

  private constructor(file: FileHandle, path: string) {
    this.#file = file;
    this.#path = path;
  }

  /** Opens (creating) the manifest at `path`; OutputError when it is not one crew may use. */
  static async open(path: string): Promise<ManifestFile> {
    const flags =
      constants.O_RDWR |
      constants.O_APPEND |
      constants.O_CREAT |
      constants.O_NOFOLLOW | // a planted symlink fails (ELOOP) instead of being followed
      constants.O_NONBLOCK; // a planted FIFO does not hang the run
    let file: FileHandle;
    try {
      file = await open(path, flags, 0o644);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new OutputError(
        code === 'ELOOP'
          ? `${path} is a symbolic link: refusing to write through it`
          : `cannot open ${path}: ${reasonOf(error)}`,
        { cause: error },
      );
    }
    const info = await file.stat();
    const uid = process.getuid?.();
    if (!info.isFile() || (uid !== undefined && info.uid !== uid)) {
      await file.close();
      throw new OutputError(
        `${path} is not a regular file of this user's: refusing to write to it`,
      );
    }
    const manifest = new ManifestFile(file, path);
    // A last line cut short (a kill, a full disk) is ended first, so the next line stands alone.
    if (info.size > 0) {
      const { buffer } = await file.read(Buffer.alloc(1), 0, 1, info.size - 1);
      if (buffer[0] !== 0x0a) manifest.#pending.push('\n');
    }
    return manifest;
  }

  /** The rows an earlier run finished (read before this run appends anything). */
  async done(): Promise<ManifestRead> {
    return doneFrom(linesOf(this.#file));
  }

  /**
   * Appends a line, written within BATCH_MS and in order; `onWritten` is called once it is
   * (never, if writing fails). Throws once writing has failed.
   */
  write(line: ManifestLine, onWritten?: () => void): void {
    if (this.#error) throw this.#error;
    this.#pending.push(`${JSON.stringify(line)}\n`);
    this.#queued++;
    if (onWritten) this.#waiting.push(onWritten);
    if (this.#queued >= MAX_QUEUED) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#flushing ??= this.#flush();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      // The running flush may already have taken this timer's lines: nothing to start then.
      if (this.#flushing === undefined && this.#pending.length > 0) {
        this.#flushing = this.#flush();
      }
    }, BATCH_MS);
  }

  /**
   * Undefined while fewer than MAX_QUEUED lines wait to be written; else a promise that
   * resolves once they are fewer (or writing failed: the next `write` throws).
   */
  room(): Promise<void> | undefined {
    if (this.#queued < MAX_QUEUED || this.#error) return undefined;
    return new Promise((resolve) => (this.#reader = resolve));
  }

  #wakeReader(): void {
    if (this.#queued >= MAX_QUEUED && !this.#error) return;
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.();
  }

  /** Writes until nothing is pending; always awaited through `#flushing` (set before it ends). */
  async #flush(): Promise<void> {
    // Never finish synchronously: the caller stores this promise in #flushing after the call
    // returns, and a flush that cleared #flushing before that would leave it set for good.
    await Promise.resolve();
    try {
      while (this.#pending.length > 0) {
        const text = this.#pending.join('');
        const waiting = this.#waiting;
        const lines = this.#queued;
        this.#pending = [];
        this.#waiting = [];
        await writeAll(this.#file, [Buffer.from(text)]);
        this.#queued -= lines;
        for (const told of waiting) told();
        this.#wakeReader();
      }
    } catch (error) {
      this.#error = new OutputError(`cannot write ${this.#path}: ${reasonOf(error)}`, {
        cause: error,
      });
      this.#wakeReader();
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Writes what is pending and closes; throws if any line could not be written. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    if (this.#pending.length > 0 && !this.#error) await this.#flush();
    await this.#file.close();
    if (this.#error) throw this.#error;
  }
}
