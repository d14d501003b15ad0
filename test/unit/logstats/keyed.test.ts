import { describe, expect, it } from 'vitest';
import { KeyedTally, compareKeys, type LineRules } from '../../../src/logstats/keyed.ts';
import { unionSize } from '../../../src/logstats/ipv4-set.ts';

const rules: LineRules = {
  by: 'day',
  utc: false,
  format: 'auto',
  ipField: undefined,
  timeField: undefined,
};

const text = [
  '1.1.1.1 - - [21/Mar/2021:10:00:00 +0800] "GET / HTTP/1.1" 200 1',
  '{"remote_addr":"2.2.2.2","time":"2021-03-21T23:00:00+08:00"}',
  '',
  `3.3.3.3 - - [22/Mar/2021:01:00:00 +0800] "GET /${'x'.repeat(3000)} HTTP/1.1" 200 1\r`,
  'junk',
  '{"remote_addr":"::1","time":"2021-03-22T01:00:00Z"}',
  '1.1.1.1 - - [22/Mar/2021:02:00:00 +0800] "GET / HTTP/1.1" 200 1',
].join('\n');

/** The tally of `text` fed in pieces of `size` bytes. */
function tallyIn(size: number) {
  const bytes = Buffer.from(text);
  const tally = new KeyedTally(false, rules);
  for (let at = 0; at < bytes.length; at += size) tally.push(bytes.subarray(at, at + size));
  tally.end();
  const result = tally.toResult();
  return {
    total: result.total,
    malformed: result.malformed,
    groups: result.groups!.map((g) => ({
      key: g.key,
      total: g.total,
      malformed: g.malformed,
      ip: unionSize([g.ipv4]) + g.ipv6.count,
    })),
  };
}

describe('KeyedTally', () => {
  it('counts the same whatever pieces the input comes in', () => {
    const whole = tallyIn(1 << 20);
    expect(whole).toEqual({
      total: 6,
      malformed: 1,
      groups: [
        { key: '2021-03-21', total: 2, malformed: 0, ip: 2 },
        { key: '2021-03-22', total: 3, malformed: 0, ip: 3 },
        { key: 'unknown', total: 1, malformed: 1, ip: 0 },
      ],
    });
    for (const size of [1, 2, 3, 7, 64, 1000, 2999, 3001])
      expect(tallyIn(size), `${size}`).toEqual(whole);
  });

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
