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

/** `filtered`: the image was outside --min-image-size and the like; not failed, not retried. */
export type RowStatus = 'ok' | 'failed' | 'skipped' | 'filtered';

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
  /** The image's size as served (after its EXIF orientation), when the image step ran. */
  readonly originalWidth?: number;
  readonly originalHeight?: number;
  /** The size of the saved image, when the image step ran. */
  readonly width?: number;
  readonly height?: number;
}

/** Where each finished row's file is, by row and URL (a changed CSV does not match). */
export type Done = DoneRows;

/** Reads manifest lines: the rows finished (ok or skipped), last line winning. */
export async function doneFrom(lines: AsyncIterable<string>): Promise<Done> {
  const done = new DoneRows();
  for await (const text of lines) {
    let line: ManifestLine;
    try {
      line = JSON.parse(text) as ManifestLine;
    } catch {
      continue; // a line cut short by a crash or a full disk
    }
    if (typeof line.url !== 'string') continue;
    if ((line.status === 'ok' || line.status === 'skipped') && line.file) {
      done.set(line.row, line.url, line.file, line.bytes);
    } else {
      done.delete(line.row, line.url);
    }
  }
  return done;
}

/** The rows a previous run finished, from the manifest at `path`; none if there is none. */
export async function readManifest(path: string): Promise<Done> {
  let file;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return new DoneRows();
  }
  try {
    return await doneFrom(file.readLines({ autoClose: false }));
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
  async done(): Promise<Done> {
    return doneFrom(this.#file.readLines({ start: 0, autoClose: false }));
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
