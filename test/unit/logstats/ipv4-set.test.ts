import { describe, expect, it } from 'vitest';
import {
  hashesOf,
  IPv4Set,
  unhashIPv4,
  unionRun,
  unionSize,
  visitUnion,
  type IPv4Run,
} from '../../../src/logstats/ipv4-set.ts';
import { seeded } from '../../helpers/client-rule.ts';
import { sortedDifferences } from '../../helpers/mismatches.ts';

function runOf(ips: readonly number[], counted = false): IPv4Run {
  const set = new IPv4Set(counted);
  for (const ip of ips) set.add(ip);
  const run = set.toRun();
  set.release();
  return run;
}

/** The distinct values of `values`, ascending. */
function distinctSorted(values: ArrayLike<number>): Uint32Array {
  const sorted = Uint32Array.from(values).sort();
  return sorted.filter((value, i) => i === 0 || value !== sorted[i - 1]);
}

/** An address and a count as one number that sorts by address (exact for counts < 2^21). */
const pair = (ip: number, count: number): number => ip * 2 ** 21 + count;
const unpair = (p: number) => ({ ip: Math.floor(p / 2 ** 21), requests: p % 2 ** 21 });

/** Each distinct address of an ascending list, paired with how often it occurs, ascending. */
function countedPairs(sorted: Uint32Array): Float64Array {
  const pairs: number[] = [];
  for (let i = 0, j = 0; i < sorted.length; i = j) {
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    pairs.push(pair(sorted[i]!, j - i));
  }
  return Float64Array.from(pairs);
}

/** True when the hashes come bucket (high 16 bits) by bucket, as unions need them. */
function byBucket(hashes: Uint32Array): boolean {
  return hashes.every((hash, i) => i === 0 || hash >>> 16 >= hashes[i - 1]! >>> 16);
}

describe('IPv4Set runs', () => {
  it('hashes are a bijection', () => {
    const ips = [0, 1, 0x01020304, 0x7fffffff, 0x80000000, 0xffffffff];
    expect([...hashesOf(runOf(ips))].map(unhashIPv4).sort((a, b) => a - b)).toEqual(ips);
  });

  it.each([0, 1, 5, 3000, 200_000])('hands over %d addresses bucket by bucket', (n) => {
    const next = seeded(n + 1);
    // A narrow range so addresses repeat, plus the two that are special in a table.
    const ips = Array.from({ length: n }, () => next(n * 2 + 1));
    if (n > 1) ips.push(0, 0xffffffff, 0);
    const run = runOf(ips);
    const hashes = hashesOf(run);
    const distinct = distinctSorted(ips);
    expect(run.count).toBe(distinct.length);
    expect(byBucket(hashes)).toBe(true);
    // The run holds exactly the distinct addresses, each once.
    const held = Uint32Array.from(hashes, unhashIPv4).sort();
    expect(sortedDifferences(held, distinct)).toEqual({ onlyGot: [], onlyWant: [] });
    // Big runs keep two bytes an address.
    expect(run.lows !== undefined).toBe(run.count >= 1 << 17);
  });

  it('keeps buckets in order when a probe run wraps past the last slot', () => {
    // Addresses whose hashes are the largest: their home slots are the last ones.
    const ips = Array.from({ length: 600 }, (_, i) => unhashIPv4(0xffffffff - i * 97));
    const hashes = hashesOf(runOf([...ips, 1, 2, 3]));
    expect(byBucket(hashes)).toBe(true);
    expect(hashes.length).toBe(603);
  });

  it('keeps a big run with crowded buckets (their sizes need 16 bits)', () => {
    const crowded = Array.from({ length: 1000 }, (_, i) => unhashIPv4(0x00050000 + i * 13));
    const others = Array.from({ length: 140_000 }, (_, i) => i * 3);
    const run = runOf([...crowded, ...others]);
    expect(run.sizes).toBeInstanceOf(Uint16Array);
    expect(distinctSorted(hashesOf(run)).length).toBe(141_000);
    expect(unionSize([run, runOf(crowded.slice(0, 10)), runOf([1, 2])])).toBe(141_002);
  });

  it('counts requests per address through growth', () => {
    const set = new IPv4Set(true);
    for (let round = 0; round < 3; round++) for (let i = 0; i < 50_000; i++) set.add(i * 7);
    set.add(0xffffffff, 5);
    const { keys, counts } = set.toArrays();
    expect(keys.length).toBe(50_001);
    expect(counts![keys.indexOf(0xffffffff)]).toBe(5);
    expect(counts![keys.indexOf(7 * 49_999)]).toBe(3);
    expect(counts![keys.indexOf(0)]).toBe(3);
  });
});

describe("IPv4Set.addAll (the WebAssembly scanner's addresses)", () => {
  // 0.0.0.0 hashes to 0, the mark of an empty slot: it is counted aside, with or without counts.
  it.each([
    ['0.0.0.0 alone', [0], 1],
    ['0.0.0.0 twice among others', [5, 0, 7, 0, 5], 3],
    ['no 0.0.0.0', [1, 2, 3], 3],
    ['0.0.0.0 and 255.255.255.255', [0xffffffff, 0], 2],
  ])('%s', (_, ips, distinct) => {
    for (const counted of [false, true]) {
      const set = new IPv4Set(counted);
      set.addAll(Uint32Array.from(ips), ips.length);
      expect([counted, set.size]).toEqual([counted, distinct]);
      const { keys, counts } = set.toArrays();
      expect(new Set(keys)).toEqual(new Set(ips));
      if (counts)
        expect(counts[[...keys].indexOf(0)] ?? 0).toBe(ips.filter((ip) => ip === 0).length);
      set.release();
    }
  });
});

describe('unions of runs', () => {
  it.each([
    [1, 4000],
    [2, 4000],
    [8, 4000],
    [40, 4000],
    [3, 300_000],
  ])('equals a plain Set union over %d runs of up to %d, counts summed', (k, most) => {
    const next = seeded(k);
    const sent: number[] = [];
    const runs = Array.from({ length: k }, () => {
      const ips = Array.from({ length: next(most) }, () =>
        next(9) === 0 ? 0xffffffff - next(3) : next(most * 5),
      );
      for (const ip of ips) sent.push(ip);
      return runOf(ips, true);
    });
    // Every distinct address with its count: what the plain union of the lists gives.
    const expected = countedPairs(Uint32Array.from(sent).sort());
    expect(unionSize(runs)).toBe(expected.length);
    const visited: number[] = [];
    visitUnion(runs, (ip, requests) => visited.push(pair(ip, requests)));
    // An address visited twice, or missed, or with another count, is left over on one side.
    const { onlyGot, onlyWant } = sortedDifferences(Float64Array.from(visited).sort(), expected);
    expect({ onlyGot: onlyGot.map(unpair), onlyWant: onlyWant.map(unpair) }).toEqual({
      onlyGot: [],
      onlyWant: [],
    });
  });

  it('is empty over no runs', () => {
    expect(unionSize([])).toBe(0);
    visitUnion([], () => expect.unreachable());
  });
});

describe('IPv4Set', () => {
  it('keeps every distinct address through many growths, with counts', () => {
    const set = new IPv4Set(true);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100_000; i++) set.add((i * 2654435761) >>> 0);
    }
    set.add(0); // already there (i = 0): no new address
    set.add(0xffffffff, 5);
    expect(set.size).toBe(100_001);
    const { keys, counts } = set.toArrays();
    expect(new Set(keys).size).toBe(100_001);
    const at = keys.indexOf(0xffffffff);
    expect(counts?.[at]).toBe(5);
    expect(counts?.[keys.indexOf(2654435761)]).toBe(3);
  });
});

describe('IPv4Set against addresses picked to share slots', () => {
  // 100,000 addresses whose hashes follow one another: unkeyed, their slots were one run of
  // 100,000, and each insert walked it (9.1 s to count them, against 0.39 s for random ones).
  const picked = Array.from({ length: 100_000 }, (_, k) => unhashIPv4(0x10000000 + k));

  it.each([
    ['add', (set: IPv4Set) => picked.forEach((ip) => set.add(ip))],
    ['addAll', (set: IPv4Set) => set.addAll(Uint32Array.from(picked), picked.length)],
    ['add, counted', (set: IPv4Set) => picked.forEach((ip) => set.add(ip))],
  ])('keeps their runs of slots short (%s)', (name, fill) => {
    const set = new IPv4Set(name.endsWith('counted'));
    fill(set);
    expect(set.size).toBe(100_000);
    // 100,000 in 262,144 slots at random: the longest run is a few dozen.
    expect(set.longestRun()).toBeLessThan(500);
    expect(distinctSorted(hashesOf(set.toRun()))).toHaveLength(100_000);
    set.release();
  });
});

describe('unionRun', () => {
  const visited = (run: IPv4Run): [number, number][] => {
    const seen: [number, number][] = [];
    visitUnion([run], (ip, requests) => seen.push([ip, requests]));
    return seen.sort((a, b) => a[0] - b[0]);
  };

  it('is the one run that holds addresses when the others hold none, unchanged', () => {
    // A --by scan's whole is the union of its groups: one day and an empty "unknown".
    const day = runOf([7, 1, 0x7f000001, 0xffffffff]);
    expect(unionRun([runOf([]), day, runOf([])], false)).toBe(day);
    const counted = runOf([7, 7, 1], true);
    expect(unionRun([counted, runOf([], true)], true)).toBe(counted);
  });

  it('of runs that share addresses holds each once, with requests summed', () => {
    const union = unionRun([runOf([1, 2, 2, 3], true), runOf([3, 4], true)], true);
    expect(union.count).toBe(4);
    expect(visited(union)).toEqual([
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 1],
    ]);
  });

  it('makes a new run when the one run has counts the union is not asked for', () => {
    const counted = runOf([5, 6], true);
    const union = unionRun([counted], false);
    expect(union).not.toBe(counted);
    expect(union.counts).toBeUndefined();
    expect(visited(union)).toEqual([
      [5, 1],
      [6, 1],
    ]);
  });
});
