import { describe, expect, it } from 'vitest';
import { HeldRuns, MAX_HELD, soleRun } from '../../../src/logstats/held-runs.ts';

interface Run {
  readonly count: number;
  readonly clients: ReadonlySet<number>;
}

const runOf = (clients: Iterable<number>): Run => {
  const set = new Set(clients);
  return { count: set.size, clients: set };
};

/** 100 runs of 50 clients from `clientOf(run, i)`; how many merges, the most held, the union. */
function holdAll(clientOf: (run: number, i: number) => number) {
  let merges = 0;
  const held = new HeldRuns<Run>((runs) => {
    merges++;
    return runOf(runs.flatMap((r) => [...r.clients]));
  });
  let most = 0;
  for (let run = 0; run < 100; run++) {
    held.add(runOf(Array.from({ length: 50 }, (_, i) => clientOf(run, i))));
    most = Math.max(most, held.runs.length);
  }
  const union = new Set(held.runs.flatMap((r) => [...r.clients]));
  return { merges, most, union: union.size };
}

describe('HeldRuns', () => {
  it('keeps merging runs that share their clients, holding at most MAX_HELD', () => {
    const shared = holdAll((run, i) => (run * 7 + i) % 60);
    expect(shared.union).toBe(60);
    expect(shared.most).toBe(MAX_HELD);
    expect(shared.merges).toBeGreaterThan(8);
  });

  it('merges runs that share no clients ever more rarely: each merge would only copy them', () => {
    const apart = holdAll((run, i) => run * 50 + i);
    expect(apart.union).toBe(5000);
    // At 17 runs (unshared: the limit doubles), at 33, at 65.
    expect(apart.merges).toBe(3);
  });
});

describe('soleRun: the union of runs of which one holds addresses', () => {
  const run = (count: number, counted = false) => ({
    count,
    counts: counted ? new Uint32Array(count) : undefined,
  });
  const day = run(5);
  const counted = run(5, true);
  it.each([
    ['one run among empty ones', [run(0), day, run(0)], false, day],
    ['one run alone', [day], false, day],
    ['a run with counts, counts asked for', [run(0), counted], true, counted],
    ['two runs with addresses', [day, run(3)], false, undefined],
    ['no run with addresses', [run(0), run(0)], false, undefined],
    ['no runs', [], false, undefined],
    ['counts asked for, the run has none', [day], true, undefined],
    ['counts not asked for, the run has them', [counted], false, undefined],
  ])('%s', (_, runs, withCounts, sole) => {
    expect(soleRun(runs, withCounts)).toBe(sole);
  });
});
