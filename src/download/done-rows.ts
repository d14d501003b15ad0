/**
 * The rows an earlier run finished, as a re-run needs them: for each row number, which URL
 * it had and the file it left, in typed arrays (17 bytes a row) instead of a Map of strings
 * (~160 bytes a row: a million-row manifest took 160 MB before a re-run fetched anything).
 * Pure.
 *
 * A file name is not kept, only its hash and its extension: a re-run of the same CSV claims
 * the same stem for the row (names.ts), and `fileName(stem, ext)` gives back exactly the
 * name recorded. A row whose name changed since then no longer matches and is fetched again
 * under its new name. Hashes are 32 bits: a row is skipped only when its URL's hash, its
 * file name's hash and its file's size on disk all match.
 */
import { fileName } from './names.ts';

/** The extension a recorded file name ends with, as `fileName` would have added it. */
const EXT = /\.([a-z0-9]{1,10})$/i;

/** FNV-1a over UTF-16 code units, never 0 (0 marks a row not done). */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

export class DoneRows {
  #url = new Uint32Array(1024);
  #file = new Uint32Array(1024);
  #ext = new Uint8Array(1024);
  #bytes = new Float64Array(1024);
  /** Extensions seen, by index; 255 of them at most (more fall back to ''). */
  readonly #exts: string[] = [''];
  readonly #extIndex = new Map<string, number>([['', 0]]);
  #size = 0;

  /** Rows recorded as done. */
  get size(): number {
    return this.#size;
  }

  /** Row `row` with `url` finished as `file` of `bytes` bytes (a later line wins). */
  set(row: number, url: string, file: string, bytes: number): void {
    if (!Number.isSafeInteger(row) || row < 0) return;
    this.#room(row);
    if (this.#url[row] === 0) this.#size++;
    this.#url[row] = hash32(url);
    this.#file[row] = hash32(file);
    this.#ext[row] = this.#indexOf(EXT.exec(file)?.[1] ?? '');
    this.#bytes[row] = bytes;
  }

  /** Row `row` with `url` did not finish (a later failed line): it is not done. */
  delete(row: number, url: string): void {
    if (!Number.isSafeInteger(row) || row < 0 || row >= this.#url.length) return;
    if (this.#url[row] === 0 || this.#url[row] !== hash32(url)) return;
    this.#url[row] = 0;
    this.#size--;
  }

  /** Where row `row` with `url`, whose stem is `stem` this run, left its file, if it did. */
  get(row: number, url: string, stem: string): { file: string; bytes: number } | undefined {
    if (!Number.isSafeInteger(row) || row < 0 || row >= this.#url.length) return undefined;
    const recorded = this.#url[row]!;
    if (recorded === 0 || recorded !== hash32(url)) return undefined;
    const file = fileName(stem, this.#exts[this.#ext[row]!]!);
    return hash32(file) === this.#file[row] ? { file, bytes: this.#bytes[row]! } : undefined;
  }

  #indexOf(ext: string): number {
    let index = this.#extIndex.get(ext);
    if (index === undefined) {
      if (this.#exts.length > 255) return 0; // then the hash check fails and the row is fetched
      index = this.#exts.push(ext) - 1;
      this.#extIndex.set(ext, index);
    }
    return index;
  }

  #room(row: number): void {
    if (row < this.#url.length) return;
    let length = this.#url.length;
    while (length <= row) length *= 2;
    const grow = <T extends Uint32Array | Uint8Array | Float64Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(length);
      next.set(old);
      return next;
    };
    this.#url = grow(this.#url, (n) => new Uint32Array(n));
    this.#file = grow(this.#file, (n) => new Uint32Array(n));
    this.#ext = grow(this.#ext, (n) => new Uint8Array(n));
    this.#bytes = grow(this.#bytes, (n) => new Float64Array(n));
  }
}
