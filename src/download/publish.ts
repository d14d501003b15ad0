/**
 * The publishing stage: the output directory of a run. It prepares the directory (removing
 * temp files a killed run left) and reads what an earlier run finished, hands out temp names
 * (a worker writes a body there and renames it to its final name: fetch.ts), gives each
 * later row with the same URL its own copy, and appends one manifest line per finished row.
 * It keeps the temp names still out, so at its end it removes what a killed worker or an
 * aborted fetch left without listing the directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { reasonOf } from '../errors.ts';
import { DoneRows } from './done-rows.ts';
import { OutputError } from './errors.ts';
import type { FetchOutcome } from './fetch.ts';
import {
  MANIFEST,
  ManifestFile,
  type Done,
  type ManifestLine,
  type ManifestRead,
} from './manifest.ts';
import { lockOut, type Lock } from './lock.ts';
import { publishCopy, removeLeftovers, tempPath } from './store.ts';

/** What the row that fetched a URL leaves for itself and for later rows with that URL. */
export interface Published {
  readonly outcome: FetchOutcome;
  /** The final file, once the body is fetched and renamed into place. */
  readonly path?: string;
  /** Why the rename failed, when it did. */
  readonly writeError?: Error;
}

/** The output directory of one run, from `open` to `close`. */
export class Output {
  readonly out: string;
  /** How many temp files of earlier, killed runs `open` removed. */
  readonly cleaned: number;
  /** The rows an earlier run finished (none with `force`): the planner skips them. */
  readonly done: Done;
  /** Lines of the manifest that were not rows crew wrote (read past, one warning for all). */
  readonly skippedLines: number;
  readonly #manifest: ManifestFile;
  readonly #lock: Lock;
  /** Names this run's temp files apart from any other run's. */
  readonly #runId = randomBytes(4).toString('hex');
  /** Temp paths handed out whose file may still exist (no outcome came back for them). */
  readonly #temps = new Set<string>();

  private constructor(
    out: string,
    parts: { cleaned: number; read: ManifestRead; manifest: ManifestFile; lock: Lock },
  ) {
    this.out = out;
    this.cleaned = parts.cleaned;
    this.done = parts.read.done;
    this.skippedLines = parts.read.skipped;
    this.#manifest = parts.manifest;
    this.#lock = parts.lock;
  }

  /**
   * Creates `out` and takes its lock (one live run per directory), then removes leftovers,
   * opens the manifest and reads it. OutputError when `out` cannot be used.
   */
  static async open(out: string, force: boolean): Promise<Output> {
    let lock: Lock | undefined;
    try {
      // The lock comes before the clean-up: a live run's temp files are not leftovers.
      await mkdir(out, { recursive: true });
      lock = await lockOut(out);
      const cleaned = lock.tookOver ? await removeLeftovers(out) : 0;
      const manifest = await ManifestFile.open(join(out, MANIFEST));
      const read = force ? { done: new DoneRows(), skipped: 0 } : await manifest.done();
      return new Output(out, { cleaned, read, manifest, lock });
    } catch (error) {
      await lock?.release();
      if (error instanceof OutputError) throw error;
      throw new OutputError(`cannot use ${out}: ${reasonOf(error)}`, { cause: error });
    }
  }

  /**
   * A fresh, unguessable temp path in the output directory for a body on its way in. Give
   * it back with `returned` once the fetch's outcome says the file was renamed or removed.
   */
  tempPath(): string {
    const path = tempPath(this.out, this.#runId);
    this.#temps.add(path);
    return path;
  }

  /** The fetch into `path` came back: its temp file is renamed or removed. */
  returned(path: string): void {
    this.#temps.delete(path);
  }

  /** Gives a later row with the same URL its own file `name`, a copy of `source`. */
  async copy(source: string, name: string): Promise<void> {
    const temp = this.tempPath();
    await publishCopy(this.out, source, temp, name);
    this.returned(temp);
  }

  /** Appends a finished row's line to the manifest; `onWritten` hears when it is written. */
  record(line: ManifestLine, onWritten?: () => void): void {
    this.#manifest.write(line, onWritten);
  }

  /** A promise to wait for before reading more rows, while too many lines wait to be written. */
  room(): Promise<void> | undefined {
    return this.#manifest.room();
  }

  /**
   * Flushes the manifest, removes the temp files whose fetch never came back (a killed
   * worker, an aborted run) and releases the lock. Throws OutputError if manifest lines
   * could not be written.
   */
  async close(): Promise<void> {
    try {
      await this.#manifest.close();
    } finally {
      // A vanished or full --out must not hide the error that stopped the run.
      const removed = await Promise.allSettled(
        [...this.#temps].map((path) => rm(path, { force: true })),
      );
      // One that could not be removed is a leftover: keeping the lock (its process will be
      // gone) makes the next run search the directory for it.
      if (removed.every((r) => r.status === 'fulfilled')) {
        await this.#lock.release().catch(() => undefined);
      }
    }
  }
}
