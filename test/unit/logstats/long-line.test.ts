import { describe, expect, it } from 'vitest';
import { LongLine } from '../../../src/logstats/long-line.ts';
import { awkwardLine, clientIp, reference, seeded } from '../../helpers/client-rule.ts';
import { Mismatches } from '../../helpers/mismatches.ts';

/**
 * Feeds `line` to a LongLine in pieces cut at `cuts`, and applies the rule to what it keeps;
 * or says how much it kept, when that is not the few bytes it should be.
 */
function viaLongLine(holder: LongLine, line: string, cuts: readonly number[]): string {
  const bytes = Buffer.from(line);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    const to = Math.min(Math.max(cut, from), bytes.length);
    holder.append(bytes, from, to);
    from = to;
  }
  const kept = holder.finish();
  if (kept.length >= 64) return `kept ${kept.length} bytes`;
  return clientIp(Buffer.from(kept).toString('latin1'));
}

describe('LongLine: a line in pieces, kept as the bytes that decide its client', () => {
  const holder = new LongLine();

  it.each([
    ['1.2.3.4 - - [x]'],
    [`1.2.3.4 - - [${'x'.repeat(5_000_000)}]`],
    [`${' '.repeat(3_000_000)}1.2.3.4 - - [x]`],
    [`1.2.3.4${' '.repeat(3_000_000)}- - [x]`],
    [`1.2.3.4${'\t'.repeat(3_000_000)} - x`],
    [`1.2.3.4 GET ${'y'.repeat(3_000_000)}`],
    [`1.2.3.4 GET ${'y'.repeat(3_000_000)} - late dash`],
    [`1.2.3.4${' '.repeat(1_000_000)},junk`],
    [`${'1'.repeat(2_000_000)} - - [x]`],
    [`2001:db8::1${' '.repeat(70_000)}`],
    [`${' '.repeat(70_000)}`],
    [` - ${'x'.repeat(70_000)}`],
  ])('%# keeps the answer of a long line', (line) => {
    const expected = reference(line);
    for (const cuts of [[], [1], [7, 8, 9], [65_536, 65_537, 1_000_000, 2_999_999]]) {
      expect(viaLongLine(holder, line, cuts)).toBe(expected);
    }
  });

  it('agrees with the rule on 20,000 awkward lines cut anywhere, spaces stretched', () => {
    const next = seeded(3);
    const wrong = new Mismatches();
    for (let i = 0; i < 20_000; i++) {
      let line = awkwardLine(next, 9);
      // Stretch some runs of spaces and tabs: their length must not matter.
      if (next(3) === 0) line = line.replace(/[ \t]/g, (c) => c.repeat(1 + next(20)));
      const cuts = Array.from({ length: next(5) }, () => next(line.length + 1)).sort(
        (a, b) => a - b,
      );
      wrong.check({ line, cuts }, viaLongLine(holder, line, cuts), reference(line));
    }
    expect(wrong.found).toEqual([]);
  });
});
