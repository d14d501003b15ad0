/**
 * The planning stage: before any byte moves, what each row will do. Its file name (claimed
 * in row order, so a re-run gives every row the same file), whether an earlier run already
 * finished it, and whether it fetches its URL itself or waits for the row that does.
 */
import { join } from 'node:path';
import { recordedUrl } from './credentials.ts';
import type { Done } from './manifest.ts';
import { doneKey } from './manifest.ts';
import { fileName, NameBook, stemFor } from './names.ts';
import type { Published } from './publish.ts';
import type { Job } from './rows.ts';
import { fileSize } from './store.ts';

/** Distinct URLs remembered for de-duplication (repeats in a CSV are usually close). */
export const MAX_REMEMBERED_URLS = 100_000;

/** The plan of one run: names claimed so far, the previous run's rows, recent URLs. */
export class Planner {
  readonly #out: string;
  /** The forced extension (--ext), else the one the content says. */
  readonly #ext: string | undefined;
  readonly #done: Done;
  readonly #names = new NameBook();
  readonly #urls: UrlMemory;

  constructor(
    options: { readonly out: string; readonly ext: string | undefined; readonly done: Done },
    maxUrls = MAX_REMEMBERED_URLS,
  ) {
    this.#out = options.out;
    this.#ext = options.ext;
    this.#done = options.done;
    this.#urls = new UrlMemory(maxUrls);
  }

  /** The extension --ext forces, or null: the content's. */
  get ext(): string | null {
    return this.#ext ?? null;
  }

  /** The row's file-name stem. Call once per row, in row order. */
  stem(job: Job): string {
    return this.#names.claim(stemFor(job));
  }

  /** The final file name for a stem, once the content's extension is known. */
  fileName(stem: string, contentExt: string): string {
    return fileName(stem, this.#ext ?? contentExt);
  }

  /** Where an earlier run put this row's file, if it finished the row (the same URL). */
  finishedBefore(job: Job): { readonly file: string; readonly bytes: number } | undefined {
    // The manifest holds the URL as recorded (no password), so that is what matches.
    return this.#done.get(doneKey(job.row, recordedUrl(job.url)));
  }

  /** Whether that file is still there, whole: then the row is skipped. */
  async stillThere(previous: { readonly file: string; readonly bytes: number }): Promise<boolean> {
    return (await fileSize(join(this.#out, previous.file))) === previous.bytes;
  }

  /**
   * One fetch per URL: the first row with a URL runs `fetch`; later rows get the same
   * promise. `first` says which this row is.
   */
  fetchOnce(
    url: string,
    fetch: () => Promise<Published>,
  ): { readonly first: boolean; readonly published: Promise<Published> } {
    const known = this.#urls.get(url);
    if (known) return { first: false, published: known };
    const published = fetch();
    this.#urls.remember(url, published);
    return { first: true, published };
  }
}

/**
 * The most recent URLs and what fetching each gave. A repeat of a URL forgotten long ago is
 * fetched again (still correct, one more request), and memory stays bounded on any CSV.
 */
class UrlMemory {
  readonly #max: number;
  readonly #byUrl = new Map<string, Promise<Published>>();

  constructor(max: number) {
    this.#max = max;
  }

  get(url: string): Promise<Published> | undefined {
    return this.#byUrl.get(url);
  }

  remember(url: string, published: Promise<Published>): void {
    this.#byUrl.set(url, published);
    if (this.#byUrl.size > this.#max) this.#byUrl.delete(this.#byUrl.keys().next().value!);
    // Once settled, keep only what later rows need: memory per distinct URL stays small.
    // (A rejection means the run was aborted; the row's own await reports it.)
    published.then(
      (settled) => {
        if (!this.#byUrl.has(url)) return; // already forgotten
        this.#byUrl.set(url, Promise.resolve(compact(settled)));
      },
      () => undefined,
    );
  }
}

const compact = (settled: Published): Published =>
  settled.outcome.ok
    ? { ...settled, outcome: { ...settled.outcome, finalUrl: '' } }
    : { outcome: settled.outcome };
