import { describe, expect, it } from 'vitest';
import {
  compareKeys,
  fromUnixSeconds,
  groupKey,
  parseIsoTime,
  type Grouping,
} from '../../../src/logstats/timestamp.ts';

const iso = (text: string, by: Grouping, utc: boolean) => {
  const w = parseIsoTime(text);
  return w && groupKey(w, by, utc);
};

describe('ISO 8601 times', () => {
  it.each([
    ['2021-03-22T10:00:00+08:00', 'day', false, '2021-03-22'],
    ['2021-03-22T01:00:00+08:00', 'day', true, '2021-03-21'],
    ['2021-03-22T10:00:00.123456Z', 'hour', false, '2021-03-22 10:00'],
    ['2021-03-22 10:00:00+0800', 'hour', true, '2021-03-22 02:00'],
    ['2021-03-22T23:30:00-02:30', 'day', true, '2021-03-23'],
    ['2021-03-22t10:00:00z', 'day', false, '2021-03-22'],
    ['2021-03-22T10:00', 'hour', false, '2021-03-22 10:00'],
    ['2021-03-22T10:00:00', 'day', true, '2021-03-22'], // no offset: taken as UTC
    ['2021-03-22', 'day', false, '2021-03-22'],
    ['2021-03-22', 'hour', false, undefined], // no hour to group by
    ['  2021-03-22T10:00:00Z ', 'day', false, '2021-03-22'],
    ['2021-02-30T10:00:00Z', 'day', false, undefined],
    ['2021-13-01T10:00:00Z', 'day', false, undefined],
    ['22/Mar/2021:10:00:00 +0800', 'day', false, undefined],
    ['yesterday', 'day', false, undefined],
    ['', 'day', false, undefined],
  ] as const)('%j by %s (utc: %s) is %s', (text, by, utc, key) => {
    expect(iso(text, by, utc)).toBe(key);
  });

  it('reads Unix seconds (Caddy ts) in UTC', () => {
    const w = fromUnixSeconds(1616407200.25)!; // 2021-03-22T10:00:00.25Z
    expect(groupKey(w, 'hour', false)).toBe('2021-03-22 10:00');
    expect(fromUnixSeconds(Number.NaN)).toBeUndefined();
    expect(fromUnixSeconds(1e20)).toBeUndefined();
  });
});

describe('compareKeys', () => {
  it.each([
    [
      ['2021-03-22', 'unknown', '2021-03-21'],
      ['2021-03-21', '2021-03-22', 'unknown'],
    ],
    [
      ['2021-03-22 10:00', '2021-03-22 09:00'],
      ['2021-03-22 09:00', '2021-03-22 10:00'],
    ],
  ])('orders keys in time, unknown last: %j', (keys, sorted) => {
    expect([...keys].sort(compareKeys)).toEqual(sorted);
  });
});
