/**
 * What the rules ask of a line's time, once a format has read it as written (its fields and
 * offset): its --by group, its time for --since and --until, and its hour for the hours
 * panel. Shared by the formats that read a time into a `Written` (ALB, W3C, --log-format).
 * Pure.
 */
import { filtersTimes } from '../line-filter.ts';
import { hourOf, readsHours } from '../request-fields.ts';
import { groupKey, UNKNOWN, writtenSeconds, type Grouping, type Written } from '../timestamp.ts';
import type { LineFields, ReadRules } from './format.ts';

/** Sets a line's group, time and hour from its time as written. */
export class WrittenTime {
  readonly #by: Grouping | undefined;
  readonly #utc: boolean;
  readonly #times: boolean;
  readonly #hours: boolean;
  /** Whether any of it is wanted: without, a format need not read the time at all. */
  readonly wanted: boolean;

  constructor(rules: ReadRules) {
    this.#by = rules.by;
    this.#utc = rules.utc;
    this.#hours = readsHours(rules);
    this.#times = filtersTimes(rules.filter) || this.#hours;
    this.wanted = this.#by !== undefined || this.#times;
  }

  /** Sets `out.key` (with --by), `out.seconds` and `out.offsetMinutes` from `written`. */
  set(written: Written | undefined, out: LineFields): void {
    if (this.#by !== undefined) {
      out.key = (written && groupKey(written, this.#by, this.#utc)) ?? UNKNOWN;
    }
    if (this.#times) {
      out.seconds = written ? writtenSeconds(written) : NaN;
      out.offsetMinutes = written?.offsetMinutes ?? 0;
    }
  }

  /** With the hours panel, the line's hour from what `set` left (after clearRequest). */
  setHour(written: Written | undefined, out: LineFields): void {
    if (this.#hours && written?.hour !== undefined) {
      out.hour = hourOf(out.seconds, out.offsetMinutes, this.#utc);
    }
  }
}
