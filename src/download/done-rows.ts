/**
 * The rows an earlier run finished, as a re-run needs them: for each row number, which URL
 * it had and the file it left, in typed arrays (19 bytes a row) instead of a Map of strings
 * (~160 bytes a row: a million-row manifest took 160 MB before a re-run fetched anything).
 * Pure.
 *
 * A file name is not kept, only its hash, its extension and its `-n` (a name taken on disk
 * moves on to `-2`...): a re-run of the same CSV claims the same stem for the row (names.ts),
 * and the layout's `filePath` of stem, extension and `-n` gives back exactly the name
 * recorded. A row whose name changed since then no longer matches and is fetched again
 * under its new name. Hashes are 32 bits: a row is skipped only when its URL's hash, its
 * file name's hash and its file's size on disk all match.
 */
import { suffixOf } from './layout.ts';

/** A row's file from its extension and `-n` (0: none), as this run would name it. */
export type NameFor = (ext: string, n: number) => string;

/** The extension a recorded file name ends with, as `fileName` would have added it. */
const EXT = /\.([a-z0-9]{1,10})$/i;

/** FNV-1a over UTF-16 code units, never 0 (0 marks a row not done). */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

/** Rows a page holds: a row's page is found by a shift, and pages are allocated as touched. */
const PAGE_BITS = 16;
const PAGE_ROWS = 1 << PAGE_BITS;
const IN_PAGE = PAGE_ROWS - 1;

/**
 * A row number a page can hold. Past 2^32 (row >>> 16 would wrap) a row is not remembered,
 * so it is fetched again: the safe way to be wrong about a manifest no CSV could have made.
 */
const isRow = (row: number): boolean => Number.isInteger(row) && row >= 0 && row < 2 ** 32;

/** 65,536 rows' worth (1.1 MB): fixed-size pages never grow, so nothing is ever copied. */
class Page {
  readonly url = new Uint32Array(PAGE_ROWS);
  readonly file = new Uint32Array(PAGE_ROWS);
  readonly ext = new Uint8Array(PAGE_ROWS);
  readonly suffix = new Uint16Array(PAGE_ROWS);
  readonly bytes = new Float64Array(PAGE_ROWS);
}

export class DoneRows {
  /**
   * Pages, not one array that doubles: growing to a million rows held the old arrays and
   * the new (27 MB) at once, and malloc kept what the old ones had freed.
   */
  readonly #pages: (Page | undefined)[] = [];
  /** Extensions seen, by index; 255 of them at most (more fall back to ''). */
  readonly #exts: string[] = [''];
  readonly #extIndex = new Map<string, number>([['', 0]]);
  #size = 0;
  /** Every done row's file-name hash, sorted: made when `recordsFile` is first asked. */
  #files: Uint32Array | undefined;

  /** Rows recorded as done. */
  get size(): number {
    return this.#size;
  }

  /** Row `row` with `url` finished as `file` of `bytes` bytes (a later line wins). */
  set(row: number, url: string, file: string, bytes: number): void {
    if (!isRow(row)) return;
    this.#files = undefined;
    const page = (this.#pages[row >>> PAGE_BITS] ??= new Page());
    const at = row & IN_PAGE;
    if (page.url[at] === 0) this.#size++;
    page.url[at] = hash32(url);
    page.file[at] = hash32(file);
    page.ext[at] = this.#indexOf(EXT.exec(file)?.[1] ?? '');
    page.suffix[at] = suffixOf(file);
    page.bytes[at] = bytes;
  }

  /**
   * Row `row` with `url` was opted out by its server: done, with no file (a re-run does not
   * ask again, unless --force or --ignore-opt-out). Its file hash is 0, which no name has.
   */
  setOptedOut(row: number, url: string): void {
    if (!isRow(row)) return;
    this.#files = undefined;
    const page = (this.#pages[row >>> PAGE_BITS] ??= new Page());
    const at = row & IN_PAGE;
    if (page.url[at] === 0) this.#size++;
    page.url[at] = hash32(url);
    page.file[at] = 0;
    page.ext[at] = 0;
    page.suffix[at] = 0;
    page.bytes[at] = 0;
  }

  /** Whether row `row` with `url` was opted out by its server in an earlier run. */
  optedOut(row: number, url: string): boolean {
    const page = this.#page(row);
    const at = row & IN_PAGE;
    return page !== undefined && page.url[at] === hash32(url) && page.file[at] === 0;
  }

  /** Row `row` with `url` did not finish (a later failed line): it is not done. */
  delete(row: number, url: string): void {
    const page = this.#page(row);
    const at = row & IN_PAGE;
    if (page === undefined || page.url[at] === 0 || page.url[at] !== hash32(url)) return;
    this.#files = undefined;
    page.url[at] = 0;
    this.#size--;
  }

  /**
   * Where row `row` with `url` left its file, if it did and the file is one `nameFor` names
   * (this run's stem for the row, with or without the `-n` it was recorded with).
   */
  get(row: number, url: string, nameFor: NameFor): { file: string; bytes: number } | undefined {
    const page = this.#page(row);
    if (page === undefined) return undefined;
    const at = row & IN_PAGE;
    const recorded = page.url[at]!;
    if (recorded === 0 || recorded !== hash32(url) || page.file[at] === 0) return undefined;
    const ext = this.#exts[page.ext[at]!]!;
    for (const n of page.suffix[at] === 0 ? [0] : [0, page.suffix[at]!]) {
      const file = nameFor(ext, n);
      if (hash32(file) === page.file[at]) return { file, bytes: page.bytes[at]! };
    }
    return undefined;
  }

  /**
   * Whether a row done records `file` (relative to --out, as its line says). Only a hash is
   * kept, so a name that shares one with a recorded name counts as recorded: the safe way to
   * be wrong, as the caller then leaves that file alone. The first call sorts every row's
   * hash (4 bytes a row); only a run after one that was killed asks at all.
   */
  recordsFile(file: string): boolean {
    const files = (this.#files ??= this.#sortedFiles());
    const wanted = hash32(file);
    let low = 0;
    let high = files.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (files[middle]! < wanted) low = middle + 1;
      else high = middle;
    }
    return files[low] === wanted;
  }

  #sortedFiles(): Uint32Array {
    const files = new Uint32Array(this.#size);
    let count = 0;
    for (const page of this.#pages) {
      if (page === undefined) continue;
      for (let at = 0; at < PAGE_ROWS; at++) {
        if (page.url[at] !== 0 && page.file[at] !== 0) files[count++] = page.file[at]!;
      }
    }
    return files.subarray(0, count).sort();
  }

  /** The page of a valid row number, if that page was ever written. */
  #page(row: number): Page | undefined {
    return isRow(row) ? this.#pages[row >>> PAGE_BITS] : undefined;
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
}
