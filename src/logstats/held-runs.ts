/**
 * The runs a union holds. Parts keep arriving (a batch's clients, each stretch of a big file),
 * and most share their clients; holding every run would grow with the input, not with the
 * clients. So once more than MAX_HELD pile up, the smaller ones are merged into one run of
 * their union: each address is then held about once, and each is merged a few times at most.
 * Runs that share (almost) no clients gain nothing from a merge but a copy of them all, held
 * beside the originals until they are collected: after such a merge, twice as many runs are
 * held before the next.
 */

/** Runs held before the smaller ones are merged. */
export const MAX_HELD = 16;
/** A merge whose union keeps over 9/10 of what it merged found them sharing few clients. */
const UNSHARED_NUM = 9;
const UNSHARED_DEN = 10;

/** A list of runs that merges its smaller ones as it grows (see the module comment). */
export class HeldRuns<R extends { readonly count: number }> {
  #runs: R[] = [];
  #most = MAX_HELD;
  readonly #merge: (runs: readonly R[]) => R;

  /** `merge`: the union of some runs, as one run. */
  constructor(merge: (runs: readonly R[]) => R) {
    this.#merge = merge;
  }

  get runs(): readonly R[] {
    return this.#runs;
  }

  add(run: R): void {
    if (run.count === 0) return;
    this.#runs.push(run);
    if (this.#runs.length <= this.#most) return;
    const bySize = [...this.#runs].sort((a, b) => a.count - b.count);
    const merging = bySize.slice(0, this.#runs.length - this.#most / 2);
    const merged = this.#merge(merging);
    this.#runs = [...bySize.slice(merging.length), merged];
    const held = merging.reduce((sum, r) => sum + r.count, 0);
    if (merged.count * UNSHARED_DEN > held * UNSHARED_NUM) this.#most *= 2;
  }
}

/**
 * The one run of `runs` that holds any address, when only one does and it carries counts
 * exactly when `withCounts` asks: their union is that run, unchanged (a run's addresses are
 * distinct already). A `--by` scan's whole is the union of its groups, and most scans hold
 * one group with clients (a day): its union walked and copied the day's run for nothing.
 */
export function soleRun<R extends { readonly count: number; readonly counts?: unknown }>(
  runs: readonly R[],
  withCounts: boolean,
): R | undefined {
  let sole: R | undefined;
  for (const run of runs) {
    if (run.count === 0) continue;
    if (sole !== undefined) return undefined;
    sole = run;
  }
  return sole !== undefined && (sole.counts !== undefined) === withCounts ? sole : undefined;
}
