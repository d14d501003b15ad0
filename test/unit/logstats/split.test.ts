import { describe, expect, it } from 'vitest';
import {
  MAX_BATCH_FILES,
  MIN_AUTO_RANGE_BYTES,
  planRanges,
  planTasks,
  SMALL_FILE_BYTES,
  type ScanRange,
} from '../../../src/logstats/split.ts';

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

describe('planTasks', () => {
  /** Each file's index in the order given, as the tasks cover it: every byte exactly once. */
  const covered = (tasks: ReturnType<typeof planTasks>): Map<number, [number, number][]> => {
    const parts = new Map<number, [number, number][]>();
    const ranges: ScanRange[] = tasks.flatMap((t) => (t.kind === 'range' ? [t.range] : t.files));
    for (const r of ranges) parts.set(r.file, [...(parts.get(r.file) ?? []), [r.start, r.end]]);
    return parts;
  };

  it('counts small files many to a task, in the order given, and big ones alone', () => {
    const files = [
      ...Array.from({ length: 30 }, (_, i) => file(`s${i}`, 1000 + i)),
      file('big', 20 * MB),
    ];
    const tasks = planTasks(files, 2);
    expect(tasks[0]).toEqual({
      kind: 'range',
      range: { file: 30, path: 'big', start: 0, end: 20 * MB, gzip: false },
    });
    const batched = tasks.slice(1).flatMap((t) => (t.kind === 'files' ? t.files : []));
    expect(batched.map((r) => r.file)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(tasks.slice(1).every((t) => t.kind === 'files')).toBe(true);
    const parts = covered(tasks);
    files.forEach((f, i) => expect(parts.get(i)).toEqual([[0, f.size]]));
  });

  it('never puts more than MAX_BATCH_FILES in a task, nor a file past SMALL_FILE_BYTES', () => {
    const files = [
      ...Array.from({ length: 2500 }, (_, i) => file(`s${i}`, 10)),
      file('medium', SMALL_FILE_BYTES + 1),
      file('edge', SMALL_FILE_BYTES),
    ];
    const tasks = planTasks(files, 4);
    for (const t of tasks)
      if (t.kind === 'files') expect(t.files.length).toBeLessThanOrEqual(MAX_BATCH_FILES);
    const alone = tasks
      .filter((t) => t.kind === 'range')
      .map((t) => t.kind === 'range' && t.range.path);
    expect(alone).toEqual(['medium']);
    expect(covered(tasks).size).toBe(files.length);
  });

  it('leaves the ranges of a file it cuts as ranges, however small (--split-size)', () => {
    const tasks = planTasks([file('a', 300 * 1024), file('b', 10)], 2, 64 * 1024);
    const ranges = tasks.filter((t) => t.kind === 'range');
    expect(ranges.length).toBeGreaterThan(1);
    expect(ranges.every((t) => t.kind === 'range' && t.range.path === 'a')).toBe(true);
    const parts = covered(tasks)
      .get(0)!
      .sort((x, y) => x[0] - y[0]);
    expect(parts[0]![0]).toBe(0);
    expect(parts.at(-1)![1]).toBe(300 * 1024);
    for (let i = 1; i < parts.length; i++) expect(parts[i]![0]).toBe(parts[i - 1]![1]);
  });

  // The run plans the files it could stat, and numbers each range by its input.
  it("numbers each range by its file's own index where it has one", () => {
    const files = [
      { ...file('a', 10), index: 7 },
      { ...file('big', 3 * MB), index: 9 },
      { ...file('b', 20), index: 12 },
    ];
    const tasks = planTasks(files, 2, MB);
    expect(tasks.filter((t) => t.kind === 'range').map((t) => t.range.file)).toEqual([9, 9, 9]);
    const batched = tasks.flatMap((t) => (t.kind === 'files' ? t.files : []));
    expect(batched.map((r) => [r.file, r.path])).toEqual([
      [7, 'a'],
      [12, 'b'],
    ]);
    expect(planRanges(files, 2, MB).map((r) => r.file)).toEqual([9, 9, 9, 12, 7]);
  });

  it('shares small files among the workers rather than in one batch', () => {
    const tasks = planTasks(
      Array.from({ length: 400 }, (_, i) => file(`s${i}`, 64 * 1024)),
      2,
    );
    expect(tasks.length).toBeGreaterThanOrEqual(2);
  });
});
