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

/**
 * The keys on which two maps differ, each with both values; none when the maps are equal.
 * (`expect(map).toEqual(other)` compares entry by entry in the assertion library: half a
 * second for a map of 200,000 numbers.)
 */
export function mapDifferences<K, V>(got: ReadonlyMap<K, V>, want: ReadonlyMap<K, V>): Mismatch[] {
  const wrong = new Mismatches();
  for (const [key, value] of want) {
    if (got.has(key)) wrong.check(key, got.get(key), value);
    else wrong.found.push({ input: key, got: 'absent', want: value });
  }
  for (const [key, value] of got) {
    if (!want.has(key)) wrong.found.push({ input: key, got: value, want: 'absent' });
  }
  return wrong.found;
}

/**
 * What two ascending lists do not share, equal elements matched one to one: both lists come
 * back empty exactly when `got` and `want` hold the same numbers, each as often. (Sorting
 * typed arrays and merging is far cheaper than a Set or Map of a few hundred thousand
 * numbers above 2^30, which V8 keeps as boxed doubles.)
 */
export function sortedDifferences(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
): { onlyGot: number[]; onlyWant: number[] } {
  const onlyGot: number[] = [];
  const onlyWant: number[] = [];
  let i = 0;
  let j = 0;
  while (i < got.length || j < want.length) {
    if (j === want.length || (i < got.length && got[i]! < want[j]!)) onlyGot.push(got[i++]!);
    else if (i === got.length || want[j]! < got[i]!) onlyWant.push(want[j++]!);
    else {
      i++;
      j++;
    }
  }
  return { onlyGot, onlyWant };
}
