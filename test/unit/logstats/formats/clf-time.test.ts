import { describe, expect, it } from 'vitest';
import { ClfTimeKeys, parseClfTime } from '../../../../src/logstats/formats/clf-time.ts';
import { groupKey, UNKNOWN, type Grouping } from '../../../../src/logstats/timestamp.ts';

const clf = (text: string, by: Grouping, utc: boolean) => {
  const w = parseClfTime(text);
  return w && groupKey(w, by, utc);
};

describe('common log format times', () => {
  it.each([
    ['10/Oct/2000:13:55:36 -0700', 'day', false, '2000-10-10'],
    ['10/Oct/2000:13:55:36 -0700', 'hour', false, '2000-10-10 13:00'],
    ['10/Oct/2000:13:55:36 -0700', 'day', true, '2000-10-10'],
    ['10/Oct/2000:20:55:36 -0700', 'day', true, '2000-10-11'], // 03:55 UTC the next day
    ['10/Oct/2000:20:55:36 -0700', 'hour', true, '2000-10-11 03:00'],
    ['01/Jan/2021:05:30:00 +0800', 'day', true, '2020-12-31'], // across a year
    ['01/Mar/2024:02:00:00 +0530', 'hour', true, '2024-02-29 20:00'], // a leap day, half hours
    ['31/Dec/1999:23:59:60 +0000', 'day', false, '1999-12-31'], // a leap second
    ['29/Feb/2023:00:00:00 +0000', 'day', false, undefined], // no such day
    ['31/Apr/2021:00:00:00 +0000', 'day', false, undefined],
    ['10/Foo/2000:13:55:36 -0700', 'day', false, undefined],
    ['10/oct/2000:13:55:36 -0700', 'day', false, undefined],
    ['10/Oct/2000:24:00:00 -0700', 'day', false, undefined],
    ['10/Oct/2000:13:60:00 -0700', 'day', false, undefined],
    ['10/Oct/2000:13:55:36 -0760', 'day', false, undefined],
    ['10/Oct/2000:13:55:36', 'day', false, undefined],
    ['2000-10-10T13:55:36Z', 'day', false, undefined],
  ] as const)('%s by %s (utc: %s) is %s', (text, by, utc, key) => {
    expect(clf(text, by, utc)).toBe(key);
  });
});

describe('ClfTimeKeys', () => {
  const bytes = (text: string) => Buffer.from(text);
  const line = (ip: string, time: string) => `${ip} - - [${time}] "GET / HTTP/1.1" 200 12`;

  it('keys each line by its first [...] and reuses the last key only for a valid time', () => {
    const keys = new ClfTimeKeys('day', false);
    const texts = [
      line('1.1.1.1', '10/Oct/2000:13:55:36 -0700'),
      line('1.1.1.2', '10/Oct/2000:23:59:59 -0700'),
      line('1.1.1.3', '10/Oct/2000:99:00:00 -0700'), // same date, impossible time
      line('1.1.1.4', '11/Oct/2000:00:00:00 -0700'),
      '1.1.1.5 - - no time here',
      '1.1.1.6 - - [10/Oct/2000:13:55:36 -0700',
      line('1.1.1.7', '31/Feb/2000:00:00:00 -0700'),
      line('1.1.1.8', '31/Feb/2000:00:00:01 -0700'), // same invalid date as the last line
    ];
    expect(texts.map((t) => keys.ofLine(bytes(t), 0, t.length))).toEqual([
      '2000-10-10',
      '2000-10-10',
      UNKNOWN,
      '2000-10-11',
      UNKNOWN,
      UNKNOWN,
      UNKNOWN,
      UNKNOWN,
    ]);
  });

  it('in UTC, a shared date with another offset or hour is parsed again', () => {
    const keys = new ClfTimeKeys('day', true);
    const a = line('1.1.1.1', '10/Oct/2000:13:55:36 -0700');
    const b = line('1.1.1.1', '10/Oct/2000:20:55:36 -0700');
    expect([keys.ofLine(bytes(a), 0, a.length), keys.ofLine(bytes(b), 0, b.length)]).toEqual([
      '2000-10-10',
      '2000-10-11',
    ]);
  });

  it('reads only inside the line it is given', () => {
    const keys = new ClfTimeKeys('day', false);
    const text = `1.1.1.1 - - no time\n${line('2.2.2.2', '10/Oct/2000:13:55:36 -0700')}`;
    expect(keys.ofLine(bytes(text), 0, text.indexOf('\n'))).toBe(UNKNOWN);
  });
});
