/**
 * Where a body goes on its way to disk, in a worker: chunks are held until a megabyte has
 * gathered, then written with one writev (not copied into one buffer first: that copy was
 * ~5% of a worker's time on 3000 x 20 KB). A small body (most images) is written with one
 * synchronous call when it ends: no open, write and close each awaited on libuv's thread
 * pool, which on a small machine cost more in context switches than the write itself.
 */
import { closeSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { writeAll, writeAllSync } from './store.ts';

/** Bytes held in memory before they go to disk. */
export const HELD_BYTES = 1024 * 1024;

/** One body's temp file, created with 'wx' (never reusing or following what is there). */
export class BodyFile {
  readonly #path: string;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #file: FileHandle | undefined;
  #touched = false;

  constructor(path: string) {
    this.#path = path;
  }

  /** Where the body goes. */
  get path(): string {
    return this.#path;
  }

  /** Whether the file may exist: its creation was tried (so a failure must remove it). */
  get touched(): boolean {
    return this.#touched;
  }

  /** Takes a chunk; a promise (to wait for) only when a megabyte has gathered. */
  add(chunk: Buffer): Promise<void> | undefined {
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    return this.#heldBytes >= HELD_BYTES ? this.#flush() : undefined;
  }

  /** Writes what is held and closes the file: the body is whole on disk. */
  async end(): Promise<void> {
    if (this.#file === undefined) {
      this.#touched = true;
      const fd = openSync(this.#path, 'wx', 0o644);
      try {
        writeAllSync(fd, this.#held);
      } finally {
        closeSync(fd);
      }
      this.#held = [];
      return;
    }
    await this.#flush();
    await this.close();
  }

  /**
   * The whole body, when all of it is still held (less than HELD_BYTES, nothing written):
   * taken from here and never written, for a step that reads it whole anyway (resize.ts: a
   * body written only to be read back, and hashed though only the saved file's hash counts,
   * cost ~2.5 ms of CPU per 470 KB JPEG, ~10% of a resize run). Undefined once any of it is
   * on disk: then `end` as usual.
   */
  takeHeld(): Buffer | undefined {
    if (this.#touched) return undefined;
    const whole = this.#held.length === 1 ? this.#held[0]! : Buffer.concat(this.#held);
    this.#held = [];
    this.#heldBytes = 0;
    return whole;
  }

  /** Closes the file if it was opened (after a failure; the caller removes the path). */
  async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.close();
  }

  async #flush(): Promise<void> {
    this.#touched = true;
    this.#file ??= await open(this.#path, 'wx', 0o644);
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    await writeAll(this.#file, held);
  }
}
