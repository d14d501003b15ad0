import { describe, expect, it } from 'vitest';
import {
  decodeRun,
  hashIPv4,
  IPv4Set,
  unhashIPv4,
  unionRun,
  unionSize,
  type IPv4Run,
} from '../../../src/logstats/ipv4-set.ts';
import { seeded } from '../../helpers/client-rule.ts';

function runOf(ips: readonly number[], counted = false): IPv4Run {
  const set = new IPv4Set(counted);
  for (const ip of ips) set.add(ip);
  const run = set.toRun();
  set.release();
  return run;
}

describe('IPv4Set runs', () => {
  it('hashes are a bijection', () => {
    for (const ip of [0, 1, 0x01020304, 0x7fffffff, 0x80000000, 0xffffffff]) {
      expect(unhashIPv4(hashIPv4(ip))).toBe(ip);
    }
  });

  it.each([0, 1, 5, 3000, 100_000])('hands over %d addresses in ascending hash order', (n) => {
    const next = seeded(n + 1);
    // A narrow range so addresses repeat, plus the two that are special in a table.
    const ips = Array.from({ length: n }, () => next(n * 2 + 1));
    if (n > 1) ips.push(0, 0xffffffff, 0);
    const run = runOf(ips);
    const hashes = decodeRun(run);
    expect(run.count).toBe(new Set(ips).size);
    for (let i = 1; i < hashes.length; i++) expect(hashes[i]!).toBeGreaterThan(hashes[i - 1]!);
    expect(new Set([...hashes].map(unhashIPv4))).toEqual(new Set(ips));
  });

  it('keeps the order when a probe run wraps past the last slot', () => {
    // Addresses whose hashes are the largest: their home slots are the last ones.
    const ips = Array.from({ length: 600 }, (_, i) => unhashIPv4(0xffffffff - i * 97));
    const hashes = decodeRun(runOf([...ips, 1, 2, 3]));
    for (let i = 1; i < hashes.length; i++) expect(hashes[i]!).toBeGreaterThan(hashes[i - 1]!);
    expect(hashes.length).toBe(603);
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

describe('unions of runs', () => {
  it.each([1, 2, 8, 40])('equals a plain Set union over %d runs, counts summed', (k) => {
    const next = seeded(k);
    const expected = new Map<number, number>();
    const runs = Array.from({ length: k }, () => {
      const ips = Array.from({ length: next(4000) }, () =>
        next(9) === 0 ? 0xffffffff - next(3) : next(20_000),
      );
      for (const ip of ips) expected.set(ip, (expected.get(ip) ?? 0) + 1);
      return runOf(ips, true);
    });
    expect(unionSize(runs)).toBe(expected.size);
    const union = unionRun(runs);
    const keys = [...decodeRun(union)].map(unhashIPv4);
    expect(new Map(keys.map((ip, i) => [ip, union.counts![i]!]))).toEqual(expected);
  });

  it('is empty over no runs', () => {
    expect(unionSize([])).toBe(0);
    expect(unionRun([]).count).toBe(0);
  });
});
