/**
 * Which lines a scan leaves out (`--since`, `--until`, `--exclude-ip`, `--status`,
 * `--ignore-crawlers`): the rules as they
 * travel with a task, and the check a tally makes of each line it reads. A line left out is
 * counted as filtered, nothing else. Pure.
 */
import { MALFORMED } from './client-ip.ts';
import { isCrawler } from './crawlers.ts';
import { parseIpBlock, statusMask, type IpBlock, type TimeBound } from './filter-values.ts';
import type { LineRequest } from './request-fields.ts';

/** What the command line asks to leave out; each value already checked (filter-values.ts). */
export interface FilterRules {
  /** Lines before this are left out. */
  readonly since: TimeBound | undefined;
  /** Lines after this are left out. */
  readonly until: TimeBound | undefined;
  /** Clients left out: canonical blocks (`10.0.0.0/8`, `2001:db8::1`). */
  readonly excludeIps: readonly string[];
  /** Only lines with these status codes or classes count (`404`, `4xx`); undefined: any. */
  readonly statuses?: readonly string[] | undefined;
  /** Lines from crawlers' user agents are left out (isbot). */
  readonly ignoreCrawlers?: boolean | undefined;
}

/** The most blocks --exclude-ip takes: every task of a run carries them all. */
export const MAX_EXCLUDED_BLOCKS = 100_000;

/** A line's kind when a filter left it out (the kinds of client-ip.ts are -1 to -3). */
export const FILTERED = -4;

/** Whether lines' times must be read for `filter`. */
export const filtersTimes = (filter: FilterRules | undefined): boolean =>
  filter !== undefined && (filter.since !== undefined || filter.until !== undefined);

/** A line's time as a reader found it: its fields as written, and its offset. */
export interface LineTime {
  /** The time as written (in its own offset), as seconds since 1970; NaN without one. */
  seconds: number;
  /** Its offset from UTC in minutes; 0 for a time written without one (taken as UTC). */
  offsetMinutes: number;
}

/** The check a tally makes of each line: built once per scan from its FilterRules. */
export class LineFilter {
  readonly #since: TimeBound | undefined;
  readonly #until: TimeBound | undefined;
  readonly #times: boolean;
  readonly #ips: IpRanges | undefined;
  /** Status code -> whether it counts (--status); undefined: every code, and none, counts. */
  readonly #statuses: Uint8Array | undefined;
  readonly #crawlers: boolean;

  constructor(rules: FilterRules) {
    this.#since = rules.since;
    this.#until = rules.until;
    this.#times = filtersTimes(rules);
    this.#ips = rules.excludeIps.length > 0 ? rangesOf(rules.excludeIps) : undefined;
    this.#statuses = rules.statuses && statusMask(rules.statuses);
    this.#crawlers = rules.ignoreCrawlers === true;
  }

  /** Whether some clients are left out (and the fast path's addresses must be looked at). */
  get excludesClients(): boolean {
    return this.#ips !== undefined;
  }

  /**
   * A read line's kind (an IPv4 address, IPV6 with `ipv6`, or MALFORMED), or FILTERED when a
   * filter leaves it out. With a time filter, a line without a readable time is MALFORMED:
   * whether it is in the window cannot be told. With --status, a line without a status is
   * left out (it has none of the codes asked for); `request` is read only for --status and
   * --ignore-crawlers.
   */
  verdict(kind: number, ipv6: Uint32Array, time: LineTime, request?: LineRequest): number {
    if (this.#times) {
      const written = time.seconds;
      if (Number.isNaN(written)) return MALFORMED;
      const utc = written - time.offsetMinutes * 60;
      const since = this.#since;
      if (since !== undefined && (since.instant ? utc : written) < since.seconds) return FILTERED;
      const until = this.#until;
      if (until !== undefined && (until.instant ? utc : written) > until.seconds) return FILTERED;
    }
    if (request !== undefined) {
      const statuses = this.#statuses;
      if (statuses !== undefined && !(request.status >= 0 && statuses[request.status] === 1)) {
        return FILTERED;
      }
      const agent = request.agent;
      if (this.#crawlers && agent !== undefined && isCrawler(agent)) return FILTERED;
    }
    const ips = this.#ips;
    if (ips === undefined || kind === MALFORMED) return kind;
    return (kind >= 0 ? ips.hasIPv4(kind) : ips.hasIPv6(ipv6)) ? FILTERED : kind;
  }

  /** Whether the IPv4 client `ip` is left out. */
  excludesIPv4(ip: number): boolean {
    return this.#ips?.hasIPv4(ip) ?? false;
  }
}

/** The last blocks parsed, and their ranges: a batch's files share one list. */
let lastBlocks: readonly string[] | undefined;
let lastRanges: IpRanges | undefined;

function rangesOf(blocks: readonly string[]): IpRanges {
  const same =
    lastBlocks !== undefined &&
    lastBlocks.length === blocks.length &&
    lastBlocks.every((block, i) => block === blocks[i]);
  if (!same || lastRanges === undefined) {
    lastRanges = new IpRanges(blocks);
    lastBlocks = blocks;
  }
  return lastRanges;
}

/**
 * Blocks of addresses as sorted, disjoint ranges, looked up by binary search: IPv4 as
 * numbers, IPv6 as four 32-bit words a bound.
 */
export class IpRanges {
  readonly #v4First: Float64Array;
  readonly #v4Last: Float64Array;
  readonly #v6First: Uint32Array;
  readonly #v6Last: Uint32Array;

  /** `blocks`: texts parseIpBlock takes; one it refuses throws (the rules were checked). */
  constructor(blocks: readonly string[]) {
    const v4: [number, number][] = [];
    const v6: [bigint, bigint][] = [];
    for (const text of blocks) {
      const block: IpBlock | string = parseIpBlock(text);
      if (typeof block === 'string') throw new Error(`--exclude-ip "${text}": ${block}`);
      if (block.v4) v4.push([block.first, block.last]);
      else v6.push([toBig(block.first), toBig(block.last)]);
    }
    const merged4 = mergeRanges(v4, (last) => last + 1);
    this.#v4First = Float64Array.from(merged4, ([first]) => first);
    this.#v4Last = Float64Array.from(merged4, ([, last]) => last);
    const merged6 = mergeRanges(v6, (last) => last + 1n);
    this.#v6First = new Uint32Array(merged6.length * 4);
    this.#v6Last = new Uint32Array(merged6.length * 4);
    merged6.forEach(([first, last], i) => {
      fromBig(first, this.#v6First, i * 4);
      fromBig(last, this.#v6Last, i * 4);
    });
  }

  hasIPv4(ip: number): boolean {
    const first = this.#v4First;
    // The last range that starts at or before `ip`.
    let lo = 0;
    let hi = first.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (first[mid]! <= ip) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && ip <= this.#v4Last[lo - 1]!;
  }

  hasIPv6(words: Uint32Array): boolean {
    const first = this.#v6First;
    let lo = 0;
    let hi = first.length / 4;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWords(first, mid * 4, words) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && compareWords(this.#v6Last, (lo - 1) * 4, words) >= 0;
  }
}

/** `ranges` sorted, with overlapping and adjacent ones (`next` of a last is a first) joined. */
function mergeRanges<T extends number | bigint>(ranges: [T, T][], next: (last: T) => T): [T, T][] {
  ranges.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const merged: [T, T][] = [];
  for (const [first, last] of ranges) {
    const previous = merged.at(-1);
    if (previous !== undefined && first <= next(previous[1])) {
      if (last > previous[1]) previous[1] = last;
    } else {
      merged.push([first, last]);
    }
  }
  return merged;
}

/** Words `at` of `bound` against `words`: negative, 0 or positive, as the addresses compare. */
function compareWords(bound: Uint32Array, at: number, words: Uint32Array): number {
  for (let i = 0; i < 4; i++) {
    const difference = bound[at + i]! - words[i]!;
    if (difference !== 0) return difference;
  }
  return 0;
}

const toBig = (words: Uint32Array): bigint =>
  words.reduce((value, word) => (value << 32n) | BigInt(word), 0n);

function fromBig(value: bigint, out: Uint32Array, at: number): void {
  for (let i = 3; i >= 0; i--) out[at + i] = Number((value >> BigInt((3 - i) * 32)) & 0xffffffffn);
}
