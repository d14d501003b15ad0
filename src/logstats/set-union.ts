/**
 * The clients of many small scans in one set: a batch of small files adds each file's runs
 * here, and hands the parent one run for all of them instead of one per file (merging
 * thousands of tiny runs bucket by bucket was half of counting 100,000 one-line files).
 * Pure.
 */
import { IPv4Set } from './ipv4-set.ts';
import { MisreadLines } from './formats/misread.ts';
import { IPv6Set } from './ipv6-set.ts';
import { PANEL_NAMES, PanelCounts } from './panels.ts';
import { compareKeys } from './timestamp.ts';
import type { GroupResult, TallyResult } from './tally.ts';

/** Counts and clients of one whole or one group, as sets that take runs. */
class Sets {
  total = 0;
  malformed = 0;
  readonly ipv4: IPv4Set;
  readonly ipv6: IPv6Set;
  /** A group's panels (--panels). The whole's are not kept: each file sends its own. */
  panels: PanelCounts | undefined;

  constructor(withCounts: boolean) {
    this.ipv4 = new IPv4Set(withCounts);
    this.ipv6 = new IPv6Set(withCounts);
  }

  add(part: Pick<TallyResult, 'total' | 'malformed' | 'ipv4' | 'ipv6'>): void {
    this.total += part.total;
    this.malformed += part.malformed;
    this.ipv4.addRun(part.ipv4);
    this.ipv6.addRun(part.ipv6);
  }

  addGroup(group: GroupResult): void {
    this.add(group);
    if (group.panels) (this.panels ??= new PanelCounts(PANEL_NAMES)).absorb(group.panels);
  }

  release(): void {
    this.ipv4.release();
    this.ipv6.release();
  }
}

/** The exact union of several scans' results, with --by groups and JSON fields. */
export class SetUnion {
  bytes = 0;
  filtered = 0;
  readonly #withCounts: boolean;
  readonly #whole: Sets;
  readonly #groups = new Map<string, Sets>();
  readonly #fields = new Set<string>();
  readonly #misread = new MisreadLines();
  #grouped = false;

  /** `withCounts`: keep requests per client (for --top). */
  constructor(withCounts: boolean) {
    this.#withCounts = withCounts;
    this.#whole = new Sets(withCounts);
  }

  add(part: TallyResult): void {
    this.bytes += part.bytes;
    this.filtered += part.filtered;
    this.#whole.add(part);
    for (const field of part.fields ?? []) this.#fields.add(field);
    this.#misread.absorb(part.misread);
    if (part.groups) this.#grouped = true;
    for (const group of part.groups ?? []) {
      let sets = this.#groups.get(group.key);
      if (sets === undefined) this.#groups.set(group.key, (sets = new Sets(this.#withCounts)));
      sets.addGroup(group);
    }
  }

  /** The union as one scan's result. */
  toResult(): TallyResult {
    const whole = this.#whole;
    const misread = this.#misread.toResult();
    return {
      total: whole.total,
      malformed: whole.malformed,
      filtered: this.filtered,
      bytes: this.bytes,
      ipv4: whole.ipv4.toRun(),
      ipv6: whole.ipv6.toRun(),
      ...(this.#grouped
        ? {
            groups: [...this.#groups]
              .sort(([a], [b]) => compareKeys(a, b))
              .map(([key, sets]) => ({
                key,
                total: sets.total,
                malformed: sets.malformed,
                ipv4: sets.ipv4.toRun(),
                ipv6: sets.ipv6.toRun(),
                ...(sets.panels ? { panels: sets.panels.toData() } : {}),
              })),
          }
        : {}),
      ...(this.#fields.size > 0 ? { fields: [...this.#fields] } : {}),
      ...(misread ? { misread } : {}),
    };
  }

  /** Done with the union: its sets' memory goes to the next one in this process. */
  release(): void {
    this.#whole.release();
    for (const sets of this.#groups.values()) sets.release();
  }
}
