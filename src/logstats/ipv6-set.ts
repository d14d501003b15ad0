/**
 * The exact set of distinct IPv6 clients: 16 bytes an address (four words in one typed
 * array), where a Map of canonical strings took ~200 and gave out at 16.7 million entries.
 * Like IPv4Set, a slot is the top bits of the address's hash, so the table is almost in hash
 * order: a run is the addresses ordered by (hash, words), and unions are merges.
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

/** Distinct addresses, four words each, ordered by (hash, words), with requests if counted. */
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

  /** The set as a run; see IPv4Set.toRun for why sorting each probe run is enough. */
  toRun(): IPv6Run {
    const table = this.#table;
    const slots = table.length >>> 2;
    const words = new Uint32Array(this.size * 4);
    const counts = this.#counts ? new Uint32Array(this.size) : undefined;
    const out: Sorted = { words, counts, n: 0 };
    const occupied = (slot: number): boolean =>
      (table[slot << 2]! |
        table[(slot << 2) + 1]! |
        table[(slot << 2) + 2]! |
        table[(slot << 2) + 3]!) !==
      0;
    let firstEmpty = 0;
    while (occupied(firstEmpty)) firstEmpty++;
    const wrapped: number[] = [];
    for (let slot = 0; slot < firstEmpty; slot++) {
      const at = slot << 2;
      const home =
        hashIPv6(table[at]!, table[at + 1]!, table[at + 2]!, table[at + 3]!) >>> this.#shift;
      if (home > slot) wrapped.push(slot);
      else this.#put(slot, out);
    }
    for (let slot = firstEmpty; slot < slots; slot++) if (occupied(slot)) this.#put(slot, out);
    for (const slot of wrapped) this.#put(slot, out);
    // "::" has its own place in hash order, found once the same way.
    if (this.#zero > 0) insert(out, new Uint32Array(4), 0, this.#zero);
    return { count: out.n, words, counts };
  }

  #put(slot: number, out: Sorted): void {
    insert(out, this.#table, slot << 2, this.#counts ? this.#counts[slot]! : 1);
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

interface Sorted {
  readonly words: Uint32Array;
  readonly counts: Uint32Array | undefined;
  n: number;
}

/** Appends the address at `source[from..from+4)` to the sorted tail, by insertion. */
function insert(out: Sorted, source: Uint32Array, from: number, count: number): void {
  const { words, counts } = out;
  let at = out.n++;
  while (at > 0 && compareAt(words, (at - 1) << 2, source, from) > 0) {
    words.copyWithin(at << 2, (at - 1) << 2, at << 2);
    if (counts) counts[at] = counts[at - 1]!;
    at--;
  }
  words.set(source.subarray(from, from + 4), at << 2);
  if (counts) counts[at] = count;
}

/** Orders the address at `x[i..i+4)` against `y[j..j+4)`: by hash, then by words. */
function compareAt(x: Uint32Array, i: number, y: Uint32Array, j: number): number {
  const hx = hashIPv6(x[i]!, x[i + 1]!, x[i + 2]!, x[i + 3]!);
  const hy = hashIPv6(y[j]!, y[j + 1]!, y[j + 2]!, y[j + 3]!);
  if (hx !== hy) return hx < hy ? -1 : 1;
  for (let k = 0; k < 4; k++) if (x[i + k] !== y[j + k]) return x[i + k]! < y[j + k]! ? -1 : 1;
  return 0;
}

/** How many runs are merged at once. */
const FAN_IN = 16;

/** Visits the union of runs in order, once per distinct address; returns how many. */
function walkUnion(
  runs: readonly IPv6Run[],
  visit?: (run: IPv6Run, index: number, requests: number) => void,
): number {
  if (runs.length > FAN_IN) {
    const grouped: IPv6Run[] = [];
    for (let i = 0; i < runs.length; i += FAN_IN)
      grouped.push(unionRunIPv6(runs.slice(i, i + FAN_IN)));
    return walkUnion(grouped, visit);
  }
  const next = runs.map(() => 0);
  let distinct = 0;
  for (;;) {
    let least = -1;
    for (let r = 0; r < runs.length; r++) {
      if (next[r]! >= runs[r]!.count) continue;
      if (
        least < 0 ||
        compareAt(runs[r]!.words, next[r]! << 2, runs[least]!.words, next[least]! << 2) < 0
      ) {
        least = r;
      }
    }
    if (least < 0) return distinct;
    const leader = runs[least]!;
    const index = next[least]!;
    let requests = 0;
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      if (
        next[r]! >= run.count ||
        compareAt(run.words, next[r]! << 2, leader.words, index << 2) !== 0
      ) {
        continue;
      }
      requests += run.counts ? run.counts[next[r]!]! : 1;
      next[r] = next[r]! + 1;
    }
    visit?.(leader, index, requests);
    distinct++;
  }
}

/** How many distinct addresses the runs hold together. */
export function unionSizeIPv6(runs: readonly IPv6Run[]): number {
  if (runs.length === 1) return runs[0]!.count;
  return walkUnion(runs);
}

/** The runs' union as one run, with requests summed when every run has them. */
export function unionRunIPv6(runs: readonly IPv6Run[]): IPv6Run {
  const most = runs.reduce((n, run) => n + run.count, 0);
  const words = new Uint32Array(most * 4);
  const counts = runs.every((run) => run.counts) ? new Uint32Array(most) : undefined;
  let n = 0;
  walkUnion(runs, (run, index, requests) => {
    words.set(run.words.subarray(index << 2, (index << 2) + 4), n << 2);
    if (counts) counts[n] = requests;
    n++;
  });
  return { count: n, words: words.slice(0, n << 2), counts: counts?.slice(0, n) };
}
