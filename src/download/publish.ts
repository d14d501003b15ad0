/**
 * The publishing stage: the output directory of a run. It prepares the directory (removing
 * temp files a killed run left) and reads what an earlier run finished, hands out temp names
 * (a worker writes a body there and renames it to its final name: fetch.ts), gives each
 * later row with the same URL its own copy, and appends one manifest line per finished row.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { reasonOf } from '../errors.ts';
import { DoneRows } from './done-rows.ts';
import { OutputError } from './errors.ts';
import type { FetchOutcome } from './fetch.ts';
import { MANIFEST, ManifestFile, type Done, type ManifestLine } from './manifest.ts';
import { lockOut, prepareOut, publishCopy, removeTemps, tempPath } from './store.ts';

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
  readonly #manifest: ManifestFile;
  readonly #unlock: () => Promise<void>;
  /** Names this run's temp files, so the clean-up at the end removes only its own. */
  readonly #runId = randomBytes(4).toString('hex');

  private constructor(
    out: string,
    parts: { cleaned: number; done: Done; manifest: ManifestFile; unlock: () => Promise<void> },
  ) {
    this.out = out;
    this.cleaned = parts.cleaned;
    this.done = parts.done;
    this.#manifest = parts.manifest;
    this.#unlock = parts.unlock;
  }

  /**
   * Creates `out` and takes its lock (one live run per directory), then removes leftovers,
   * opens the manifest and reads it. OutputError when `out` cannot be used.
   */
  static async open(out: string, force: boolean): Promise<Output> {
    let unlock: (() => Promise<void>) | undefined;
    try {
      // The lock comes before the clean-up: a live run's temp files are not leftovers.
      await mkdir(out, { recursive: true });
      unlock = await lockOut(out);
      const cleaned = await prepareOut(out);
      const manifest = await ManifestFile.open(join(out, MANIFEST));
      const done = force ? new DoneRows() : await manifest.done();
      return new Output(out, { cleaned, done, manifest, unlock });
    } catch (error) {
      await unlock?.();
      if (error instanceof OutputError) throw error;
      throw new OutputError(`cannot use ${out}: ${reasonOf(error)}`, { cause: error });
    }
  }

  /** A fresh, unguessable temp path in the output directory for a body on its way in. */
  tempPath(): string {
    return tempPath(this.out, this.#runId);
  }

  /** Gives a later row with the same URL its own file `name`, a copy of `source`. */
  async copy(source: string, name: string): Promise<void> {
    await publishCopy(this.out, source, this.tempPath(), name);
  }

  /** Appends a finished row's line to the manifest; `onWritten` hears when it is written. */
  record(line: ManifestLine, onWritten?: () => void): void {
    this.#manifest.write(line, onWritten);
  }

  /**
   * Flushes the manifest, removes this run's temp files (a killed worker leaves some) and
   * releases the lock. Throws OutputError if manifest lines could not be written.
   */
  async close(): Promise<void> {
    try {
      await this.#manifest.close();
    } finally {
      // A vanished or full --out must not hide the error that stopped the run.
      await removeTemps(this.out, this.#runId).catch(() => undefined);
      await this.#unlock().catch(() => undefined);
    }
  }
}
