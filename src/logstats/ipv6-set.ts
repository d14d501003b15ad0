/**
 * The exact set of distinct IPv6 clients: 16 bytes an address (four words in one typed
 * array), where a Map of canonical strings took ~200 and gave out at 16.7 million entries.
 * Like IPv4Set's, a run groups the addresses by bucket (the top 16 bits of their hash), and
 * unions work a bucket at a time, in a small table that stays in cache.
 */
import { soleRun } from './held-runs.ts';
import { giveTable, takeTable } from './scratch.ts';
import { IPV6_SLOT_SEED, longestRun } from './slot-keys.ts';

/**
 * Spreads all 128 bits over 32 (murmur3's mixing steps). Unseeded, it decides the order of
 * runs, the same in every process; seeded with this process's secret (slot-keys.ts), where
 * an address goes in a table.
 */
export function hashIPv6(a: number, b: number, c: number, d: number, seed = 0x9e3779b9): number {
  let h = Math.imul(a ^ seed, 0xcc9e2d51);
  h = Math.imul((h ^ (h >>> 15)) + b, 0x1b873593);
  h = Math.imul((h ^ (h >>> 13)) + c, 0xcc9e2d51);
  h = Math.imul((h ^ (h >>> 16)) + d, 0x1b873593);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** Where an address goes in a table: its hash keyed by this process's secret (slot-keys.ts). */
const slotHash = (a: number, b: number, c: number, d: number): number =>
  hashIPv6(a, b, c, d, IPV6_SLOT_SEED);

/** Distinct addresses, four words each, bucket by bucket, with requests if counted. */
export interface IPv6Run {
  readonly count: number;
  readonly words: Uint32Array;
  readonly counts: Uint32Array | undefined;
}

/**
 * How far the scan filling a set has come, in bytes: lets the set grow at once to what the
 * rest of its input will need, rather than doubling (and rehashing) its way there.
 */
export interface ScanProgress {
  /** Bytes of input read so far. */
  readonly done: () => number;
  /** Bytes of input the scan will read in all. */
  readonly expected: number;
  /**
   * How many more bytes of tables the scan has room for (read.ts stops a range's scan at
   * its budget): a leap past it would stop the scan at once, with a part of the clients it
   * had room for, and a growth past it waits for the scan to stop (see `full`).
   */
  readonly room: () => number;
}

const MIN_SLOTS = 1 << 8;
/** Four words an address, and with counts, one more. */
const SLOT_BYTES = 16;
/**
 * At most this many times the slots at one growth: a rate that falls later on leaves the
 * table no more than this much too big (and never past its scan's room). At 8, a range of
 * a million distinct addresses grew six times, the last from 524,288 slots to 2,097,152,
 * moving 393,216 addresses into 32 MB of memory not yet touched: ~60-120 ms of a ~370 ms
 * scan. At 32 it grows three times, the last moving 196,608.
 */
const MAX_LEAP = 32;
/** A released set's table: empty, and never written (adding to such a set throws). */
const RELEASED = new Uint32Array(0);

/** A set of IPv6 addresses (four words), optionally with a count per address. */
export class IPv6Set {
  // Four words a slot; all zero (only "::" is) marks an empty slot, "::" is counted aside.
  #table: Uint32Array;
  #counts: Uint32Array | undefined;
  #size = 0;
  #shift: number;
  #zero = 0;
  readonly #progress: ScanProgress | undefined;
  /** The size and the bytes read at the last growth: the rate new addresses come at. */
  #grownAtSize = 0;
  #grownAtBytes = 0;
  #full = false;

  constructor(withCounts: boolean, progress?: ScanProgress) {
    this.#progress = progress;
    this.#table = takeTable(MIN_SLOTS * 4);
    this.#counts = withCounts ? takeTable(MIN_SLOTS) : undefined;
    this.#shift = 32 - Math.log2(MIN_SLOTS);
  }

  get size(): number {
    return this.#size + (this.#zero > 0 ? 1 : 0);
  }

  /**
   * The table is due to grow past the room its scan has left, and has not: its scan should
   * stop at the next line start (read.ts), and the rest of its input go to another set.
   */
  get full(): boolean {
    return this.#full;
  }

  /** Adds `count` requests from the address `words[0..4)`. */
  add(words: ArrayLike<number>, count = 1): void {
    this.#insert(words[0]!, words[1]!, words[2]!, words[3]!, count);
  }

  #insert(a: number, b: number, c: number, d: number, count: number): void {
    if (this.#table === RELEASED) throw new Error('IPv6Set: added to after release');
    if ((a | b | c | d) === 0) {
      this.#zero += count;
      return;
    }
    const table = this.#table;
    const mask = (table.length >>> 2) - 1;
    let slot = slotHash(a, b, c, d) >>> this.#shift;
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

  /** Adds one request from each address of `words[4 * from .. 4 * n)`, four words each. */
  addAll(words: Uint32Array, n: number, from = 0): void {
    for (let at = from * 4, to = n * 4; at < to; at += 4) {
      this.#insert(words[at]!, words[at + 1]!, words[at + 2]!, words[at + 3]!, 1);
    }
  }

  /** Adds every address of `run`, with its requests. */
  addRun(run: IPv6Run): void {
    const { words, counts } = run;
    for (let i = 0, at = 0; i < run.count; i++, at += 4) {
      this.#insert(words[at]!, words[at + 1]!, words[at + 2]!, words[at + 3]!, counts?.[i] ?? 1);
    }
  }

  /** How many times the slots to grow by: two, or what the projected size needs. */
  #leap(slots: number): number {
    const progress = this.#progress;
    if (progress === undefined) return 2;
    const bytes = progress.done();
    const size = this.#size;
    const read = bytes - this.#grownAtBytes;
    const rate = read > 0 ? (size - this.#grownAtSize) / read : 0;
    const projected = size + rate * Math.max(0, progress.expected - bytes);
    this.#grownAtSize = size;
    this.#grownAtBytes = bytes;
    let leap = 2;
    // The old table is given back after the growth: only what the new one adds needs room.
    const room = progress.room() + slots * SLOT_BYTES;
    while (
      leap < MAX_LEAP &&
      slots * leap * 3 < projected * 4 &&
      slots * leap * 2 * SLOT_BYTES <= room
    ) {
      leap *= 2;
    }
    return leap;
  }

  /**
   * Whether doubling a table of `slots` would take it past its scan's room while it can still
   * take more. It then stays as it is, a little fuller, until its scan stops; past 15/16 full
   * it grows all the same, since an open-addressing table must never fill up. So a range's
   * table fills the room it has (1.5 million addresses in 32 MiB), where growing first and
   * stopping after held half as many in the same table and left twice the runs to merge.
   */
  #outgrows(slots: number): boolean {
    const progress = this.#progress;
    if (progress === undefined || this.#size * 16 > slots * 15) return false;
    // The old table is given back after the growth: only what the new one adds needs room.
    return slots * (SLOT_BYTES + (this.#counts ? 4 : 0)) > progress.room();
  }

  #grow(): void {
    const old = this.#table;
    const oldCounts = this.#counts;
    if (this.#outgrows(old.length >>> 2)) {
      this.#full = true;
      return;
    }
    const leap = this.#leap(old.length >>> 2);
    const slots = (old.length >>> 2) * leap; // four words each
    const table = takeTable(slots * 4);
    const counts = oldCounts ? takeTable(slots) : undefined;
    const shift = this.#shift - Math.log2(leap);
    const mask = slots - 1;
    for (let from = 0; from < old.length; from += 4) {
      const a = old[from]!;
      const b = old[from + 1]!;
      const c = old[from + 2]!;
      const d = old[from + 3]!;
      if ((a | b | c | d) === 0) continue;
      let slot = slotHash(a, b, c, d) >>> shift;
      while (!empty(table, slot << 2)) slot = (slot + 1) & mask;
      const at = slot << 2;
      table[at] = a;
      table[at + 1] = b;
      table[at + 2] = c;
      table[at + 3] = d;
      if (counts) counts[slot] = oldCounts![from >>> 2]!;
    }
    giveTable(old);
    if (oldCounts) giveTable(oldCounts);
    this.#table = table;
    this.#counts = counts;
    this.#shift = shift;
  }

  /** The most filled slots in a row: the longest walk a lookup can take (for tests). */
  longestRun(): number {
    return longestRun(this.#table.length >>> 2, (slot) => !empty(this.#table, slot * 4));
  }

  /**
   * The set as a run: a counting sort of the table by bucket, each address hashed once; a
   * few addresses are sorted instead (the counting sort's passes over every bucket cost more
   * than a small file's whole scan).
   */
  toRun(): IPv6Run {
    const n = this.size;
    const table = this.#table;
    const own = this.#counts;
    if (n === 0) return { count: 0, words: new Uint32Array(0), counts: own && new Uint32Array(0) };
    // Each address's bucket in table order ("::", held aside, first), then where it goes.
    const buckets = new Uint16Array(n);
    const zero = this.#zero > 0 ? 1 : 0;
    if (zero) buckets[0] = hashIPv6(0, 0, 0, 0) >>> 16;
    for (let at = 0, i = zero; i < n; at += 4) {
      if (!empty(table, at)) buckets[i++] = bucketOf(table, at);
    }
    // Where entry i goes: sorted for a few, else counted (starts of buckets, bumped as used).
    const sorted = n < SMALL_RUN ? sortedPlaces(buckets) : undefined;
    const starts = sorted ? undefined : bucketStarts(buckets);
    const place = (i: number): number => (sorted ? sorted[i]! : starts![buckets[i]!]!++);
    const words = new Uint32Array(n * 4);
    const counts = own ? new Uint32Array(n) : undefined;
    if (zero) {
      const to = place(0); // "::": its words stay zero
      if (counts) counts[to] = this.#zero;
    }
    for (let from = 0, i = zero; i < n; from += 4) {
      if (empty(table, from)) continue;
      const to = place(i++);
      words[to * 4] = table[from]!;
      words[to * 4 + 1] = table[from + 1]!;
      words[to * 4 + 2] = table[from + 2]!;
      words[to * 4 + 3] = table[from + 3]!;
      if (counts) counts[to] = own![from >>> 2]!;
    }
    return { count: n, words, counts };
  }

  /**
   * Hands the table back for the next set in this process; the set is empty after, and must
   * not be added to.
   */
  release(): void {
    giveTable(this.#table);
    if (this.#counts) giveTable(this.#counts);
    this.#table = RELEASED;
    this.#counts = undefined;
    this.#size = 0;
    this.#zero = 0;
    this.#full = false;
  }
}

const BUCKETS = 1 << 16;
const runBounds = new Uint32Array(BUCKETS);
/** Below this many addresses a set is sorted into a run rather than counted into buckets. */
const SMALL_RUN = 1 << 10;

function empty(words: Uint32Array, at: number): boolean {
  return (words[at]! | words[at + 1]! | words[at + 2]! | words[at + 3]!) === 0;
}

/** The hash of the address at `words[at..at+4)`. */
function hashAt(words: Uint32Array, at: number): number {
  return hashIPv6(words[at]!, words[at + 1]!, words[at + 2]!, words[at + 3]!);
}

/** The bucket of the address at `words[at..at+4)`. */
function bucketOf(words: Uint32Array, at: number): number {
  return hashAt(words, at) >>> 16;
}

/** Where each bucket starts in a run of entries in these buckets (a counting sort). */
function bucketStarts(buckets: Uint16Array): Uint32Array {
  const bounds = runBounds.fill(0);
  for (let i = 0; i < buckets.length; i++) bounds[buckets[i]!]!++;
  for (let b = 0, start = 0; b < BUCKETS; b++) {
    const entries = bounds[b]!;
    bounds[b] = start;
    start += entries;
  }
  return bounds;
}

/** Where each of fewer than 2^16 entries goes in bucket order: a sort of (bucket, entry). */
function sortedPlaces(buckets: Uint16Array): Uint32Array {
  const keys = new Uint32Array(buckets.length);
  for (let i = 0; i < buckets.length; i++) keys[i] = buckets[i]! * 0x10000 + i;
  keys.sort();
  const places = new Uint32Array(buckets.length);
  for (let at = 0; at < keys.length; at++) places[keys[at]! & 0xffff] = at;
  return places;
}

/**
 * One bucket's union: a table of addresses and their requests, kept and reused. The slots in
 * use are listed in a typed array: a JavaScript array a bucket was 65,536 arrays a union, and
 * collecting them cost a cold parent more than the walk.
 */
export class BucketTable {
  words = new Uint32Array(1024 * 4);
  requests = new Uint32Array(1024);
  /** The slots in use, `size` of them: at most half the slots. */
  used = new Uint32Array(512);
  size = 0;

  /** Adds the address at `source[from..from+4)`; true if it was new. */
  add(source: Uint32Array, from: number, requests: number): boolean {
    if ((this.size + 1) * 2 > this.requests.length) this.#grow();
    const mask = this.requests.length - 1;
    const a = source[from]!;
    const b = source[from + 1]!;
    const c = source[from + 2]!;
    const d = source[from + 3]!;
    // Not the run's hash, whose top bits are the bucket's: its low bits are no secret, and
    // many addresses can be picked to share all 32.
    let slot = slotHash(a, b, c, d) & mask;
    const words = this.words;
    for (;;) {
      const at = slot * 4;
      if (this.requests[slot] === 0) {
        words[at] = a;
        words[at + 1] = b;
        words[at + 2] = c;
        words[at + 3] = d;
        this.requests[slot] = requests;
        this.used[this.size++] = slot;
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
    const { words, requests, used, size } = this;
    this.words = new Uint32Array(words.length * 2);
    this.requests = new Uint32Array(requests.length * 2);
    this.used = new Uint32Array(used.length * 2);
    this.size = 0;
    for (let i = 0; i < size; i++) {
      const slot = used[i]!;
      this.add(words, slot * 4, requests[slot]!);
    }
  }

  /** The most filled slots in a row: the longest walk an add can take (for tests). */
  longestRun(): number {
    return longestRun(this.requests.length, (slot) => this.requests[slot] !== 0);
  }

  /** Visits and forgets every address of the bucket: its words at `at` in `words`. */
  drain(visit?: (words: Uint32Array, at: number, requests: number) => void): void {
    for (let i = 0; i < this.size; i++) {
      const slot = this.used[i]!;
      visit?.(this.words, slot * 4, this.requests[slot]!);
      this.requests[slot] = 0;
    }
    this.size = 0;
  }
}

const bucketTable = new BucketTable();

/** Walks the union bucket by bucket; returns how many distinct addresses there are. */
function walkUnion(
  runs: readonly IPv6Run[],
  visit?: (words: Uint32Array, at: number, requests: number) => void,
): number {
  const at = new Int32Array(runs.length);
  // Each run's next address's hash and bucket, so each address is hashed once here.
  const hashes = Uint32Array.from(runs, (run) => (run.count > 0 ? hashAt(run.words, 0) : 0));
  const next = Int32Array.from(runs, (run, r) => (run.count > 0 ? hashes[r]! >>> 16 : BUCKETS));
  let distinct = 0;
  for (;;) {
    let bucket = BUCKETS;
    for (let r = 0; r < runs.length; r++) bucket = Math.min(bucket, next[r]!);
    if (bucket === BUCKETS) return distinct;
    for (let r = 0; r < runs.length; r++) {
      if (next[r] === bucket) distinct += takeBucket(runs[r]!, r, at, hashes, next);
    }
    bucketTable.drain(visit);
  }
}

/**
 * Adds a run's addresses of the bucket its next one is in to the bucket table; returns how
 * many were new. A function of its own, called once a bucket and run: V8 optimizes it
 * sooner than one loop over all the buckets (a parent's first union of two million
 * addresses, ~100 ms against ~110; ~33 ms against ~40 once warm).
 */
function takeBucket(
  run: IPv6Run,
  r: number,
  at: Int32Array,
  hashes: Uint32Array,
  next: Int32Array,
): number {
  const bucket = next[r]!;
  const { words, counts, count } = run;
  let i = at[r]!;
  let hash = hashes[r]!;
  let added = 0;
  for (;;) {
    if (bucketTable.add(words, i * 4, counts ? counts[i]! : 1)) added++;
    if (++i >= count) {
      next[r] = BUCKETS;
      break;
    }
    hash = hashAt(words, i * 4);
    if (hash >>> 16 !== bucket) {
      next[r] = hash >>> 16;
      break;
    }
  }
  hashes[r] = hash;
  at[r] = i;
  return added;
}

/** How many distinct addresses the runs hold together. */
export function unionSizeIPv6(runs: readonly IPv6Run[]): number {
  if (runs.length <= 1) return runs[0]?.count ?? 0;
  return countUnion(runs);
}

/** A bit per low 16 bits of a hash, for one bucket at a time; and who set each bit. */
const lowBits = new Int32Array(0x10000 / 32);
const firstRun = new Int32Array(0x10000);
const firstAt = new Int32Array(0x10000);
/** The bucket's addresses that set a bit: (run, index) and the low 16 bits of its hash. */
let bucketRuns = new Int32Array(1024);
let bucketAts = new Int32Array(1024);
let bucketLows = new Uint16Array(1024);

/**
 * walkUnion's count with less work per address: within a bucket, an address whose hash's
 * low 16 bits no address before it had is new, and only sets a bit. One that finds its bit
 * set is compared with the address that set it: the same, it was counted. Another (two
 * addresses with one 32-bit hash: rare by chance, but clients can be picked to share one)
 * sends the rest of the bucket through the keyed bucket table, as walkUnion does, so picked
 * addresses cost no more than there. Every run holds distinct addresses, so only the
 * addresses runs share are ever compared. The walk from bucket to bucket is written out as
 * in walkUnion and takeBucket: shared through small functions, this first (cold) count took
 * ~66 ms against ~56.
 */
function countUnion(runs: readonly IPv6Run[]): number {
  const at = new Int32Array(runs.length);
  const hashes = Uint32Array.from(runs, (run) => (run.count > 0 ? hashAt(run.words, 0) : 0));
  const next = Int32Array.from(runs, (run, r) => (run.count > 0 ? hashes[r]! >>> 16 : BUCKETS));
  let distinct = 0;
  for (;;) {
    let bucket = BUCKETS;
    for (let r = 0; r < runs.length; r++) bucket = Math.min(bucket, next[r]!);
    if (bucket === BUCKETS) return distinct;
    let kept = 0;
    let tabled = false;
    for (let r = 0; r < runs.length; r++) {
      if (next[r] !== bucket) continue;
      const { words, count } = runs[r]!;
      let i = at[r]!;
      let hash = hashes[r]!;
      for (;;) {
        if (tabled) {
          if (bucketTable.add(words, i * 4, 1)) distinct++;
        } else {
          const low = hash & 0xffff;
          const word = low >>> 5;
          const mask = 1 << (low & 31);
          if ((lowBits[word]! & mask) === 0) {
            lowBits[word] = lowBits[word]! | mask;
            firstRun[low] = r;
            firstAt[low] = i;
            if (kept === bucketRuns.length) growBucketList();
            bucketRuns[kept] = r;
            bucketAts[kept] = i;
            bucketLows[kept++] = low;
            distinct++;
          } else if (!sameWords(runs[firstRun[low]!]!.words, firstAt[low]!, words, i)) {
            tabled = true;
            for (let k = 0; k < kept; k++) {
              bucketTable.add(runs[bucketRuns[k]!]!.words, bucketAts[k]! * 4, 1);
            }
            if (bucketTable.add(words, i * 4, 1)) distinct++;
          }
        }
        if (++i >= count) {
          next[r] = BUCKETS;
          break;
        }
        hash = hashAt(words, i * 4);
        if (hash >>> 16 !== bucket) {
          next[r] = hash >>> 16;
          break;
        }
      }
      hashes[r] = hash;
      at[r] = i;
    }
    // Every bit set in this bucket is a kept address's: clear their words for the next.
    for (let k = 0; k < kept; k++) lowBits[bucketLows[k]! >>> 5] = 0;
    if (tabled) bucketTable.drain();
  }
}

function sameWords(a: Uint32Array, i: number, b: Uint32Array, j: number): boolean {
  const x = i * 4;
  const y = j * 4;
  return a[x] === b[y] && a[x + 1] === b[y + 1] && a[x + 2] === b[y + 2] && a[x + 3] === b[y + 3];
}

function growBucketList(): void {
  const runs = new Int32Array(bucketRuns.length * 2);
  const ats = new Int32Array(bucketAts.length * 2);
  const lows = new Uint16Array(bucketLows.length * 2);
  runs.set(bucketRuns);
  ats.set(bucketAts);
  lows.set(bucketLows);
  bucketRuns = runs;
  bucketAts = ats;
  bucketLows = lows;
}

/** Visits every distinct address of the runs once, with its requests summed over them. */
export function visitUnionIPv6(
  runs: readonly IPv6Run[],
  visit: (words: Uint32Array, requests: number) => void,
): void {
  walkUnion(runs, (words, at, requests) => visit(words.subarray(at, at + 4), requests));
}

/**
 * The union of `runs` as one run (requests summed when `withCounts`): what a union keeps
 * instead of the many runs it was given, so it holds each address about once.
 */
export function unionRunIPv6(runs: readonly IPv6Run[], withCounts: boolean): IPv6Run {
  const sole = soleRun(runs, withCounts);
  if (sole !== undefined) return sole;
  const n = unionSizeIPv6(runs);
  const words = new Uint32Array(n * 4);
  const counts = withCounts ? new Uint32Array(n) : undefined;
  let to = 0;
  walkUnion(runs, (from, at, requests) => {
    words[to * 4] = from[at]!;
    words[to * 4 + 1] = from[at + 1]!;
    words[to * 4 + 2] = from[at + 2]!;
    words[to * 4 + 3] = from[at + 3]!;
    if (counts) counts[to] = requests;
    to++;
  });
  return { count: n, words, counts };
}
