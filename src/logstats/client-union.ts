/**
 * Distinct clients of several scans together (files, byte ranges, a day's parts): the exact
 * union of their compact sets, with summed counts, and the busiest clients. Pure.
 */
import { formatIPv4 } from './client-ip.ts';
import { HeldRuns } from './held-runs.ts';
import { unionRun, unionSize, visitUnion, type IPv4Run } from './ipv4-set.ts';
import { unionRunIPv6, unionSizeIPv6, visitUnionIPv6, type IPv6Run } from './ipv6-set.ts';
import { formatIPv6 } from './ipv6.ts';
import type { TallyResult } from './tally.ts';

/**
 * Distinct clients of several scans together: the exact union, with summed counts. It holds
 * the scans' runs, merging them as they pile up (held-runs.ts).
 */
export class ClientUnion {
  total = 0;
  malformed = 0;
  bytes = 0;
  readonly #runs: HeldRuns<IPv4Run>;
  readonly #ipv6: HeldRuns<IPv6Run>;
  readonly #withCounts: boolean;

  /** `withCounts`: the union will be asked for its busiest clients (the runs carry counts). */
  constructor(withCounts = false) {
    this.#withCounts = withCounts;
    this.#runs = new HeldRuns((runs) => unionRun(runs, withCounts));
    this.#ipv6 = new HeldRuns((runs) => unionRunIPv6(runs, withCounts));
  }

  get ips(): number {
    return unionSize(this.#runs.runs) + unionSizeIPv6(this.#ipv6.runs);
  }

  add(result: Pick<TallyResult, 'total' | 'malformed' | 'bytes' | 'ipv4' | 'ipv6'>): void {
    this.total += result.total;
    this.malformed += result.malformed;
    this.bytes += result.bytes;
    const run = result.ipv4;
    if (run.count > 0) this.#runs.add(this.#withCounts ? run : { ...run, counts: undefined });
    const v6 = result.ipv6;
    if (v6.count > 0) this.#ipv6.add(this.#withCounts ? v6 : { ...v6, counts: undefined });
  }

  /** Adds everything another union holds (its runs are shared, not copied). */
  absorb(other: ClientUnion): void {
    this.total += other.total;
    this.malformed += other.malformed;
    this.bytes += other.bytes;
    const strip = <R extends { counts: Uint32Array | undefined }>(run: R): R =>
      this.#withCounts || !run.counts ? run : { ...run, counts: undefined };
    for (const run of other.#runs.runs) this.#runs.add(strip(run));
    for (const run of other.#ipv6.runs) this.#ipv6.add(strip(run));
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
    // Most clients fall short of the list: skip them before making an entry or any text.
    const short = (requests: number): boolean =>
      best.length === k && requests < best[best.length - 1]!.requests;
    visitUnion(this.#runs.runs, (key, requests) => {
      if (!short(requests)) consider({ key, requests });
    });
    visitUnionIPv6(this.#ipv6.runs, (words, requests) => {
      if (!short(requests)) consider({ key: formatIPv6(words), requests });
    });
    return best.map(({ key, requests }) => ({
      ip: typeof key === 'number' ? formatIPv4(key) : key,
      requests,
    }));
  }
}
