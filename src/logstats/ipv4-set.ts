/**
 * The exact set of distinct IPv4 clients, kept compact and cheap to combine.
 *
 * An address is stored as its Fibonacci hash (the address times 2^32/phi, mod 2^32): a
 * bijection on 32-bit numbers, so the hash IS the address, spread evenly whatever the
 * addresses look like. The table is open addressing on a typed array (4 bytes an address,
 * or 8 with request counts; a JS Set of strings costs ~60), and a slot is the top bits of
 * the hash times this process's secret odd key (slot-keys.ts): addresses picked to share
 * slots cannot be, and the table stays in the keyed order when it doubles.
 *
 * A scan hands its set over as a run: the hashes in ascending order, a big run as the low
 * 16 bits of each in buckets of the high 16 (2 bytes an address, near the least any encoding
 * of such a set can take). The union of runs is counted bucket by bucket with a small bitmap,
 * and can be written as one run again (`unionRun`) to hold many parts in little memory.
 */
import { soleRun } from './held-runs.ts';
import { takeTable, giveTable } from './scratch.ts';
import { IPV4_SLOT_KEY, longestRun } from './slot-keys.ts';

/** Where a probe for `hash` starts among 2^(32 - shift) slots: its keyed top bits. */
const homeSlot = (hash: number, shift: number): number => Math.imul(hash, IPV4_SLOT_KEY) >>> shift;

/** An address's hash, its place in every set's order, is `Math.imul(ip, PHI) >>> 0`. */
const PHI = 0x9e3779b1;
/** PHI's inverse mod 2^32 (Newton's iteration doubles the correct low bits each round). */
const PHI_INVERSE = (() => {
  let inverse = PHI;
  for (let i = 0; i < 5; i++) inverse = Math.imul(inverse, 2 - Math.imul(PHI, inverse));
  return inverse >>> 0;
})();

/** The address whose hash this is. */
export const unhashIPv4 = (hash: number): number => Math.imul(hash, PHI_INVERSE) >>> 0;

const MIN_SLOTS = 1 << 12;
/** A released set's table: empty, and never written (adding to such a set throws). */
const RELEASED = new Uint32Array(0);
/** Beyond this a presized table costs more to touch than growing into it would. */
const MAX_PRESIZE = 1 << 21;

/** Distinct addresses as ascending hashes, with requests when counted. */
export interface IPv4Run {
  readonly count: number;
  /** A small run: the hashes. */
  readonly hashes: Uint32Array | undefined;
  /** A big run: each hash's low 16 bits; its high 16 bits are its bucket. */
  readonly lows: Uint16Array | undefined;
  /** A big run: how many entries each bucket has, in the narrowest type that holds them. */
  readonly sizes: Uint8Array | Uint16Array | Uint32Array | undefined;
  /** Requests per address, in the run's order (only with --top). */
  readonly counts: Uint32Array | undefined;
}

/** A set of IPv4 addresses (uint32), optionally with a count per address. */
export class IPv4Set {
  // Hash 0 (only 0.0.0.0 has it) marks an empty slot; that address is counted on the side.
  #table: Uint32Array;
  #counts: Uint32Array | undefined;
  #size = 0;
  #shift: number;
  #zero = 0;

  /** `expected`: addresses the set will likely hold, so it need not grow on the way. */
  constructor(withCounts: boolean, expected = 0) {
    const slots = Math.max(
      MIN_SLOTS,
      2 ** Math.ceil(Math.log2((Math.min(expected, MAX_PRESIZE * 0.7) * 4) / 3 + 1)),
    );
    this.#table = takeTable(slots);
    this.#counts = withCounts ? takeTable(slots) : undefined;
    this.#shift = 32 - Math.log2(slots);
  }

  get size(): number {
    return this.#size + (this.#zero > 0 ? 1 : 0);
  }

  /** Adds `count` requests from `ip`. */
  add(ip: number, count = 1): void {
    if (this.#table === RELEASED) throw new Error('IPv4Set: added to after release');
    const hash = Math.imul(ip, PHI) >>> 0;
    if (hash === 0) {
      this.#zero += count;
      return;
    }
    const table = this.#table;
    const mask = table.length - 1;
    let slot = homeSlot(hash, this.#shift);
    for (;;) {
      const key = table[slot]!;
      if (key === hash) break;
      if (key === 0) {
        table[slot] = hash;
        this.#size++;
        if (this.#size * 4 > table.length * 3) {
          if (this.#counts) this.#counts[slot] = count;
          this.#grow();
          return;
        }
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (this.#counts) this.#counts[slot] = this.#counts[slot]! + count;
  }

  /** Adds one request from each of `ips[from .. n)`. */
  addAll(ips: Uint32Array, n: number, from = 0): void {
    if (this.#table === RELEASED) throw new Error('IPv4Set: added to after release');
    if (this.#counts) {
      for (let i = from; i < n; i++) this.add(ips[i]!);
      return;
    }
    // The common case, without counts, in one tight loop.
    let table = this.#table;
    let mask = table.length - 1;
    let shift = this.#shift;
    let size = this.#size;
    for (let i = from; i < n; i++) {
      const hash = Math.imul(ips[i]!, PHI) >>> 0;
      // 0.0.0.0 before the probe: its hash equals an empty slot's, so the probe would stop
      // at the first empty slot as if the address were already there.
      if (hash === 0) {
        this.#zero++;
        continue;
      }
      let slot = homeSlot(hash, shift);
      for (;;) {
        const key = table[slot]!;
        if (key === hash) break;
        if (key === 0) {
          table[slot] = hash;
          if (++size * 4 > table.length * 3) {
            this.#size = size;
            this.#grow();
            table = this.#table;
            mask = table.length - 1;
            shift = this.#shift;
          }
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
    this.#size = size;
  }

  #grow(): void {
    const old = this.#table;
    const oldCounts = this.#counts;
    const slots = old.length * 2;
    // Slots keep their order when the table doubles, so this walk writes the new table
    // front to back instead of all over it.
    const table = takeTable(slots);
    const counts = oldCounts ? takeTable(slots) : undefined;
    const shift = this.#shift - 1;
    const mask = slots - 1;
    for (let i = 0; i < old.length; i++) {
      const hash = old[i]!;
      if (hash === 0) continue;
      let slot = homeSlot(hash, shift);
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = hash;
      if (counts) counts[slot] = oldCounts![i]!;
    }
    giveTable(old);
    if (oldCounts) giveTable(oldCounts);
    this.#table = table;
    this.#counts = counts;
    this.#shift = shift;
  }

  /** The most filled slots in a row: the longest walk a lookup can take (for tests). */
  longestRun(): number {
    return longestRun(this.#table.length, (slot) => this.#table[slot] !== 0);
  }

  /**
   * The set as a run: a counting sort of the table by bucket, in two passes over it. (Within
   * a bucket the order does not matter: unions work a bucket at a time.)
   */
  toRun(): IPv4Run {
    const n = this.size;
    if (n < SMALL_RUN) return this.#smallRun(n);
    const table = this.#table;
    const own = this.#counts;
    const big = n >= BIG_RUN;
    // Entries per bucket, then where each bucket starts, then (after placing) where it ends.
    const bounds = runBounds.fill(0);
    if (this.#zero > 0) bounds[0]!++;
    for (let i = 0; i < table.length; i++) {
      const hash = table[i]!;
      if (hash !== 0) bounds[hash >>> 16]!++;
    }
    const sizes = big ? narrowest(bounds) : undefined;
    for (let b = 0, start = 0; b < BUCKETS; b++) {
      const entries = bounds[b]!;
      bounds[b] = start;
      start += entries;
    }
    const counts = own ? new Uint32Array(n) : undefined;
    // 0.0.0.0 has hash 0: first in bucket 0 (its low half is 0 too).
    if (this.#zero > 0 && counts) counts[0] = this.#zero;
    if (this.#zero > 0) bounds[0]!++;
    if (big) {
      const lows = new Uint16Array(n);
      for (let i = 0; i < table.length; i++) {
        const hash = table[i]!;
        if (hash === 0) continue;
        const at = bounds[hash >>> 16]!++;
        lows[at] = hash & 0xffff;
        if (counts) counts[at] = own![i]!;
      }
      return { count: n, hashes: undefined, lows, sizes, counts };
    }
    const hashes = new Uint32Array(n);
    for (let i = 0; i < table.length; i++) {
      const hash = table[i]!;
      if (hash === 0) continue;
      const at = bounds[hash >>> 16]!++;
      hashes[at] = hash;
      if (counts) counts[at] = own![i]!;
    }
    return { count: n, hashes, lows: undefined, sizes: undefined, counts };
  }

  /**
   * A few addresses (a small file's) as a run: sorted, without the counting sort's passes over
   * every bucket, which cost more than the rest of such a file's scan.
   */
  #smallRun(n: number): IPv4Run {
    const table = this.#table;
    // 0.0.0.0 (hash 0) stays first: the array starts zeroed and sorts ascending.
    const hashes = new Uint32Array(n);
    for (let i = 0, at = this.#zero > 0 ? 1 : 0; at < n; i++) {
      if (table[i] !== 0) hashes[at++] = table[i]!;
    }
    hashes.sort();
    const own = this.#counts;
    const counts = own ? new Uint32Array(n) : undefined;
    if (own) {
      for (let i = 0; i < n; i++) {
        const hash = hashes[i]!;
        counts![i] = hash === 0 ? this.#zero : own[this.#slotOf(hash)]!;
      }
    }
    return { count: n, hashes, lows: undefined, sizes: undefined, counts };
  }

  /** The slot that holds `hash` (which the set holds, and is not 0). */
  #slotOf(hash: number): number {
    const table = this.#table;
    const mask = table.length - 1;
    let slot = homeSlot(hash, this.#shift);
    while (table[slot] !== hash) slot = (slot + 1) & mask;
    return slot;
  }

  /** Adds every address of `run`, with its requests. */
  addRun(run: IPv4Run): void {
    const hashes = hashesOf(run);
    const counts = run.counts;
    for (let i = 0; i < run.count; i++) this.add(unhashIPv4(hashes[i]!), counts ? counts[i]! : 1);
  }

  /**
   * Hands the table back for the next set in this process; the set is empty after, and must
   * not be added to. (Taking a fresh table here, for a set that is dropped next, cost a new
   * table per small file.)
   */
  release(): void {
    // A set that never held an address never wrote to its tables (0.0.0.0 is held aside).
    const unwritten = this.#size === 0;
    giveTable(this.#table, unwritten);
    if (this.#counts) giveTable(this.#counts, unwritten);
    this.#table = RELEASED;
    this.#counts = undefined;
    this.#size = 0;
    this.#zero = 0;
  }

  /** The addresses (not their hashes) and their counts, in the run's order. */
  toArrays(): { keys: Uint32Array; counts: Uint32Array | undefined } {
    const run = this.toRun();
    return { keys: hashesOf(run).map(unhashIPv4), counts: run.counts };
  }
}

/** Buckets: the high 16 bits of a hash. */
const BUCKETS = 1 << 16;
/** From this many addresses a run keeps 2 bytes of each and a 256 KiB index of buckets. */
const BIG_RUN = 1 << 17;
/** Below this many addresses a set is sorted into a run rather than counted into buckets. */
const SMALL_RUN = 1 << 10;
/** Where each bucket of a run being written starts. */
const runBounds = new Uint32Array(BUCKETS);

/** Bucket sizes in the narrowest array that holds them (mostly bytes: 64 KiB to send). */
function narrowest(sizes: Uint32Array): Uint8Array | Uint16Array | Uint32Array {
  let most = 0;
  for (let b = 0; b < BUCKETS; b++) most = Math.max(most, sizes[b]!);
  if (most < 1 << 8) return Uint8Array.from(sizes);
  if (most < 1 << 16) return Uint16Array.from(sizes);
  return sizes.slice();
}

/** A run's hashes, bucket by bucket. */
export function hashesOf(run: IPv4Run): Uint32Array {
  if (run.hashes) return run.hashes;
  const out = new Uint32Array(run.count);
  for (let bucket = 0, i = 0; bucket < BUCKETS; bucket++) {
    for (const end = i + run.sizes![bucket]!; i < end; i++)
      out[i] = bucket * 0x10000 + run.lows![i]!;
  }
  return out;
}

/**
 * Calls `each(run, from, to)` for every run's entries of one bucket, bucket by bucket, then
 * `done()`: the shape of every union below. Small runs find a bucket's end as they go.
 */
function byBucket(
  runs: readonly IPv4Run[],
  each: (lows: Uint16Array | Uint32Array, from: number, to: number, counts?: Uint32Array) => void,
  done: (bucket: number) => void,
): void {
  const at = new Int32Array(runs.length);
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      const from = at[r]!;
      let to: number;
      if (run.lows) to = from + run.sizes![bucket]!;
      else {
        const hashes = run.hashes!;
        to = from;
        while (to < run.count && hashes[to]! >>> 16 === bucket) to++;
      }
      if (to > from) each(run.lows ?? run.hashes!, from, to, run.counts);
      at[r] = to;
    }
    done(bucket);
  }
}

const bits = new Int32Array(BUCKETS / 32);
const requestsByLow = new Uint32Array(BUCKETS);
const touched = new Int32Array(BUCKETS);

/**
 * How many distinct addresses the runs hold together: bucket by bucket, a bit per low half
 * set once (the 8 KiB bitmap stays in the L1 cache). Nothing is compared or allocated.
 */
export function unionSize(runs: readonly IPv4Run[]): number {
  if (runs.length <= 1) return runs[0]?.count ?? 0;
  // The loop of byBucket written out: this one runs on every logstats of several files.
  const at = new Int32Array(runs.length);
  let distinct = 0;
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    let marked = 0;
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      const lows = run.lows;
      const hashes = run.hashes;
      let i = at[r]!;
      const end = lows ? i + run.sizes![bucket]! : run.count;
      for (; i < end; i++) {
        let low: number;
        if (lows) low = lows[i]!;
        else if (hashes![i]! >>> 16 === bucket) low = hashes![i]! & 0xffff;
        else break;
        const word = low >>> 5;
        const old = bits[word]!;
        const mask = 1 << (low & 31);
        if ((old & mask) !== 0) continue;
        bits[word] = old | mask;
        distinct++;
        if (old === 0) touched[marked++] = word;
      }
      at[r] = i;
    }
    for (let i = 0; i < marked; i++) bits[touched[i]!] = 0;
  }
  return distinct;
}

/** Visits every distinct address of the runs once, with its requests summed over them. */
export function visitUnion(
  runs: readonly IPv4Run[],
  visit: (ip: number, requests: number) => void,
): void {
  visitHashes(runs, (hash, requests) => visit(unhashIPv4(hash), requests));
}

/** As visitUnion, with each address's hash, bucket by bucket. */
function visitHashes(
  runs: readonly IPv4Run[],
  visit: (hash: number, requests: number) => void,
): void {
  const only = runs.length === 1 ? runs[0]! : undefined;
  if (only?.hashes) {
    // One small run (one file's top clients): its addresses are distinct already.
    for (let i = 0; i < only.count; i++) visit(only.hashes[i]!, only.counts ? only.counts[i]! : 1);
    return;
  }
  let seen = 0;
  byBucket(
    runs,
    (lows, from, to, counts) => {
      for (let i = from; i < to; i++) {
        const low = lows[i]! & 0xffff;
        if (requestsByLow[low] === 0) touched[seen++] = low;
        requestsByLow[low] = requestsByLow[low]! + (counts ? counts[i]! : 1);
      }
    },
    (bucket) => {
      for (let i = 0; i < seen; i++) {
        const low = touched[i]!;
        visit(bucket * 0x10000 + low, requestsByLow[low]!);
        requestsByLow[low] = 0;
      }
      seen = 0;
    },
  );
}

/**
 * The union of `runs` as one run (requests summed when `withCounts`): what a union keeps
 * instead of the many runs it was given, so it holds each address about once.
 */
export function unionRun(runs: readonly IPv4Run[], withCounts: boolean): IPv4Run {
  const sole = soleRun(runs, withCounts);
  if (sole !== undefined) return sole;
  const n = unionSize(runs);
  const big = n >= BIG_RUN;
  const hashes = big ? undefined : new Uint32Array(n);
  const lows = big ? new Uint16Array(n) : undefined;
  const sizes = big ? new Uint32Array(BUCKETS) : undefined;
  const counts = withCounts ? new Uint32Array(n) : undefined;
  let at = 0;
  visitHashes(runs, (hash, requests) => {
    if (big) {
      lows![at] = hash & 0xffff;
      sizes![hash >>> 16]!++;
    } else hashes![at] = hash;
    if (counts) counts[at] = requests;
    at++;
  });
  return { count: n, hashes, lows, sizes: sizes && narrowest(sizes), counts };
}
