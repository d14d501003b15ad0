/**
 * The exact set of distinct IPv6 clients: 16 bytes an address (four words in one typed
 * array), where a Map of canonical strings took ~200 and gave out at 16.7 million entries.
 * Like IPv4Set's, a run groups the addresses by bucket (the top 16 bits of their hash), and
 * unions work a bucket at a time, in a small table that stays in cache.
 */
import { giveTable, takeTable } from './scratch.ts';

/** Spreads all 128 bits over 32 (murmur3's mixing steps); decides only the order of runs. */
export function hashIPv6(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0xcc9e2d51);
  h = Math.imul((h ^ (h >>> 15)) + b, 0x1b873593);
  h = Math.imul((h ^ (h >>> 13)) + c, 0xcc9e2d51);
  h = Math.imul((h ^ (h >>> 16)) + d, 0x1b873593);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** Distinct addresses, four words each, bucket by bucket, with requests if counted. */
export interface IPv6Run {
  readonly count: number;
  readonly words: Uint32Array;
  readonly counts: Uint32Array | undefined;
}

const MIN_SLOTS = 1 << 8;

/** A set of IPv6 addresses (four words), optionally with a count per address. */
export class IPv6Set {
  // Four words a slot; all zero (only "::" is) marks an empty slot, "::" is counted aside.
  #table: Uint32Array;
  #counts: Uint32Array | undefined;
  #size = 0;
  #shift: number;
  #zero = 0;

  constructor(withCounts: boolean) {
    this.#table = takeTable(MIN_SLOTS * 4);
    this.#counts = withCounts ? takeTable(MIN_SLOTS) : undefined;
    this.#shift = 32 - Math.log2(MIN_SLOTS);
  }

  get size(): number {
    return this.#size + (this.#zero > 0 ? 1 : 0);
  }

  /** Adds `count` requests from the address `words[0..4)`. */
  add(words: ArrayLike<number>, count = 1): void {
    const a = words[0]!;
    const b = words[1]!;
    const c = words[2]!;
    const d = words[3]!;
    if ((a | b | c | d) === 0) {
      this.#zero += count;
      return;
    }
    const table = this.#table;
    const mask = (table.length >>> 2) - 1;
    let slot = hashIPv6(a, b, c, d) >>> this.#shift;
    for (;;) {
      const at = slot << 2;
      const w0 = table[at]!;
      const w1 = table[at + 1]!;
      const w2 = table[at + 2]!;
      const w3 = table[at + 3]!;
      if (w0 === a && w1 === b && w2 === c && w3 === d) break;
      if ((w0 | w1 | w2 | w3) === 0) {
        table[at] = a;
        table[at + 1] = b;
        table[at + 2] = c;
        table[at + 3] = d;
        if (this.#counts) this.#counts[slot] = count;
        if (++this.#size * 4 > (table.length >>> 2) * 3) this.#grow();
        return;
      }
      slot = (slot + 1) & mask;
    }
    if (this.#counts) this.#counts[slot] = this.#counts[slot]! + count;
  }

  #grow(): void {
    const old = this.#table;
    const oldCounts = this.#counts;
    const slots = old.length >>> 1; // twice the slots, four words each
    const table = takeTable(slots * 4);
    const counts = oldCounts ? takeTable(slots) : undefined;
    const shift = this.#shift - 1;
    const mask = slots - 1;
    for (let from = 0; from < old.length; from += 4) {
      const a = old[from]!;
      const b = old[from + 1]!;
      const c = old[from + 2]!;
      const d = old[from + 3]!;
      if ((a | b | c | d) === 0) continue;
      let slot = hashIPv6(a, b, c, d) >>> shift;
      while (
        (table[slot << 2]! |
          table[(slot << 2) + 1]! |
          table[(slot << 2) + 2]! |
          table[(slot << 2) + 3]!) !==
        0
      ) {
        slot = (slot + 1) & mask;
      }
      table.set(old.subarray(from, from + 4), slot << 2);
      if (counts) counts[slot] = oldCounts![from >>> 2]!;
    }
    giveTable(old);
    if (oldCounts) giveTable(oldCounts);
    this.#table = table;
    this.#counts = counts;
    this.#shift = shift;
  }

  /** The set as a run: a counting sort of the table by bucket. */
  toRun(): IPv6Run {
    const n = this.size;
    const table = this.#table;
    const own = this.#counts;
    const bounds = runBounds.fill(0);
    if (this.#zero > 0) bounds[bucketOf(table, -4)]!++;
    for (let at = 0; at < table.length; at += 4)
      if (occupied(table, at)) bounds[bucketOf(table, at)]!++;
    for (let b = 0, start = 0; b < BUCKETS; b++) {
      const entries = bounds[b]!;
      bounds[b] = start;
      start += entries;
    }
    const words = new Uint32Array(n * 4);
    const counts = own ? new Uint32Array(n) : undefined;
    if (this.#zero > 0) {
      // "::": the words stay zero.
      const at = bounds[bucketOf(table, -4)]!++;
      if (counts) counts[at] = this.#zero;
    }
    for (let from = 0; from < table.length; from += 4) {
      if (!occupied(table, from)) continue;
      const at = bounds[bucketOf(table, from)]!++;
      words.set(table.subarray(from, from + 4), at * 4);
      if (counts) counts[at] = own![from >>> 2]!;
    }
    return { count: n, words, counts };
  }

  /** Hands the table back for the next set in this process; the set is empty after. */
  release(): void {
    giveTable(this.#table);
    if (this.#counts) giveTable(this.#counts);
    this.#table = takeTable(MIN_SLOTS * 4);
    this.#counts = this.#counts ? takeTable(MIN_SLOTS) : undefined;
    this.#shift = 32 - Math.log2(MIN_SLOTS);
    this.#size = 0;
    this.#zero = 0;
  }
}

const BUCKETS = 1 << 16;
const runBounds = new Uint32Array(BUCKETS);

function occupied(words: Uint32Array, at: number): boolean {
  return (words[at]! | words[at + 1]! | words[at + 2]! | words[at + 3]!) !== 0;
}

/** The bucket of the address at `words[at..at+4)`; `at` < 0 stands for "::". */
function bucketOf(words: Uint32Array, at: number): number {
  if (at < 0) return hashIPv6(0, 0, 0, 0) >>> 16;
  return hashIPv6(words[at]!, words[at + 1]!, words[at + 2]!, words[at + 3]!) >>> 16;
}

/** One bucket's union: a table of addresses and their requests, kept and reused. */
class BucketTable {
  words = new Uint32Array(1024 * 4);
  requests = new Uint32Array(1024);
  used: number[] = [];

  /** Adds the address at `source[from..from+4)`; true if it was new. */
  add(source: Uint32Array, from: number, requests: number): boolean {
    if ((this.used.length + 1) * 2 > this.requests.length) this.#grow();
    const mask = this.requests.length - 1;
    const a = source[from]!;
    const b = source[from + 1]!;
    const c = source[from + 2]!;
    const d = source[from + 3]!;
    // The hash's low bits: its top 16 bits are the bucket, the same for all of them.
    let slot = hashIPv6(a, b, c, d) & mask;
    const words = this.words;
    for (;;) {
      const at = slot * 4;
      if (this.requests[slot] === 0) {
        words[at] = a;
        words[at + 1] = b;
        words[at + 2] = c;
        words[at + 3] = d;
        this.requests[slot] = requests;
        this.used.push(slot);
        return true;
      }
      if (words[at] === a && words[at + 1] === b && words[at + 2] === c && words[at + 3] === d) {
        this.requests[slot] = this.requests[slot]! + requests;
        return false;
      }
      slot = (slot + 1) & mask;
    }
  }

  #grow(): void {
    const { words, requests, used } = this;
    this.words = new Uint32Array(words.length * 2);
    this.requests = new Uint32Array(requests.length * 2);
    this.used = [];
    for (const slot of used) this.add(words, slot * 4, requests[slot]!);
  }

  /** Visits and forgets every address of the bucket. */
  drain(visit?: (words: Uint32Array, requests: number) => void): void {
    for (const slot of this.used) {
      visit?.(this.words.subarray(slot * 4, slot * 4 + 4), this.requests[slot]!);
      this.requests[slot] = 0;
    }
    this.used = [];
  }
}

const bucketTable = new BucketTable();

/** Walks the union bucket by bucket; returns how many distinct addresses there are. */
function walkUnion(
  runs: readonly IPv6Run[],
  visit?: (words: Uint32Array, requests: number) => void,
): number {
  const at = new Int32Array(runs.length);
  // Each run's next address's bucket, so each address is hashed once here.
  const next = Int32Array.from(runs, (run) => (run.count > 0 ? bucketOf(run.words, 0) : BUCKETS));
  let distinct = 0;
  for (;;) {
    let bucket = BUCKETS;
    for (let r = 0; r < runs.length; r++) bucket = Math.min(bucket, next[r]!);
    if (bucket === BUCKETS) return distinct;
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      let i = at[r]!;
      while (next[r] === bucket) {
        if (bucketTable.add(run.words, i * 4, run.counts ? run.counts[i]! : 1)) distinct++;
        i++;
        next[r] = i < run.count ? bucketOf(run.words, i * 4) : BUCKETS;
      }
      at[r] = i;
    }
    bucketTable.drain(visit);
  }
}

/** How many distinct addresses the runs hold together. */
export function unionSizeIPv6(runs: readonly IPv6Run[]): number {
  if (runs.length <= 1) return runs[0]?.count ?? 0;
  return walkUnion(runs);
}

/** Visits every distinct address of the runs once, with its requests summed over them. */
export function visitUnionIPv6(
  runs: readonly IPv6Run[],
  visit: (words: Uint32Array, requests: number) => void,
): void {
  walkUnion(runs, visit);
}
