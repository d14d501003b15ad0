/**
 * The publishing stage: everything crew writes in the output directory goes through here. It
 * prepares the directory (removing temp files a killed run left) and reads what an earlier
 * run finished, hands out temp names, makes a fetched body final by renaming it, gives each
 * later row with the same URL its own copy, and appends one manifest line per finished row.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FetchOutcome } from './fetch.ts';
import {
  MANIFEST,
  ManifestWriter,
  readManifest,
  type Done,
  type ManifestLine,
} from './manifest.ts';
import { prepareOut, publish, publishCopy, tempPath } from './store.ts';

/** What the row that fetched a URL leaves for itself and for later rows with that URL. */
export interface Published {
  readonly outcome: FetchOutcome;
  /** The final file, once the body is fetched and renamed into place. */
  readonly path?: string;
  /** Why the rename failed, when it did. */
  readonly writeError?: string;
}

/** The output directory of one run, from `open` to `close`. */
export class Output {
  readonly out: string;
  /** How many temp files of earlier, killed runs `open` removed. */
  readonly cleaned: number;
  /** The rows an earlier run finished (none with `force`): the planner skips them. */
  readonly done: Done;
  readonly #manifest: ManifestWriter;
  /** Names this run's temp files, so the clean-up at the end removes only its own. */
  readonly #runId = randomBytes(4).toString('hex');
  #temps = 0;

  private constructor(out: string, cleaned: number, done: Done) {
    this.out = out;
    this.cleaned = cleaned;
    this.done = done;
    this.#manifest = new ManifestWriter(join(out, MANIFEST));
  }

  /** Creates `out`, removes leftovers, reads the manifest, and opens it for appending. */
  static async open(out: string, force: boolean): Promise<Output> {
    const cleaned = await prepareOut(out);
    const done: Done = force
      ? new Map<string, { file: string; bytes: number }>()
      : await readManifest(join(out, MANIFEST));
    return new Output(out, cleaned, done);
  }

  /** A fresh temp path in the output directory for a body on its way in. */
  tempPath(): string {
    return tempPath(this.out, this.#runId, this.#temps++);
  }

  /** Renames a fetched body at `temp` to its final name; a failure is kept as a value. */
  async place(temp: string, name: string, outcome: FetchOutcome): Promise<Published> {
    try {
      return { outcome, path: await publish(this.out, temp, name) };
    } catch (error) {
      return { outcome, writeError: (error as Error).message };
    }
  }

  /** Gives a later row with the same URL its own file `name`, a copy of `source`. */
  async copy(source: string, name: string): Promise<void> {
    await publishCopy(this.out, source, this.tempPath(), name);
  }

  /** Appends a finished row's line to the manifest. */
  record(line: ManifestLine): void {
    this.#manifest.write(line);
  }

  /** Flushes the manifest and removes this run's temp files (a killed worker leaves some). */
  async close(): Promise<void> {
    await this.#manifest.close();
    await prepareOut(this.out, this.#runId);
  }
}
