/**
 * The exact set of distinct IPv4 clients, kept compact and cheap to combine.
 *
 * An address is stored as its Fibonacci hash (the address times 2^32/phi, mod 2^32): a
 * bijection on 32-bit numbers, so the hash IS the address, spread evenly whatever the
 * addresses look like. The table is open addressing on a typed array (4 bytes an address,
 * or 8 with request counts; a JS Set of strings costs ~60), and a slot is the top bits of
 * the hash, so the table holds its hashes in ascending order but for short probe runs.
 *
 * A scan hands its set over as a run: the hashes in ascending order, as LEB128 deltas
 * (about 2 bytes an address, near the least any encoding of such a set can take). The union
 * of runs is a merge that counts as it goes and allocates nothing.
 */
import { takeTable, giveTable, scratchBytes } from './scratch.ts';

const PHI = 0x9e3779b1;
/** PHI's inverse mod 2^32 (Newton's iteration doubles the correct low bits each round). */
const PHI_INVERSE = (() => {
  let inverse = PHI;
  for (let i = 0; i < 5; i++) inverse = Math.imul(inverse, 2 - Math.imul(PHI, inverse));
  return inverse >>> 0;
})();

/** The address's place in every set's order. */
export const hashIPv4 = (ip: number): number => Math.imul(ip, PHI) >>> 0;
/** The address whose hash this is. */
export const unhashIPv4 = (hash: number): number => Math.imul(hash, PHI_INVERSE) >>> 0;

const MIN_SLOTS = 1 << 12;
/** Beyond this a presized table costs more to touch than growing into it would. */
const MAX_PRESIZE = 1 << 21;

/** Distinct addresses: ascending hashes as LEB128 deltas, with requests when counted. */
export interface IPv4Run {
  readonly count: number;
  readonly bytes: Uint8Array;
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
    const hash = Math.imul(ip, PHI) >>> 0;
    if (hash === 0) {
      this.#zero += count;
      return;
    }
    const table = this.#table;
    const mask = table.length - 1;
    let slot = hash >>> this.#shift;
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

  /** Adds one request from each of `ips[0 .. n)`. */
  addAll(ips: Uint32Array, n: number): void {
    if (this.#counts) {
      for (let i = 0; i < n; i++) this.add(ips[i]!);
      return;
    }
    // The common case, without counts, in one tight loop.
    let table = this.#table;
    let mask = table.length - 1;
    let shift = this.#shift;
    let size = this.#size;
    for (let i = 0; i < n; i++) {
      const hash = Math.imul(ips[i]!, PHI) >>> 0;
      let slot = hash >>> shift;
      for (;;) {
        const key = table[slot]!;
        if (key === hash) break;
        if (key === 0) {
          if (hash === 0) this.#zero++;
          else {
            table[slot] = hash;
            if (++size * 4 > table.length * 3) {
              this.#size = size;
              this.#grow();
              table = this.#table;
              mask = table.length - 1;
              shift = this.#shift;
            }
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
      let slot = hash >>> shift;
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

  /**
   * The set as a run. Probe runs are the only places where slot order and hash order differ,
   * and entries never leave theirs, so each is sorted on its own; a run that wraps past the
   * last slot to slot 0 is finished last.
   */
  toRun(): IPv4Run {
    const table = this.#table;
    const own = this.#counts;
    const writer = new RunWriter(this.size, own !== undefined);
    if (this.#zero > 0) writer.put(0, this.#zero);
    const cluster = new Cluster(own !== undefined);
    let firstEmpty = 0;
    while (table[firstEmpty] !== 0) firstEmpty++;
    const wrapped = new Cluster(own !== undefined);
    for (let i = 0; i < firstEmpty; i++) {
      const into = table[i]! >>> this.#shift > i ? wrapped : cluster;
      into.push(table[i]!, own ? own[i]! : 1);
    }
    cluster.flush(writer);
    for (let i = firstEmpty + 1; i < table.length; i++) {
      if (table[i] !== 0) cluster.push(table[i]!, own ? own[i]! : 1);
      else cluster.flush(writer);
    }
    for (let i = 0; i < wrapped.length; i++) cluster.push(wrapped.hashes[i]!, wrapped.counts[i]!);
    cluster.flush(writer);
    return writer.finish();
  }

  /** Hands the table back for the next set in this process; the set is empty after. */
  release(): void {
    giveTable(this.#table);
    if (this.#counts) giveTable(this.#counts);
    this.#table = takeTable(MIN_SLOTS);
    this.#counts = this.#counts ? takeTable(MIN_SLOTS) : undefined;
    this.#shift = 32 - Math.log2(MIN_SLOTS);
    this.#size = 0;
    this.#zero = 0;
  }

  /** The addresses (not their hashes) and their counts, in hash order. */
  toArrays(): { keys: Uint32Array; counts: Uint32Array | undefined } {
    const run = this.toRun();
    return { keys: decodeRun(run).map(unhashIPv4), counts: run.counts };
  }
}

/** One probe run's entries, sorted by insertion (runs are short) before they are written. */
class Cluster {
  hashes = new Uint32Array(64);
  counts = new Uint32Array(64);
  length = 0;
  readonly #counted: boolean;

  constructor(counted: boolean) {
    this.#counted = counted;
  }

  push(hash: number, count: number): void {
    if (this.length === this.hashes.length) {
      const hashes = new Uint32Array(this.length * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
      const counts = new Uint32Array(this.length * 2);
      counts.set(this.counts);
      this.counts = counts;
    }
    let at = this.length++;
    while (at > 0 && this.hashes[at - 1]! > hash) {
      this.hashes[at] = this.hashes[at - 1]!;
      if (this.#counted) this.counts[at] = this.counts[at - 1]!;
      at--;
    }
    this.hashes[at] = hash;
    if (this.#counted) this.counts[at] = count;
  }

  flush(writer: RunWriter): void {
    for (let i = 0; i < this.length; i++) writer.put(this.hashes[i]!, this.counts[i]!);
    this.length = 0;
  }
}

/** Writes ascending hashes as a run. */
class RunWriter {
  readonly #bytes: Uint8Array;
  readonly #counts: Uint32Array | undefined;
  #at = 0;
  #count = 0;
  #previous = 0;

  constructor(most: number, counted: boolean) {
    // Scratch memory reused from the last run: only the finished run is copied out.
    this.#bytes = scratchBytes(most * 5);
    this.#counts = counted ? new Uint32Array(most) : undefined;
  }

  put(hash: number, count: number): void {
    let delta = (hash - this.#previous) >>> 0;
    this.#previous = hash;
    const bytes = this.#bytes;
    let at = this.#at;
    while (delta >= 0x80) {
      bytes[at++] = (delta & 0x7f) | 0x80;
      delta >>>= 7;
    }
    bytes[at++] = delta;
    this.#at = at;
    if (this.#counts) this.#counts[this.#count] = count;
    this.#count++;
  }

  finish(): IPv4Run {
    return {
      count: this.#count,
      bytes: this.#bytes.slice(0, this.#at),
      counts: this.#counts?.subarray(0, this.#count),
    };
  }
}

/** Reads a run back, one hash at a time; `value` is Infinity past the end. */
class RunReader {
  value = 0;
  count = 1;
  readonly #run: IPv4Run;
  #at = 0;
  #index = -1;

  constructor(run: IPv4Run) {
    this.#run = run;
    this.next();
  }

  next(): void {
    const run = this.#run;
    if (++this.#index >= run.count) {
      this.value = Infinity;
      return;
    }
    const bytes = run.bytes;
    let at = this.#at;
    let byte = bytes[at++]!;
    let delta = byte & 0x7f;
    for (let shift = 7; byte >= 0x80; shift += 7) {
      byte = bytes[at++]!;
      delta += (byte & 0x7f) * 2 ** shift;
    }
    this.#at = at;
    this.value = this.#index === 0 ? delta : this.value + delta;
    this.count = run.counts ? run.counts[this.#index]! : 1;
  }
}

/** The hashes of a run, ascending. */
export function decodeRun(run: IPv4Run): Uint32Array {
  const out = new Uint32Array(run.count);
  const reader = new RunReader(run);
  for (let i = 0; i < run.count; i++, reader.next()) out[i] = reader.value;
  return out;
}

/** Merges this many runs at once; more are merged in groups first. */
const FAN_IN = 16;

/**
 * Walks the union of runs in ascending order: `visit(hash, requests)` once per distinct
 * address (requests summed over the runs). Returns how many there were.
 */
function walkUnion(runs: readonly IPv4Run[], visit?: (hash: number, requests: number) => void) {
  if (runs.length > FAN_IN) {
    const grouped: IPv4Run[] = [];
    for (let i = 0; i < runs.length; i += FAN_IN) grouped.push(unionRun(runs.slice(i, i + FAN_IN)));
    return walkUnion(grouped, visit);
  }
  const readers = runs.map((run) => new RunReader(run));
  let distinct = 0;
  for (;;) {
    let least = Infinity;
    for (const reader of readers) if (reader.value < least) least = reader.value;
    if (least === Infinity) return distinct;
    let requests = 0;
    for (const reader of readers) {
      if (reader.value !== least) continue;
      requests += reader.count;
      reader.next();
    }
    visit?.(least, requests);
    distinct++;
  }
}

/** How many distinct addresses the runs hold together. */
export function unionSize(runs: readonly IPv4Run[]): number {
  if (runs.length === 1) return runs[0]!.count;
  return walkUnion(runs);
}

/** The runs' union as one run, with requests summed when every run has them. */
export function unionRun(runs: readonly IPv4Run[]): IPv4Run {
  const counted = runs.every((run) => run.counts !== undefined);
  const writer = new RunWriter(
    runs.reduce((n, run) => n + run.count, 0),
    counted,
  );
  walkUnion(runs, (hash, requests) => writer.put(hash, requests));
  return writer.finish();
}
