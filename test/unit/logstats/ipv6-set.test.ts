import { describe, expect, it } from 'vitest';
import { formatIPv6 } from '../../../src/logstats/ipv6.ts';
import {
  BucketTable,
  hashIPv6,
  IPv6Set,
  unionRunIPv6,
  unionSizeIPv6,
  visitUnionIPv6,
  type IPv6Run,
} from '../../../src/logstats/ipv6-set.ts';
import { tableBytesInUse } from '../../../src/logstats/scratch.ts';
import { seeded } from '../../helpers/client-rule.ts';
import { mapDifferences } from '../../helpers/mismatches.ts';

type Words = readonly [number, number, number, number];

function runOf(addresses: readonly Words[], counted = false): IPv6Run {
  const set = new IPv6Set(counted);
  for (const words of addresses) set.add(words);
  const run = set.toRun();
  set.release();
  return run;
}

const textsOf = (run: IPv6Run): string[] =>
  Array.from({ length: run.count }, (_, i) => formatIPv6(run.words.subarray(i * 4, i * 4 + 4)));

/** True when the addresses come bucket (high 16 bits of their hash) by bucket. */
function ordered(run: IPv6Run): boolean {
  let last = -1;
  for (let i = 0; i < run.count; i++) {
    const w = run.words.subarray(i * 4, i * 4 + 4);
    const bucket = hashIPv6(w[0]!, w[1]!, w[2]!, w[3]!) >>> 16;
    if (bucket < last) return false;
    last = bucket;
  }
  return true;
}

function randomAddresses(next: (n: number) => number, n: number): Words[] {
  // Few distinct values per word, so addresses repeat and "::" turns up.
  return Array.from(
    { length: n },
    () => [next(3), 0, next(2) * 0xffff, next(Math.max(1, n))] as const,
  );
}

describe('IPv6Set', () => {
  it.each([0, 1, 7, 5000, 60_000])('hands over %d addresses bucket by bucket', (n) => {
    const addresses = randomAddresses(seeded(n + 3), n);
    const run = runOf(addresses);
    const expected = new Set(addresses.map((w) => formatIPv6(w)));
    expect(run.count).toBe(expected.size);
    expect(new Set(textsOf(run))).toEqual(expected);
    expect(ordered(run)).toBe(true);
  });

  it('hands over a big table in bucket order, whatever its probes carried where', () => {
    // 150,000 addresses (a table of 262,144 slots, four a bucket), among them 3,000 of the
    // last buckets, which a probe carries past the table's end to its start, 3,000 of one
    // bucket, carried past the buckets after it, and "::", with requests counted.
    const next = seeded(77);
    const pick = (wanted: (bucket: number) => boolean, n: number): Words[] => {
      const found: Words[] = [];
      while (found.length < n) {
        const w = [0x20010db8, next(1 << 30), next(1 << 30), next(1 << 30)] as const;
        if (wanted(hashIPv6(...w) >>> 16)) found.push(w);
      }
      return found;
    };
    const addresses = [
      ...pick(() => true, 144_000),
      ...pick((bucket) => bucket >= 65_530, 3000),
      ...pick((bucket) => bucket === 40_000, 3000),
      [0, 0, 0, 0] as const,
    ];
    const set = new IPv6Set(true);
    const expected = new Map<string, number>();
    for (const [i, w] of addresses.entries()) {
      const requests = 1 + (i % 3);
      set.add(w, requests);
      const text = formatIPv6(w);
      expected.set(text, (expected.get(text) ?? 0) + requests);
    }
    const run = set.toRun();
    set.release();
    expect(ordered(run)).toBe(true);
    const counts = new Map(textsOf(run).map((t, i) => [t, run.counts![i]!]));
    expect(run.count).toBe(expected.size);
    expect(mapDifferences(counts, expected)).toEqual([]);
  });

  it('counts requests per address, "::" too', () => {
    const run = runOf(
      [
        [0, 0, 0, 0],
        [0x20010db8, 0, 0, 1],
        [0, 0, 0, 0],
        [0x20010db8, 0, 0, 1],
        [0x20010db8, 0, 0, 1],
      ],
      true,
    );
    const texts = textsOf(run);
    expect(texts.sort()).toEqual(['2001:db8::1', '::']);
    const counts = new Map(textsOf(run).map((t, i) => [t, run.counts![i]]));
    expect(counts).toEqual(
      new Map([
        ['::', 2],
        ['2001:db8::1', 3],
      ]),
    );
  });

  it.each([
    ['a steady rate', 1],
    ['a rate that falls to nothing', 0],
  ])('grows at once to the size its scan projects, exact at %s', (_, later) => {
    // 60,000 reads of 100 bytes each; after the first 10,000, new addresses come at `later`.
    let read = 0;
    const set = new IPv6Set(true, {
      done: () => read,
      expected: 6_000_000,
      room: () => Infinity,
    });
    const next = seeded(5);
    const expected = new Map<string, number>();
    for (let i = 0; i < 60_000; i++) {
      read += 100;
      const fresh = i < 10_000 || later === 1;
      const words = [0x20010db8, 0, fresh ? i : next(10_000), next(2)] as const;
      const text = formatIPv6(words);
      expected.set(text, (expected.get(text) ?? 0) + 1);
      set.add(words);
    }
    const run = set.toRun();
    const counts = new Map(textsOf(run).map((t, i) => [t, run.counts![i]!]));
    expect(run.count).toBe(expected.size);
    expect(mapDifferences(counts, expected)).toEqual([]);
    expect(ordered(run)).toBe(true);
    set.release();
  });

  it('leaps up to 32 times its slots at once when its scan projects that many addresses', () => {
    // New addresses at a steady rate, 100 bytes apart, in a scan of 100 MB: a million.
    let read = 0;
    const before = tableBytesInUse();
    const set = new IPv6Set(false, { done: () => read, expected: 100e6, room: () => Infinity });
    const slots = (): number => (tableBytesInUse() - before) / 16;
    const seen: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      read += 100;
      set.add([0x20010db8, 0, i, 1]);
      if (slots() !== seen.at(-1)) seen.push(slots());
    }
    // 256 slots, then 8,192 (tables that small are not counted), 262,144 and 2,097,152:
    // three growths. Leaps of at most 8 took five.
    expect(seen).toEqual([0, 262_144, 2_097_152]);
    set.release();
  });

  it('leaps no further than the table budget of its scan', () => {
    let read = 0;
    const budget = 2 ** 20; // 65,536 slots: room for 49,152 addresses
    const before = tableBytesInUse();
    const room = (): number => budget - (tableBytesInUse() - before);
    const set = new IPv6Set(false, { done: () => read, expected: 1e9, room });
    let most = 0;
    for (let i = 0; i < 45_000; i++) {
      read += 100;
      set.add([0x20010db8, 0, i, 1]);
      most = Math.max(most, tableBytesInUse() - before);
    }
    expect(set.size).toBe(45_000);
    expect(most).toBeLessThanOrEqual(budget);
    set.release();
  });

  it('says it is full rather than grow past its room, and grows all the same before it fills', () => {
    let room = Infinity;
    const set = new IPv6Set(false, { done: () => 0, expected: 0, room: () => room });
    for (let i = 0; i < 3000; i++) set.add([0x20010db8, 0, i, 1]); // 4,096 slots now
    expect(set.full).toBe(false);
    room = 0;
    for (let i = 3000; i < 3800; i++) set.add([0x20010db8, 0, i, 1]);
    expect(set.full).toBe(true); // past 3/4 of its slots, where it would have grown
    for (let i = 3800; i < 10_000; i++) set.add([0x20010db8, 0, i, 1]);
    expect(set.size).toBe(10_000); // past 15/16 it grew, with no room or without
    expect(set.toRun().count).toBe(10_000);
    set.release();
    expect(set.full).toBe(false);
  });

  it.each([2, 5, 20])('unions %d runs exactly, counts summed', (k) => {
    const next = seeded(k * 13);
    const expected = new Map<string, number>();
    const runs = Array.from({ length: k }, () => {
      const addresses = randomAddresses(next, next(3000));
      for (const w of addresses) {
        const text = formatIPv6(w);
        expected.set(text, (expected.get(text) ?? 0) + 1);
      }
      return runOf(addresses, true);
    });
    expect(unionSizeIPv6(runs)).toBe(expected.size);
    const visited = new Map<string, number>();
    const repeated: string[] = [];
    visitUnionIPv6(runs, (words, requests) => {
      const text = formatIPv6(words);
      if (visited.has(text)) repeated.push(text);
      visited.set(text, requests);
    });
    expect(repeated).toEqual([]);
    expect(mapDifferences(visited, expected)).toEqual([]);
  });
});

/**
 * `count` addresses in one /64 that all have the unkeyed hash `target`: the last word
 * undoes the hash's last steps (each is invertible), for any third word.
 */
function sameHash(count: number, target: number): Words[] {
  const inverse = (k: number): number => {
    let x = k;
    for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(k, x));
    return x;
  };
  const unshift = (x: number, s: number): number => {
    let h = x;
    for (let i = 0; i < 32; i += s) h = x ^ (h >>> s);
    return h >>> 0;
  };
  const [a, b] = [0x20010db8, 0x12345678];
  const h1 = Math.imul(a ^ 0x9e3779b9, 0xcc9e2d51);
  const h2 = Math.imul((h1 ^ (h1 >>> 15)) + b, 0x1b873593);
  const h4 = unshift(Math.imul(unshift(target, 13), inverse(0x85ebca6b)) >>> 0, 15);
  const sum = Math.imul(h4, inverse(0x1b873593));
  return Array.from({ length: count }, (_, i) => {
    const c = i + 1;
    const h3 = Math.imul((h2 ^ (h2 >>> 13)) + c, 0xcc9e2d51);
    return [a, b, c, (sum - (h3 ^ (h3 >>> 16))) >>> 0] as const;
  });
}

describe('IPv6 tables against addresses picked to share a hash', () => {
  // Unkeyed, all of them had one slot: 30,000 took 2.7 s to count, two files of them 6 s.
  const picked = sameHash(30_000, 0xdeadbeef);

  it('picks them as it says', () => {
    expect(new Set(picked.map((w) => hashIPv6(...w)))).toEqual(new Set([0xdeadbeef]));
    expect(new Set(picked.map(formatIPv6)).size).toBe(30_000);
  });

  it('keeps their runs of slots short in a set', () => {
    const set = new IPv6Set(true);
    for (const words of picked) set.add(words);
    expect(set.size).toBe(30_000);
    expect(set.longestRun()).toBeLessThan(500);
    expect(set.toRun().count).toBe(30_000);
    set.release();
  });

  it("keeps their runs of slots short in a union's bucket table", () => {
    const table = new BucketTable();
    const words = Uint32Array.from(picked.flat());
    for (let i = 0; i < picked.length; i++) table.add(words, i * 4, 1);
    expect(table.longestRun()).toBeLessThan(500);
    let requests = 0;
    table.drain((_, __, n) => (requests += n));
    expect(requests).toBe(30_000);
    const run = runOf(picked);
    expect(unionSizeIPv6([run, run])).toBe(30_000);
  });
});

describe('unionSizeIPv6', () => {
  const texts = (runs: readonly IPv6Run[]) => new Set(runs.flatMap(textsOf));

  it('counts addresses that share a whole hash once each, shared between runs or not', () => {
    // Groups of addresses with one 32-bit hash each (one bucket, one low half), and others.
    const clash = [sameHash(3, 0x12345678), sameHash(4, 0x1234abcd), sameHash(2, 0xffff0000)];
    const [x, y, z] = clash as [Words[], Words[], Words[]];
    const next = seeded(11);
    const others = randomAddresses(next, 2_000);
    const cases: [string, Words[][]][] = [
      ['each run alone', [[...x], [...y], [...z]]],
      [
        'the first to set a bit comes again',
        [
          [x[0]!, ...others],
          [x[0]!, x[1]!],
        ],
      ],
      [
        'one sharing its hash comes again',
        [
          [x[0]!, x[1]!],
          [x[1]!, x[2]!],
          [x[2]!, y[3]!],
        ],
      ],
      [
        'all of them in every run',
        [
          [...x, ...y, ...z],
          [...z, ...y, ...x],
          [...y, ...others],
        ],
      ],
      [
        'only the clashing ones shared',
        [
          [x[1]!, ...others.slice(0, 900)],
          [x[1]!, x[0]!],
        ],
      ],
    ];
    for (const [what, lists] of cases) {
      const runs = lists.map((list) => runOf(list));
      expect(unionSizeIPv6(runs), what).toBe(texts(runs).size);
    }
  });

  it('agrees with a plain Set on runs that share a random part of their addresses', () => {
    const next = seeded(12);
    const pool = randomAddresses(next, 40_000);
    const runs = [0, 1, 2, 3].map(() => runOf(pool.filter(() => next(3) === 0)));
    expect(unionSizeIPv6(runs)).toBe(texts(runs).size);
  });

  it('counts picked addresses that share one hash without comparing each with each', () => {
    // 300,000 addresses of one hash in two runs. Each compared with the bucket's others
    // would be ~45 billion compares, minutes, past the test's time limit; through the keyed
    // bucket table they take well under a second.
    const picked = sameHash(300_000, 0xcafef00d);
    const runs = [runOf(picked.slice(0, 200_000)), runOf(picked.slice(100_000))];
    expect(unionSizeIPv6(runs)).toBe(300_000);
  });
});

describe('unionRunIPv6', () => {
  const a: Words = [0x20010db8, 0, 0, 1];
  const b: Words = [0x20010db8, 0, 0, 2];
  const c: Words = [0xfe800000, 0, 0xffff, 3];

  it('is the one run that holds addresses when the others hold none, unchanged', () => {
    const day = runOf([a, b, c]);
    expect(unionRunIPv6([runOf([]), day, runOf([])], false)).toBe(day);
  });

  it('of runs that share addresses holds each once, with requests summed', () => {
    const union = unionRunIPv6([runOf([a, b, b], true), runOf([b, c], true)], true);
    const seen = new Map<string, number>();
    visitUnionIPv6([union], (words, requests) => seen.set(formatIPv6(words), requests));
    expect(union.count).toBe(3);
    expect(Object.fromEntries(seen)).toEqual({
      '2001:db8::1': 1,
      '2001:db8::2': 3,
      'fe80::ffff:0:3': 1,
    });
  });
});
