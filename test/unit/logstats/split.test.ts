import { describe, expect, it } from 'vitest';
import { MIN_AUTO_RANGE_BYTES, planRanges } from '../../../src/logstats/split.ts';

const MB = 2 ** 20;
const file = (path: string, size: number, gzip = false) => ({ path, size, gzip });

describe('planRanges', () => {
  it('keeps similar files whole, one task each', () => {
    const ranges = planRanges([file('a', 100 * MB), file('b', 100 * MB), file('c', 90 * MB)], 2);
    expect(ranges.map((r) => [r.path, r.start, r.end])).toEqual([
      ['a', 0, 100 * MB],
      ['b', 0, 100 * MB],
      ['c', 0, 90 * MB],
    ]);
  });

  it('shares one big file between all workers, covering every byte once', () => {
    const ranges = planRanges([file('big', 10_000 * MB + 3)], 4);
    expect(ranges).toHaveLength(4);
    const sorted = [...ranges].sort((x, y) => x.start - y.start);
    expect(sorted[0]!.start).toBe(0);
    expect(sorted.at(-1)!.end).toBe(10_000 * MB + 3);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.start).toBe(sorted[i - 1]!.end);
  });

  it('cuts a file much larger than the others, biggest ranges first', () => {
    const ranges = planRanges([file('small', 50 * MB), file('huge', 2000 * MB)], 2);
    expect(ranges.filter((r) => r.path === 'huge').length).toBeGreaterThan(1);
    expect(ranges.at(-1)!.path).toBe('small');
  });

  it.each([
    ['a gzip file', [file('x.gz', 4000 * MB, true)], 1],
    ['a small file', [file('x', MIN_AUTO_RANGE_BYTES)], 1],
    ['an empty file', [file('x', 0)], 1],
  ])('never cuts %s', (_, files, expected) => {
    expect(planRanges(files, 8)).toHaveLength(expected);
  });

  it('honours an explicit piece size', () => {
    expect(planRanges([file('x', 1000)], 2, 100)).toHaveLength(10);
  });
});
