/**
 * Counting: lines, malformed lines, and the exact set of distinct client IPs, kept compact.
 * IPv4 addresses live as uint32 keys in an open-addressing hash set on typed arrays (4 bytes
 * an address, or 8 with request counts), not as strings in a JS Set (~60 bytes each), which
 * is what keeps 10 million distinct addresses well under 300 MB.
 */
import {
  BLANK,
  classifyLine,
  formatIPv4,
  IPV6,
  MALFORMED,
  MAX_LINE_BYTES,
  type LineClient,
} from './client-ip.ts';

const NEWLINE = 0x0a;
const MIN_CAPACITY = 1 << 12;
// Slots are "taken" when their key is not EMPTY; 0xffffffff (255.255.255.255) is a real
// address too, so it is tracked on the side like every open-addressing table must.
const EMPTY = 0xffffffff;

/** A set of IPv4 addresses (uint32), optionally with a count per address. */
export class IPv4Set {
  #keys: Uint32Array;
  #counts: Uint32Array | undefined;
  #size = 0;
  #shift: number;
  #broadcast = 0;

  constructor(withCounts: boolean, capacity = MIN_CAPACITY) {
    const slots = Math.max(MIN_CAPACITY, 2 ** Math.ceil(Math.log2(capacity)));
    this.#keys = new Uint32Array(slots).fill(EMPTY);
    this.#counts = withCounts ? new Uint32Array(slots) : undefined;
    this.#shift = 32 - Math.log2(slots);
  }

  get size(): number {
    return this.#size + (this.#broadcast > 0 ? 1 : 0);
  }

  get counted(): boolean {
    return this.#counts !== undefined;
  }

  /** Adds `count` requests from `ip`. */
  add(ip: number, count = 1): void {
    if (ip === EMPTY) {
      this.#broadcast += count;
      return;
    }
    const keys = this.#keys;
    const mask = keys.length - 1;
    // Fibonacci hashing: the top bits of key * 2^32/phi spread sequential addresses well.
    let slot = Math.imul(ip, 0x9e3779b1) >>> this.#shift;
    for (;;) {
      const key = keys[slot]!;
      if (key === ip) break;
      if (key === EMPTY) {
        keys[slot] = ip;
        this.#size++;
        if (this.#size * 4 > keys.length * 3) {
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

  /**
   * Makes room for `more` new addresses up front. Merging needs it: another table hands its
   * keys over in hash order, and inserting those into a table that keeps doubling on the way
   * piles them into one long probe run (a 300x slowdown measured on 430k addresses).
   */
  reserve(more: number): void {
    const needed = this.#size + more;
    if (needed * 4 > this.#keys.length * 3)
      this.#grow(2 ** Math.ceil(Math.log2((needed * 4) / 3 + 1)));
  }

  #grow(slots = this.#keys.length * 2): void {
    const oldKeys = this.#keys;
    const oldCounts = this.#counts;
    this.#keys = new Uint32Array(slots).fill(EMPTY);
    this.#counts = oldCounts ? new Uint32Array(slots) : undefined;
    this.#shift = 32 - Math.log2(slots);
    this.#size = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const key = oldKeys[i]!;
      if (key !== EMPTY) this.add(key, oldCounts ? oldCounts[i]! : 1);
    }
  }

  /** The addresses and their counts as dense arrays: what a worker sends back. */
  toArrays(): { keys: Uint32Array; counts: Uint32Array | undefined } {
    const keys = new Uint32Array(this.size);
    const counts = this.#counts ? new Uint32Array(this.size) : undefined;
    let n = 0;
    const own = this.#keys;
    for (let i = 0; i < own.length; i++) {
      if (own[i] === EMPTY) continue;
      keys[n] = own[i]!;
      if (counts) counts[n] = this.#counts![i]!;
      n++;
    }
    if (this.#broadcast > 0) {
      keys[n] = EMPTY;
      if (counts) counts[n] = this.#broadcast;
    }
    return { keys, counts };
  }

  /** Every address with its count (1 when counts are not kept). */
  *entries(): Generator<[number, number]> {
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== EMPTY) yield [keys[i]!, this.#counts ? this.#counts[i]! : 1];
    }
    if (this.#broadcast > 0) yield [EMPTY, this.#broadcast];
  }
}

/** What one scan (a file, or one byte range of it) found, compact enough to send back. */
export interface TallyResult {
  readonly total: number;
  readonly malformed: number;
  readonly bytes: number;
  readonly ipv4: Uint32Array;
  /** Requests per address of `ipv4`, only with `--top`. */
  readonly ipv4Counts: Uint32Array | undefined;
  readonly ipv6: [string, number][];
}

/**
 * Counts lines fed to it in chunks of any size. Lines that straddle chunks are carried;
 * a line longer than MAX_LINE_BYTES is counted as malformed without being held in memory.
 */
export class Tally {
  total = 0;
  malformed = 0;
  bytes = 0;
  readonly ipv4: IPv4Set;
  readonly ipv6 = new Map<string, number>();
  readonly #slot: LineClient = { ipv6: '' };
  #carry: Uint8Array[] = [];
  #carryBytes = 0;
  #overlong = false;

  constructor(withCounts: boolean) {
    this.ipv4 = new IPv4Set(withCounts);
  }

  /** Scans every complete line of `chunk`; keeps the unfinished tail for the next one. */
  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    let pos = 0;
    if (this.#carryBytes > 0 || this.#overlong) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        this.#hold(chunk);
        return;
      }
      this.#hold(chunk.subarray(0, nl));
      this.#finishCarried();
      pos = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl < 0) break;
      this.#line(chunk, pos, nl);
      pos = nl + 1;
    }
    if (pos < chunk.length) this.#hold(chunk.subarray(pos));
  }

  /** The input ended: count its last line if it had no final newline. */
  end(): void {
    if (this.#carryBytes > 0 || this.#overlong) this.#finishCarried();
  }

  #hold(part: Uint8Array): void {
    if (this.#overlong) return;
    if (this.#carryBytes + part.length > MAX_LINE_BYTES) {
      this.#overlong = true;
      this.#carry = [];
      this.#carryBytes = 0;
      return;
    }
    // Copy: the caller may reuse the chunk's memory.
    this.#carry.push(Uint8Array.prototype.slice.call(part));
    this.#carryBytes += part.length;
  }

  #finishCarried(): void {
    if (this.#overlong) {
      this.total++;
      this.malformed++;
    } else {
      const line = Buffer.concat(this.#carry, this.#carryBytes);
      this.#line(line, 0, line.length);
    }
    this.#carry = [];
    this.#carryBytes = 0;
    this.#overlong = false;
  }

  #line(bytes: Uint8Array, start: number, end: number): void {
    const kind = classifyLine(bytes, start, end, this.#slot);
    if (kind === BLANK) return;
    this.total++;
    if (kind >= 0) this.ipv4.add(kind);
    else if (kind === MALFORMED) this.malformed++;
    else if (kind === IPV6)
      this.ipv6.set(this.#slot.ipv6, (this.ipv6.get(this.#slot.ipv6) ?? 0) + 1);
  }

  toResult(): TallyResult {
    const { keys, counts } = this.ipv4.toArrays();
    return {
      total: this.total,
      malformed: this.malformed,
      bytes: this.bytes,
      ipv4: keys,
      ipv4Counts: counts,
      ipv6: [...this.ipv6],
    };
  }
}

/** Distinct clients of several scans together: the exact union, with summed counts. */
export class ClientUnion {
  total = 0;
  malformed = 0;
  bytes = 0;
  readonly ipv4: IPv4Set;
  readonly ipv6 = new Map<string, number>();

  constructor(withCounts: boolean, expected = 0) {
    this.ipv4 = new IPv4Set(withCounts, Math.ceil(expected / 0.7));
  }

  get ips(): number {
    return this.ipv4.size + this.ipv6.size;
  }

  add(result: TallyResult): void {
    this.total += result.total;
    this.malformed += result.malformed;
    this.bytes += result.bytes;
    const { ipv4, ipv4Counts } = result;
    this.ipv4.reserve(ipv4.length);
    for (let i = 0; i < ipv4.length; i++) this.ipv4.add(ipv4[i]!, ipv4Counts ? ipv4Counts[i]! : 1);
    for (const [ip, count] of result.ipv6) this.ipv6.set(ip, (this.ipv6.get(ip) ?? 0) + count);
  }

  /**
   * The `k` busiest clients, busiest first; ties go to IPv4 before IPv6, then the lower
   * address, so the answer is the same whatever order workers finished in.
   */
  top(k: number): { ip: string; requests: number }[] {
    if (k <= 0) return [];
    type Entry = { key: number | string; requests: number };
    const before = (a: Entry, b: Entry): boolean =>
      a.requests !== b.requests
        ? a.requests > b.requests
        : typeof a.key !== typeof b.key
          ? typeof a.key === 'number'
          : a.key < b.key;
    const best: Entry[] = [];
    const consider = (entry: Entry): void => {
      const last = best[best.length - 1];
      if (best.length === k && last !== undefined && !before(entry, last)) return;
      let at = best.length;
      while (at > 0 && before(entry, best[at - 1]!)) at--;
      best.splice(at, 0, entry);
      if (best.length > k) best.pop();
    };
    for (const [key, requests] of this.ipv4.entries()) consider({ key, requests });
    for (const [key, requests] of this.ipv6) consider({ key, requests });
    return best.map(({ key, requests }) => ({
      ip: typeof key === 'number' ? formatIPv4(key) : key,
      requests,
    }));
  }
}
