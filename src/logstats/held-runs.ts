/**
 * The runs a union holds. Parts keep arriving (a batch's clients, each stretch of a big file),
 * and most share their clients; holding every run would grow with the input, not with the
 * clients. So once more than MAX_HELD pile up, the smaller ones are merged into one run of
 * their union: each address is then held about once, and each is merged a few times at most.
 */

/** Runs held before the smaller ones are merged. */
export const MAX_HELD = 16;
/** How many of the smallest runs a merge takes (over half: the count drops to MAX_HELD / 2). */
const MERGED = MAX_HELD / 2 + 1;

/** A list of runs that merges its smaller ones as it grows (see the module comment). */
export class HeldRuns<R extends { readonly count: number }> {
  #runs: R[] = [];
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
    if (this.#runs.length <= MAX_HELD) return;
    const bySize = [...this.#runs].sort((a, b) => a.count - b.count);
    this.#runs = [...bySize.slice(MERGED), this.#merge(bySize.slice(0, MERGED))];
  }
}
