import { beforeAll, describe, expect, it } from 'vitest';
import { loadCrawlerCheck } from '../../../src/logstats/crawlers.ts';
import { IPV6, MALFORMED } from '../../../src/logstats/client-ip.ts';
import type { TimeBound } from '../../../src/logstats/filter-values.ts';
import { ClfTimes } from '../../../src/logstats/formats/clf-time.ts';
import {
  FILTERED,
  IpRanges,
  LineFilter,
  type FilterRules,
  type LineTime,
} from '../../../src/logstats/line-filter.ts';
import { emptyRequest } from '../../../src/logstats/request-fields.ts';
import { LineTally } from '../../../src/logstats/tally.ts';

const v4 = (text: string): number =>
  text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
const v6 = (...words: number[]): Uint32Array => Uint32Array.from(words);
const at = (iso: string): number => Date.parse(iso) / 1000;
const NO_IPV6 = new Uint32Array(4);

describe('IpRanges', () => {
  const ranges = new IpRanges([
    '10.0.0.0/8',
    '10.1.0.0/16', // inside the one before
    '192.0.2.0/25',
    '192.0.2.128/25', // adjacent: one range with the one before
    '203.0.113.9',
    '0.0.0.0',
    '2001:db8::/32',
    '2001:db8:1::/48',
    '::1',
    'fe80::/10',
  ]);

  it.each([
    ['0.0.0.0', true],
    ['0.0.0.1', false],
    ['9.255.255.255', false],
    ['10.0.0.0', true],
    ['10.200.3.4', true],
    ['10.255.255.255', true],
    ['11.0.0.0', false],
    ['192.0.1.255', false],
    ['192.0.2.0', true],
    ['192.0.2.127', true],
    ['192.0.2.128', true],
    ['192.0.2.255', true],
    ['192.0.3.0', false],
    ['203.0.113.8', false],
    ['203.0.113.9', true],
    ['203.0.113.10', false],
    ['255.255.255.255', false],
  ])('IPv4 %s: %s', (ip, excluded) => {
    expect(ranges.hasIPv4(v4(ip))).toBe(excluded);
  });

  it.each([
    [v6(0, 0, 0, 0), false],
    [v6(0, 0, 0, 1), true],
    [v6(0, 0, 0, 2), false],
    [v6(0x20010db7, ~0 >>> 0, ~0 >>> 0, ~0 >>> 0), false],
    [v6(0x20010db8, 0, 0, 0), true],
    [v6(0x20010db8, 0x12345678, 0, 9), true],
    [v6(0x20010db8, ~0 >>> 0, ~0 >>> 0, ~0 >>> 0), true],
    [v6(0x20010db9, 0, 0, 0), false],
    [v6(0xfe7fffff, ~0 >>> 0, ~0 >>> 0, ~0 >>> 0), false],
    [v6(0xfe800000, 0, 0, 0), true],
    [v6(0xfebfffff, 0, 0, 1), true],
    [v6(0xfec00000, 0, 0, 0), false],
    [v6(~0 >>> 0, ~0 >>> 0, ~0 >>> 0, ~0 >>> 0), false],
  ])('IPv6 %s: %s', (words, excluded) => {
    expect(ranges.hasIPv6(words)).toBe(excluded);
  });

  it('is empty for no blocks of a kind', () => {
    const only4 = new IpRanges(['10.0.0.0/8']);
    expect(only4.hasIPv6(v6(0, 0, 0, 1))).toBe(false);
    const only6 = new IpRanges(['::/0']);
    expect(only6.hasIPv4(0)).toBe(false);
    expect(only6.hasIPv6(v6(1, 2, 3, 4))).toBe(true);
  });
});

const bound = (iso: string, instant: boolean): TimeBound => ({ seconds: at(iso), instant });
const rules = (since?: TimeBound, until?: TimeBound, excludeIps: string[] = []): FilterRules => ({
  since,
  until,
  excludeIps,
});
/** A line's time: as written, in seconds, with its offset. */
const written = (iso: string, offsetMinutes: number): LineTime => ({
  seconds: at(`${iso}Z`),
  offsetMinutes,
});
const NO_TIME: LineTime = { seconds: NaN, offsetMinutes: 0 };
const IP = v4('192.0.2.1');

describe('LineFilter', () => {
  beforeAll(loadCrawlerCheck);

  // 2026-12-01 as written in each line's own offset (as --by day would group it).
  const wallDay = new LineFilter(
    rules(bound('2026-12-01T00:00:00Z', false), bound('2026-12-01T23:59:59Z', false)),
  );
  // 2026-12-01 in UTC (--utc).
  const utcDay = new LineFilter(
    rules(bound('2026-12-01T00:00:00Z', true), bound('2026-12-01T23:59:59Z', true)),
  );

  it.each([
    // Just after midnight where it was written, still the day before in UTC.
    [written('2026-12-01T00:30:00', 120), IP, FILTERED],
    // Just before midnight in New York: the next day in UTC.
    [written('2026-12-01T23:30:00', -300), IP, FILTERED],
    [written('2026-11-30T23:30:00', -300), IP, IP],
    [written('2026-12-02T00:30:00', 60), IP, IP],
    [written('2026-12-02T00:59:59', 60), IP, IP],
    [written('2026-12-02T01:00:00', 60), IP, FILTERED],
    [written('2026-12-01T12:00:00', 0), IP, IP],
    [written('2026-11-30T23:59:59', 0), IP, FILTERED],
    [written('2026-12-01T00:00:00', 0), IP, IP],
    [written('2026-12-01T23:59:59', 0), IP, IP],
    [written('2026-12-02T00:00:00', 0), IP, FILTERED],
  ])('--utc: %j from %s is %s', (time, kind, verdict) => {
    expect(utcDay.verdict(kind, NO_IPV6, time)).toBe(verdict);
  });

  it.each([
    [written('2026-12-01T00:30:00', 120), IP],
    [written('2026-12-01T23:30:00', -300), IP],
    [written('2026-11-30T23:30:00', -300), FILTERED],
    [written('2026-12-02T00:30:00', 60), FILTERED],
    [written('2026-12-01T00:00:00', 840), IP],
    [written('2026-11-30T23:59:59', -720), FILTERED],
  ])('as written: %j is %s', (time, verdict) => {
    expect(wallDay.verdict(IP, NO_IPV6, time)).toBe(verdict);
  });

  it('counts a line without a time as malformed, and a malformed one in the window too', () => {
    expect(wallDay.verdict(IP, NO_IPV6, NO_TIME)).toBe(MALFORMED);
    expect(wallDay.verdict(MALFORMED, NO_IPV6, written('2026-12-01T10:00:00', 0))).toBe(MALFORMED);
    // Out of the window, what its client is does not matter.
    expect(wallDay.verdict(MALFORMED, NO_IPV6, written('2026-12-03T10:00:00', 0))).toBe(FILTERED);
  });

  it('takes one end alone', () => {
    const since = new LineFilter(rules(bound('2026-12-01T00:00:00Z', true)));
    expect(since.verdict(IP, NO_IPV6, written('2030-01-01T00:00:00', 0))).toBe(IP);
    expect(since.verdict(IP, NO_IPV6, written('2026-11-30T23:59:59', 0))).toBe(FILTERED);
    const until = new LineFilter(rules(undefined, bound('2026-12-01T00:00:00Z', true)));
    expect(until.verdict(IP, NO_IPV6, written('1999-01-01T00:00:00', 0))).toBe(IP);
    expect(until.verdict(IP, NO_IPV6, written('2026-12-01T00:00:01', 0))).toBe(FILTERED);
  });

  it('leaves out excluded clients, IPv4 and IPv6, and never needs a time for them', () => {
    const filter = new LineFilter(rules(undefined, undefined, ['192.0.2.0/24', '2001:db8::/32']));
    expect(filter.verdict(IP, NO_IPV6, NO_TIME)).toBe(FILTERED);
    expect(filter.verdict(v4('192.0.3.1'), NO_IPV6, NO_TIME)).toBe(v4('192.0.3.1'));
    expect(filter.verdict(IPV6, v6(0x20010db8, 0, 0, 1), NO_TIME)).toBe(FILTERED);
    expect(filter.verdict(IPV6, v6(0x20010db9, 0, 0, 1), NO_TIME)).toBe(IPV6);
    expect(filter.verdict(MALFORMED, NO_IPV6, NO_TIME)).toBe(MALFORMED);
    expect(filter.excludesIPv4(IP)).toBe(true);
  });

  it('keeps only the status codes asked for; a line without one is left out', () => {
    const filter = new LineFilter({ ...rules(undefined, undefined), statuses: ['4xx', '500'] });
    const status = (code: number) => ({ ...emptyRequest(), status: code });
    expect(filter.verdict(IP, NO_IPV6, NO_TIME, status(404))).toBe(IP);
    expect(filter.verdict(IP, NO_IPV6, NO_TIME, status(500))).toBe(IP);
    expect(filter.verdict(IP, NO_IPV6, NO_TIME, status(501))).toBe(FILTERED);
    expect(filter.verdict(IP, NO_IPV6, NO_TIME, status(200))).toBe(FILTERED);
    expect(filter.verdict(IP, NO_IPV6, NO_TIME, status(-1))).toBe(FILTERED);
    expect(filter.verdict(MALFORMED, NO_IPV6, NO_TIME, status(200))).toBe(FILTERED);
    expect(filter.verdict(MALFORMED, NO_IPV6, NO_TIME, status(404))).toBe(MALFORMED);
  });

  it("leaves out crawlers' requests (isbot), not those without an agent field", () => {
    const filter = new LineFilter({ ...rules(undefined, undefined), ignoreCrawlers: true });
    const agent = (text: string | undefined) => ({ ...emptyRequest(), agent: text });
    expect(filter.verdict(IP, NO_IPV6, NO_TIME, agent('Googlebot/2.1'))).toBe(FILTERED);
    expect(
      filter.verdict(
        IP,
        NO_IPV6,
        NO_TIME,
        agent('Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'),
      ),
    ).toBe(IP);
    expect(filter.verdict(IP, NO_IPV6, NO_TIME, agent(undefined))).toBe(IP);
  });
});

describe('ClfTimes', () => {
  const times = new ClfTimes();
  const read = (line: string): LineTime => {
    const out: LineTime = { seconds: 0, offsetMinutes: 99 };
    const bytes = Buffer.from(line, 'latin1');
    times.ofLine(bytes, 0, bytes.length, out);
    return out;
  };

  it.each([
    ['1.2.3.4 - - [01/Dec/2026:00:30:00 +0200] "GET /"', '2026-12-01T00:30:00', 120],
    ['1.2.3.4 - - [01/Dec/2026:00:30:01 +0200] "GET /"', '2026-12-01T00:30:01', 120],
    ['1.2.3.4 - - [30/Nov/2026:23:59:59 -0530] "GET /"', '2026-11-30T23:59:59', -330],
    ['1.2.3.4 - - [29/Feb/2024:12:00:00 +0000] x', '2024-02-29T12:00:00', 0],
    ['1.2.3.4 - - [31/Dec/2016:23:59:60 +0000] x', '2016-12-31T23:59:59', 0],
    ['::1 - - [01/Jan/1970:00:00:00 +1400] x', '1970-01-01T00:00:00', 840],
  ])('%s', (line, iso, offset) => {
    expect(read(line)).toEqual({ seconds: at(`${iso}Z`), offsetMinutes: offset });
  });

  it.each([
    '1.2.3.4 - - "GET /"',
    '1.2.3.4 - - [30/Feb/2026:10:00:00 +0000] x',
    '1.2.3.4 - - [01/Foo/2026:10:00:00 +0000] x',
    '1.2.3.4 - - [01/Dec/2026:24:00:00 +0000] x',
    '1.2.3.4 - - [01/Dec/2026:10:00:00 0000] x',
    '1.2.3.4 - - [01/Dec/2026:10:00:00 +0000 x',
    '1.2.3.4 - - [2026-12-01T10:00:00Z] x',
  ])('has no time: %s', (line) => {
    // After a good line of the same date too: a garbled one never takes the last time.
    read('1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] x');
    expect(read(line).seconds).toBeNaN();
  });
});

describe('LineTally with a filter', () => {
  const lines = [
    '10.0.0.1 - - [01/Dec/2026:00:30:00 +0200] "GET / HTTP/1.1" 200 1',
    '10.0.0.2 - - [30/Nov/2026:23:30:00 -0500] "GET / HTTP/1.1" 200 1',
    '192.0.2.1 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1',
    '2001:db8::7 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1',
    '2001:db9::7 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1',
    '{"remote_addr":"192.0.2.9","time":"2026-12-01T23:59:59-01:00"}',
    '{"remote_addr":"10.0.0.3","ts":1796083200}',
    'garbage without a time',
    '',
  ];
  const count = (filter: FilterRules, chunk: number) => {
    const tally = new LineTally(false, {
      format: 'auto',
      by: undefined,
      utc: false,
      ipField: undefined,
      timeField: undefined,
      filter,
    });
    const bytes = Buffer.from(lines.join('\n') + '\n');
    for (let at = 0; at < bytes.length; at += chunk) tally.push(bytes.subarray(at, at + chunk));
    tally.end();
    const result = tally.toResult();
    tally.release();
    return {
      total: result.total,
      malformed: result.malformed,
      filtered: result.filtered,
      ip: result.ipv4.count + result.ipv6.count,
    };
  };

  it.each([1, 7, 4096])('counts what is left, and what was left out, in chunks of %i', (chunk) => {
    // The day as written: the -0500 line is the day before; the JSON ts (00:00:00Z) is in.
    expect(
      count(
        rules(bound('2026-12-01T00:00:00Z', false), bound('2026-12-01T23:59:59Z', false)),
        chunk,
      ),
    ).toEqual({ total: 7, malformed: 1, filtered: 1, ip: 6 });
    // The same day in UTC: the +0200 line and the -01:00 JSON line are not.
    expect(
      count(rules(bound('2026-12-01T00:00:00Z', true), bound('2026-12-01T23:59:59Z', true)), chunk),
    ).toEqual({ total: 6, malformed: 1, filtered: 2, ip: 5 });
    // Clients alone: the WebAssembly path's lines are filtered too; the garbage is malformed.
    expect(count(rules(undefined, undefined, ['10.0.0.0/8', '2001:db8::/32']), chunk)).toEqual({
      total: 4,
      malformed: 1,
      filtered: 4,
      ip: 3,
    });
  });
});
