/**
 * The publishing stage: the output directory of a run. It prepares the directory (taking its
 * lock, removing what a killed run left) and reads what an earlier run finished; it keeps the
 * run's temp folder, where every body arrives; it gives each body its final name (workers
 * never do), and each later row with the same URL its own copy; and it appends one manifest
 * line per finished row. At its end it removes the temp folder with whatever a killed worker
 * or an aborted fetch left in it.
 */
import { randomBytes } from 'node:crypto';
import { constants, copyFileSync, lstatSync, renameSync, rmSync, type Stats } from 'node:fs';
import { chmod, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { reasonOf } from '../errors.ts';
import { makeFolders } from '../folders.ts';
import { outOfDescriptors, OutputError, type WriteFailure } from './errors.ts';
import type { FetchOutcome } from './fetch.ts';
import { inFolder } from './layout.ts';
import { lockOut, type Lock } from './lock.ts';
import type { Member } from './webdataset.ts';
import {
  MANIFEST,
  ManifestFile,
  type Done,
  type ManifestLine,
  type ManifestRead,
} from './manifest.ts';
import {
  fileKey,
  fileSize,
  makeTempFolder,
  newTempFile,
  placeFile,
  removeLeftovers,
  type Reclaim,
} from './store.ts';

/** Tries at a copy that runs out of file descriptors, waiting 20, 40, ... ms between. */
const COPY_TRIES = 10;
const COPY_WAIT_MS = 20;

/** What the row that fetched a URL leaves for itself and for later rows with that URL. */
export interface Published {
  readonly outcome: FetchOutcome;
  /** The final file, relative to --out, once the body has its name. */
  readonly file?: string;
  /** Why it could not be given its name, when it could not. */
  readonly writeError?: WriteFailure;
  /** Webdataset: where the image went in its shard's tar. */
  readonly member?: Member;
}

/** The output directory of one run, from `open` to `close`. */
export class Output {
  readonly out: string;
  /** How many temp folders (or files) of earlier, killed runs `open` removed. */
  readonly cleaned: number;
  /** The rows an earlier run finished, as the manifest says. */
  readonly done: Done;
  /** Lines of the manifest that were not rows crew wrote (read past, one warning for all). */
  readonly skippedLines: number;
  /** The run's temp folder, absolute: workers write bodies there. */
  readonly tempFolder: string;
  readonly #manifest: ManifestFile;
  readonly #lock: Lock;
  /** Files a killed run named and held temp links to (store.ts' Leftovers), not yet replaced. */
  readonly #named: Set<string>;
  /**
   * Files placed whose rows' lines are not on disk yet (queued or not), and the temp link
   * each keeps until then (placeFile): what a kill leaves of them tells the next run they
   * are crew's.
   */
  readonly #unrecorded = new Map<string, string>();
  /** Layout folders made so far (relative); '' is --out itself. */
  readonly #folders = new Set<string>(['']);

  private constructor(
    out: string,
    parts: {
      cleaned: number;
      named: ReadonlySet<string>;
      read: ManifestRead;
      manifest: ManifestFile;
      lock: Lock;
      temp: string;
    },
  ) {
    this.out = out;
    this.cleaned = parts.cleaned;
    this.#named = new Set(parts.named);
    this.done = parts.read.done;
    this.skippedLines = parts.read.skipped;
    this.#manifest = parts.manifest;
    this.#lock = parts.lock;
    this.tempFolder = parts.temp;
  }

  /**
   * Creates `out` and takes its lock (one live run per directory), removes leftovers, makes
   * the run's temp folder (private, unless `shared` with queue workers), then opens the
   * manifest and reads it. OutputError when `out` cannot be used.
   */
  static async open(out: string, options: { readonly shared?: boolean } = {}): Promise<Output> {
    let lock: Lock | undefined;
    let temp: string | undefined;
    try {
      // The lock comes before the clean-up: a live run's temp folder is not a leftover.
      makeFolders(out);
      lock = await lockOut(out);
      const { removed: cleaned, named } = lock.tookOver
        ? await removeLeftovers(out)
        : { removed: 0, named: new Set<string>() };
      temp = await makeTempFolder(out, randomBytes(8).toString('hex'));
      // Queue workers may run as another user: they get what --out itself allows them.
      if (options.shared) await chmod(temp, (await stat(out)).mode & 0o777);
      const manifest = await ManifestFile.open(join(out, MANIFEST));
      const read = await manifest.done().catch(async (error: unknown) => {
        await manifest.close().catch(() => undefined);
        throw error;
      });
      return new Output(out, { cleaned, named, read, manifest, lock, temp });
    } catch (error) {
      if (temp !== undefined) await rm(temp, { recursive: true, force: true });
      await lock?.release();
      if (error instanceof OutputError) throw error;
      throw new OutputError(`cannot use ${out}: ${reasonOf(error)}`, { cause: error });
    }
  }

  /** The absolute path of a layout folder, made on first use. */
  folder(relative: string): string {
    const path = join(this.out, relative);
    if (!this.#folders.has(relative)) {
      makeFolders(path);
      this.#folders.add(relative);
    }
    return path;
  }

  /**
   * Gives a body left in its temp file its final name in folder `relative` (see store.ts'
   * placeFile); returns the file relative to --out. The temp file goes once the line that
   * records the file is written (`record`).
   */
  place(temp: string, relative: string, stem: string, ext: string): string {
    // A queue worker's body sits in a shared folder: a link planted there under a temp
    // file's name would be linked into --out as it is, pointing anywhere. Only a file goes.
    if (!lstatSync(temp).isFile()) throw new Error("the body's temp file is not a file");
    const reclaim: Reclaim | undefined =
      this.#named.size === 0 ? undefined : (name, info) => this.#reclaims(relative, name, info);
    const file = inFolder(relative, placeFile(temp, this.folder(relative), stem, ext, reclaim));
    this.#unrecorded.set(file, temp);
    return file;
  }

  /**
   * Whether the file at `name` in folder `relative` is one a killed run named and no line
   * records: the earlier run's row lost its line, and a re-run would otherwise save that row
   * again as name-2 beside it. Each such file is replaced once at most.
   */
  #reclaims(relative: string, name: string, info: Stats): boolean {
    const key = fileKey(info);
    if (!this.#named.has(key) || this.done.recordsFile(inFolder(relative, name))) return false;
    this.#named.delete(key);
    return true;
  }

  /**
   * Gives a later row with the same URL its own file, a copy of `source` (relative to
   * --out), named as `place` names; returns it, relative to --out. A copy that runs out of
   * file descriptors (the downloads in flight hold them, and fewer will: fetcher.ts) waits
   * and tries again.
   */
  async copy(source: string, relative: string, stem: string, ext: string): Promise<string> {
    for (let tries = 1; ; tries++) {
      try {
        return this.#copyOnce(source, relative, stem, ext);
      } catch (error) {
        if (outOfDescriptors(error) === undefined || tries >= COPY_TRIES) throw error;
        await sleep(COPY_WAIT_MS * tries);
      }
    }
  }

  #copyOnce(source: string, relative: string, stem: string, ext: string): string {
    const temp = newTempFile(this.tempFolder);
    try {
      // COPYFILE_EXCL: the fresh temp name is created, never reused.
      copyFileSync(join(this.out, source), temp, constants.COPYFILE_EXCL);
      return this.place(temp, relative, stem, ext);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
  }

  /**
   * A row fetched again (--force, or its file changed) whose new file got another name
   * because its old one was still there: the new file takes the old one's place, since the
   * manifest says this row made it. Returns the name the row's file has now.
   */
  replaceOwn(file: string, recorded: string): string {
    if (file === recorded || fileSize(join(this.out, recorded)) === undefined) return file;
    try {
      renameSync(join(this.out, file), join(this.out, recorded));
      const temp = this.#unrecorded.get(file);
      this.#unrecorded.delete(file);
      if (temp !== undefined) this.#unrecorded.set(recorded, temp);
      return recorded;
    } catch {
      return file; // the new file stays under its own name
    }
  }

  /**
   * Appends a finished row's line to the manifest; `onWritten` hears when it is written. The
   * temp link of the file it records (`place`) is removed then.
   */
  record(line: ManifestLine, onWritten?: () => void): void {
    const file = line.file;
    const temp = file === null ? undefined : this.#unrecorded.get(file);
    if (file === null || temp === undefined) return this.#manifest.write(line, onWritten);
    this.#manifest.write(line, () => {
      rmSync(temp, { force: true });
      this.#unrecorded.delete(file);
      onWritten?.();
    });
  }

  /** A promise to wait for before reading more rows, while too many lines wait to be written. */
  room(): Promise<void> | undefined {
    return this.#manifest.room();
  }

  /**
   * Flushes the manifest, removes the temp folder (with what a killed worker or an aborted
   * fetch left there) and releases the lock. Throws OutputError if manifest lines could not
   * be written.
   */
  async close(): Promise<void> {
    let written = false;
    try {
      await this.#manifest.close();
      written = true;
    } finally {
      // A vanished or full --out must not hide the error that stopped the run.
      const removed = await this.#removeTemp(written ? [] : [...this.#unrecorded.values()]);
      // A folder that could not be removed is a leftover: keeping the lock (its process will
      // be gone) makes the next run search the directory for it.
      if (removed) await this.#lock.release().catch(() => undefined);
    }
  }

  /**
   * Removes the temp folder, or all in it but `keep`: the links of files whose lines could
   * not be written (a full disk), left like a killed run's, so that the next run replaces
   * those files rather than saving their rows again beside them. Whether it is all gone.
   */
  async #removeTemp(keep: readonly string[]): Promise<boolean> {
    const folder = this.tempFolder;
    const kept = new Set(keep.map((path) => basename(path)));
    try {
      if (kept.size === 0) {
        await rm(folder, { recursive: true, force: true });
        return true;
      }
      for (const name of await readdir(folder)) {
        if (!kept.has(name)) await rm(join(folder, name), { recursive: true, force: true });
      }
    } catch {
      // what is left is a leftover: see close
    }
    return false;
  }
}
