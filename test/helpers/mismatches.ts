/**
 * One assertion for a generated table of thousands of cases. An `expect()` call costs tens of
 * microseconds, more than most of the rules these tables check: a loop of 100,000 of them
 * spent seconds in the assertion library. This records only the cases that disagree (each
 * with its input, what the code gave and what the rule wants), for one `expect` at the end,
 * so a failure still names every case that failed.
 */
import { isDeepStrictEqual } from 'node:util';

export interface Mismatch {
  readonly input: unknown;
  readonly got: unknown;
  readonly want: unknown;
}

export class Mismatches {
  readonly found: Mismatch[] = [];

  /** Records `input` when `got` and `want` differ (deep, strict equality). */
  check(input: unknown, got: unknown, want: unknown): void {
    if (!isDeepStrictEqual(got, want)) this.found.push({ input, got, want });
  }
}
