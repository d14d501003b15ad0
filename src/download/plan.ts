/**
 * The planning stage: before any byte moves, what each row will do. Its file name (claimed
 * in row order, so a re-run gives every row the same file), whether an earlier run already
 * finished it, and whether it fetches its URL itself or waits for the row that does.
 */
import { join } from 'node:path';
import { recordedUrl } from './credentials.ts';
import { namesFor, type OutputLayout } from './layout.ts';
import type { Done } from './manifest.ts';
import { NameBook, stemFor } from './names.ts';
import type { Published } from './publish.ts';
import type { Job } from './rows.ts';
import { fileSize } from './store.ts';

/**
 * Distinct URLs remembered for de-duplication (repeats in a CSV are usually close). Each is
 * a string in a Map in the parent's heap, which V8 lets grow to a multiple of what is live:
 * 100,000 of them were 36 MiB of the peak of a million failing rows (219 -> 183 MiB with
 * 1,000), so a repeat further back than this is fetched again instead.
 */
export const MAX_REMEMBERED_URLS = 10_000;

/** The plan of one run: names claimed so far, the previous run's rows, recent URLs. */
export class Planner {
  readonly #out: string;
  /** The forced extension (--ext), else the one the content says. */
  readonly #ext: string | undefined;
  readonly #layout: OutputLayout;
  /** --force: rows an earlier run finished are fetched again (their files replaced). */
  readonly #force: boolean;
  /** Opt-outs are honoured: a row an earlier run found opted out is not asked again. */
  readonly #optOut: boolean;
  readonly #done: Done;
  readonly #names: NameBook;
  readonly #urls: UrlMemory;

  constructor(
    options: {
      readonly out: string;
      readonly ext: string | undefined;
      readonly done: Done;
      readonly layout: OutputLayout;
      readonly force: boolean;
      readonly optOut?: boolean;
    },
    maxUrls = MAX_REMEMBERED_URLS,
  ) {
    this.#out = options.out;
    this.#ext = options.ext;
    this.#layout = options.layout;
    this.#force = options.force;
    this.#optOut = options.optOut ?? true;
    this.#done = options.done;
    // A re-run names about as many rows as the last run finished: no growing on the way.
    this.#names = new NameBook({ expected: options.done.size });
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

  /** The folder of the row's file, relative to --out ('' for --out itself). */
  folderOf(job: Job): string {
    return this.#layout.folderOf(job.row);
  }

  /**
   * Where an earlier run put this row's file, if it finished the row (the same URL, and
   * the same file name: `stem` is this run's).
   */
  finishedBefore(
    job: Job,
    stem: string,
  ): { readonly file: string; readonly bytes: number } | undefined {
    if (this.#done.size === 0) return undefined;
    // The manifest holds the URL as recorded (no password), so that is what matches.
    return this.#done.get(job.row, recordedUrl(job.url), namesFor(this.folderOf(job), stem));
  }

  /** Whether an earlier run found the row's server opted out (and it is not asked again). */
  optedOutBefore(job: Job): boolean {
    return (
      this.#optOut &&
      !this.#force &&
      this.#done.size > 0 &&
      this.#done.optedOut(job.row, recordedUrl(job.url))
    );
  }

  /** Whether the row is done already: its file is still there, whole (and no --force). */
  skips(previous: { readonly file: string; readonly bytes: number } | undefined): boolean {
    return (
      !this.#force &&
      previous !== undefined &&
      fileSize(join(this.#out, previous.file)) === previous.bytes
    );
  }

  /**
   * One fetch per URL, URLs compared in their normal form (`fetchKey`): the first row with
   * a URL runs `fetch`; later rows get the same promise. `first` says which this row is.
   */
  fetchOnce(
    url: string,
    fetch: () => Promise<Published>,
  ): { readonly first: boolean; readonly published: Promise<Published> } {
    const key = fetchKey(url);
    const known = this.#urls.get(key);
    if (known) return { first: false, published: known };
    const published = fetch();
    this.#urls.remember(key, published);
    return { first: true, published };
  }
}

/**
 * What makes two URLs one fetch: the WHATWG URL parser's form (scheme and host in lower
 * case, a default port dropped, dot segments resolved, what need not be escaped unescaped
 * or the reverse, as the request would be sent) without the fragment, which is never sent.
 * `HTTP://Host/a`, `http://host:80/a` and `http://host/x/../a#top` are one URL. Credentials
 * stay in: other credentials may get another answer. A URL the parser refuses is its text.
 * `parsed`: `URL.parse(url)`, when the caller has it already.
 */
export function fetchKey(url: string, parsed: URL | null = URL.parse(url)): string {
  if (parsed === null) return url;
  // What setting `hash` to '' gives, without a second serialisation: the parser leaves a
  // `#` in href only where the fragment begins (one in a host fails; elsewhere it ends the
  // path or query), and the setter drops it and all after.
  const href = parsed.href;
  const hash = href.indexOf('#');
  return hash < 0 ? href : href.slice(0, hash);
}

/**
 * The most recent URLs and what fetching each gave. A repeat of a URL forgotten long ago is
 * fetched again (still correct, one more request), and memory stays bounded on any CSV.
 * A settled URL is kept as the small value later rows need, not as a promise; a failure as
 * the number of its entry in a table of the distinct failures, since a long CSV of dead
 * links repeats a handful of them (two objects a URL were half of the parent's live heap at
 * 100,000 failing rows, and V8 grows its heap to a multiple of what is live).
 */
class UrlMemory {
  readonly #max: number;
  readonly #byUrl = new Map<string, Promise<Published> | Published | number>();
  /**
   * The URLs in the order they were remembered, a ring of #max: the oldest is forgotten.
   * Not the map's own first key: a V8 Map keeps a deleted entry's slot until it rehashes,
   * and finding the first key walks over them, ~8 us a row at 10,000 URLs (a quarter of a
   * million-row run's main thread).
   */
  readonly #order: string[] = [];
  #oldest = 0;
  readonly #failures: Published[] = [];
  readonly #failureNumbers = new Map<string, number>();

  constructor(max: number) {
    this.#max = max;
  }

  get(url: string): Promise<Published> | undefined {
    const known = this.#byUrl.get(url);
    if (known === undefined || known instanceof Promise) return known;
    return Promise.resolve(typeof known === 'number' ? this.#failures[known]! : known);
  }

  remember(found: string, published: Promise<Published>): void {
    const url = detached(found);
    this.#byUrl.set(url, published);
    this.#ordered(url);
    // (A rejection means the run was aborted; the row's own await reports it.)
    published.then(
      (settled) => {
        if (this.#byUrl.get(url) === published) this.#byUrl.set(url, this.#compact(settled));
      },
      () => undefined,
    );
  }

  /** Puts a new URL last in the ring, forgetting the oldest when the ring is full. */
  #ordered(url: string): void {
    if (this.#order.length < this.#max) {
      this.#order.push(url);
      return;
    }
    // Each URL is in the ring once while it is known (a known one is not fetched again).
    const oldest = this.#max === 0 ? url : this.#order[this.#oldest]!;
    this.#byUrl.delete(oldest);
    if (this.#max === 0) return;
    this.#order[this.#oldest] = url;
    this.#oldest = (this.#oldest + 1) % this.#max;
  }

  /** What later rows need of a settled fetch: no redirect target; a failure's number. */
  #compact(settled: Published): Published | number {
    const { outcome } = settled;
    if (outcome.ok) return { ...settled, outcome: { ...outcome, finalUrl: '' } };
    const key = `${outcome.status}\0${outcome.attempts}\0${outcome.output}\0${outcome.error}`;
    let number = this.#failureNumbers.get(key);
    if (number === undefined) {
      // Past this many distinct failures (texts that name each URL), they are kept as is.
      if (this.#failures.length >= MAX_DISTINCT_FAILURES) return { outcome };
      number = this.#failures.push({ outcome }) - 1;
      this.#failureNumbers.set(key, number);
    }
    return number;
  }
}

/**
 * A copy of `text` that holds nothing else. A URL from the CSV is a slice of the 64 KiB of
 * text it was read with, and V8 keeps all of it while the slice lives: 100,000 remembered
 * URLs kept every chunk they came from (a heap snapshot of 100,000 failing rows: 15.7 MB of
 * strings, sliced and cons strings among them, before; 11.1 MB after).
 */
const detached = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

/** Distinct failures (status, attempts and text) the URL memory keeps one copy of. */
const MAX_DISTINCT_FAILURES = 1000;
