import { describe, expect, it } from 'vitest';
import {
  parseIpBlock,
  parseStatusList,
  parseTimeBound,
  statusMask,
} from '../../../src/logstats/filter-values.ts';

const at = (iso: string): number => Date.parse(iso) / 1000;
// The run's start: spans count back from it.
const NOW_MS = Date.parse('2026-12-06T16:30:45.900Z');

describe('parseTimeBound', () => {
  it.each([
    // A date: its first second, or with until its last, as written (or in UTC with --utc).
    ['2026-12-01', 'since', false, { seconds: at('2026-12-01T00:00:00Z'), instant: false }],
    ['2026-12-01', 'until', false, { seconds: at('2026-12-01T23:59:59Z'), instant: false }],
    ['2026-12-01', 'since', true, { seconds: at('2026-12-01T00:00:00Z'), instant: true }],
    ['2024-02-29', 'until', false, { seconds: at('2024-02-29T23:59:59Z'), instant: false }],
    // A date and time: that second, at either end; an offset makes it an instant.
    ['2026-12-01T08:30', 'since', false, { seconds: at('2026-12-01T08:30:00Z'), instant: false }],
    ['2026-12-01T08:30', 'until', false, { seconds: at('2026-12-01T08:30:00Z'), instant: false }],
    [
      '2026-12-01 08:30:15',
      'since',
      false,
      { seconds: at('2026-12-01T08:30:15Z'), instant: false },
    ],
    [
      '2026-12-01T08:30:15.75',
      'since',
      false,
      { seconds: at('2026-12-01T08:30:15Z'), instant: false },
    ],
    [
      '2026-12-01T08:30+02:00',
      'since',
      false,
      { seconds: at('2026-12-01T06:30:00Z'), instant: true },
    ],
    [
      '2026-12-01T00:30-0500',
      'until',
      false,
      { seconds: at('2026-12-01T05:30:00Z'), instant: true },
    ],
    ['2026-12-01T08:30Z', 'since', false, { seconds: at('2026-12-01T08:30:00Z'), instant: true }],
    ['2026-12-01T08:30', 'since', true, { seconds: at('2026-12-01T08:30:00Z'), instant: true }],
    [
      '2016-12-31T23:59:60Z',
      'until',
      false,
      { seconds: at('2016-12-31T23:59:59Z'), instant: true },
    ],
    // A span back from now, in whole seconds: always an instant.
    ['90s', 'since', false, { seconds: at('2026-12-06T16:29:15Z'), instant: true }],
    ['30m', 'since', false, { seconds: at('2026-12-06T16:00:45Z'), instant: true }],
    ['12h', 'until', false, { seconds: at('2026-12-06T04:30:45Z'), instant: true }],
    ['7d', 'since', false, { seconds: at('2026-11-29T16:30:45Z'), instant: true }],
    ['2w', 'since', true, { seconds: at('2026-11-22T16:30:45Z'), instant: true }],
    ['0d', 'since', false, { seconds: at('2026-12-06T16:30:45Z'), instant: true }],
  ] as const)('%s as %s (utc %s)', (text, end, utc, bound) => {
    expect(parseTimeBound(text, end, NOW_MS, utc)).toEqual(bound);
  });

  it.each([
    '',
    'yesterday',
    '7',
    'd',
    '-7d',
    '7 d',
    '7D',
    '7y',
    '1.5h',
    '2026-12',
    '2026-13-01',
    '2026-02-30',
    '2026-12-1',
    '26-12-01',
    '2026/12/01',
    '2026-12-01T24:00',
    '2026-12-01T08',
    '2026-12-01T08:60',
    '2026-12-01T08:30+25:00',
    '2026-12-01T08:30 garbage',
    ' 2026-12-01',
    '01/Dec/2026:00:00:00 +0000',
    '1733000000',
    '9999999999d',
  ])('refuses %j', (text) => {
    expect(parseTimeBound(text, 'since', NOW_MS, false)).toBeUndefined();
  });
});

describe('parseIpBlock', () => {
  it.each([
    ['192.0.2.7', true, '192.0.2.7', 0xc0000207, 0xc0000207],
    ['192.0.2.7/32', true, '192.0.2.7', 0xc0000207, 0xc0000207],
    ['10.0.0.0/8', true, '10.0.0.0/8', 0x0a000000, 0x0affffff],
    ['0.0.0.0/0', true, '0.0.0.0/0', 0, 0xffffffff],
    ['0.0.0.0', true, '0.0.0.0', 0, 0],
    ['255.255.255.255', true, '255.255.255.255', 0xffffffff, 0xffffffff],
    ['198.51.100.128/25', true, '198.51.100.128/25', 0xc6336480, 0xc63364ff],
    // IPv4-mapped IPv6 is counted as IPv4: so is a mapped block.
    ['::ffff:10.0.0.0/104', true, '10.0.0.0/8', 0x0a000000, 0x0affffff],
    ['::FFFF:192.0.2.7', true, '192.0.2.7', 0xc0000207, 0xc0000207],
  ])('%s is an IPv4 block', (text, v4, canonical, first, last) => {
    expect(parseIpBlock(text)).toEqual({ v4, text: canonical, first, last });
  });

  it.each([
    [
      '2001:db8::/32',
      '2001:db8::/32',
      [0x20010db8, 0, 0, 0],
      [0x20010db8, ~0 >>> 0, ~0 >>> 0, ~0 >>> 0],
    ],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', [0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 1]],
    ['2001:db8::1/128', '2001:db8::1', [0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 1]],
    ['::/0', '::/0', [0, 0, 0, 0], [~0 >>> 0, ~0 >>> 0, ~0 >>> 0, ~0 >>> 0]],
    ['fe80::/10', 'fe80::/10', [0xfe800000, 0, 0, 0], [0xfebfffff, ~0 >>> 0, ~0 >>> 0, ~0 >>> 0]],
    [
      '2001:db8:0:2::/63',
      '2001:db8:0:2::/63',
      [0x20010db8, 2, 0, 0],
      [0x20010db8, 3, ~0 >>> 0, ~0 >>> 0],
    ],
    ['::1', '::1', [0, 0, 0, 1], [0, 0, 0, 1]],
    ['::fffe:0:0/95', '::fffe:0:0/95', [0, 0, 0xfffe, 0], [0, 0, 0xffff, ~0 >>> 0]],
  ])('%s is an IPv6 block', (text, canonical, first, last) => {
    const block = parseIpBlock(text);
    if (typeof block === 'string' || block.v4)
      throw new Error(`not IPv6: ${JSON.stringify(block)}`);
    expect([block.text, [...block.first], [...block.last]]).toEqual([canonical, first, last]);
  });

  it.each([
    ['', 'not an IP address'],
    ['localhost', 'not an IP address'],
    ['10.0.0', 'not an IP address'],
    ['10.0.0.256', 'not an IP address'],
    ['010.0.0.1', 'not an IP address'],
    ['10.0.0.1 ', 'not an IP address'],
    ['fe80::1%eth0', 'not an IP address'],
    ['[2001:db8::1]', 'not an IP address'],
    ['2001:db8::1::2', 'not an IP address'],
    ['10.0.0.0/33', 'an IPv4 prefix is at most /32'],
    ['2001:db8::/129', 'an IPv6 prefix is at most /128'],
    ['10.0.0.0/', 'the prefix length after "/" must be a whole number'],
    ['10.0.0.0/08', 'the prefix length after "/" must be a whole number'],
    ['10.0.0.0/-1', 'the prefix length after "/" must be a whole number'],
    ['10.0.0.0/8/8', 'the prefix length after "/" must be a whole number'],
    ['10.1.2.3/8', 'it has bits set past its /8'],
    ['2001:db8::1/64', 'it has bits set past its /64'],
    ['2001:db8:0:1::/63', 'it has bits set past its /63'],
    ['::ffff:0:0/95', 'it has bits set past its /95'],
    ['::ffff:10.1.0.0/104', 'it has bits set past its /8'],
  ])('refuses %j: %s', (text, why) => {
    expect(parseIpBlock(text)).toBe(why);
  });
});

describe('parseStatusList', () => {
  it.each([
    ['404', ['404']],
    ['4xx,500', ['4xx', '500']],
    [' 4XX , 404,4xx ', ['4xx', '404']],
    ['100,599', ['100', '599']],
  ])('%j -> %j', (text, want) => {
    expect(parseStatusList(text)).toEqual(want);
  });

  it.each([
    ['', 'an empty item'],
    ['4xx,', 'an empty item'],
    ['600', '"600" is not one'],
    ['099', '"099" is not one'],
    ['4x', '"4x" is not one'],
    ['40x', '"40x" is not one'],
    ['2xx-4xx', '"2xx-4xx" is not one'],
  ])('refuses %j: %s', (text, why) => {
    expect(parseStatusList(text)).toBe(why);
  });

  it('marks the codes a list names', () => {
    const mask = statusMask(['4xx', '500']);
    const marked = [...mask.keys()].filter((code) => mask[code] === 1);
    expect(marked).toEqual([...Array.from({ length: 100 }, (_, i) => 400 + i), 500]);
  });
});
