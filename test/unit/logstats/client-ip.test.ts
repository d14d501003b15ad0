import { describe, expect, it } from 'vitest';
import { formatIPv4, parseIPv4 } from '../../../src/logstats/client-ip.ts';
import { awkwardLine, clientIp, reference, seeded } from '../../helpers/client-rule.ts';
import { Mismatches } from '../../helpers/mismatches.ts';

describe('clientIp: the client field of an access-log line', () => {
  it.each([
    // combined and common format
    ['1.2.3.4 - - [22/Mar/2021:10:00:00 +0800] "GET / HTTP/1.1" 200 12 "-" "curl/8"', '1.2.3.4'],
    ['1.2.3.4 - - [22/Mar/2021:10:00:00 +0800] "GET / HTTP/1.1" 200 12', '1.2.3.4'],
    // ident and auth user fields (the tutorial's rule split at the first " - " too late)
    ['1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326', '1.2.3.4'],
    ['10.0.0.1 - alice@example.com [x] "GET /" 200 1', '10.0.0.1'],
    // X-Forwarded-For lists: the first element, trimmed
    ['1.2.3.4, 10.0.0.1 - - [x] "GET /" 200 1', '1.2.3.4'],
    ['  1.2.3.4 ,10.0.0.1, 10.0.0.2 - - [x]', '1.2.3.4'],
    ['garbage, 1.2.3.4 - - [x]', 'malformed'],
    // no " - ": the first whitespace-separated token
    ['1.2.3.4 GET /index.html', '1.2.3.4'],
    ['1.2.3.4', '1.2.3.4'],
    ['1.2.3.4\t-\t-\t[x]', '1.2.3.4'],
    ['1.2.3.4\r', '1.2.3.4'],
    // IPv6, compared in canonical form
    ['2001:DB8::1 - - [x]', '2001:db8::1'],
    ['2001:db8:0:0:0:0:0:1 - - [x]', '2001:db8::1'],
    ['::1 - - [x]', '::1'],
    ['fe80::1%eth0 - - [x]', 'malformed'],
    // IPv4-mapped IPv6 is an IPv4 client on a dual-stack socket
    ['::ffff:1.2.3.4 - - [x]', '1.2.3.4'],
    ['::FFFF:0102:0304 - - [x]', '1.2.3.4'],
    // blank and whitespace-only lines
    ['', 'blank'],
    ['   \t  ', 'blank'],
    ['\r', 'blank'],
    // garbage and invalid addresses
    ['999.1.1.1 - - [x]', 'malformed'],
    ['1.2.3 - - [x]', 'malformed'],
    ['1.2.3.4.5 - - [x]', 'malformed'],
    ['01.2.3.4 - - [x]', 'malformed'],
    ['1.2.3.256 - - [x]', 'malformed'],
    ['- - - [x]', 'malformed'],
    [' - 1.2.3.4', 'malformed'],
    ['hello world', 'malformed'],
    ['1.2.3.4frank - - [x]', 'malformed'],
    ['1.2.3.4 frank - [x]', 'malformed'],
    ['\u0000\u0001 - - [x]', 'malformed'],
    ['１.２.３.４ - - [x]', 'malformed'],
    [`${'1'.repeat(100)} - - [x]`, 'malformed'],
    // around the fast path for "address - " and "address,"
    ['1.2.3.4,junk - - [x]', '1.2.3.4'],
    ['999.1.1.1, 1.2.3.4 - - [x]', 'malformed'],
    ['1.2.3.4 -x', '1.2.3.4'],
    ['1.2.3.4 -x - y', 'malformed'],
    ['1.2.3.4 - ', '1.2.3.4'],
    ['1.2.3.4 -', '1.2.3.4'],
    ['1.2.3.4.', 'malformed'],
    ['1.2.3.4. - - [x]', 'malformed'],
  ])('%j -> %s', (line, expected) => {
    expect(clientIp(line)).toBe(expected);
  });

  it('agrees with the rule written on strings, on 20,000 lines built from awkward pieces', () => {
    const next = seeded(42);
    const wrong = new Mismatches();
    for (let i = 0; i < 20_000; i++) {
      const line = awkwardLine(next);
      wrong.check(line, clientIp(line), reference(line));
    }
    expect(wrong.found).toEqual([]);
  });

  it('treats invalid UTF-8 as malformed, not as an error', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x2e, 0x31, 0x20, 0x2d, 0x20]);
    expect(clientIp(bytes.toString('latin1'))).toBe('malformed');
  });
});

describe('parseIPv4 and formatIPv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['1.2.3.4', 0x01020304],
    ['192.168.0.10', 0xc0a8000a],
  ])('%s <-> %d', (text, value) => {
    const bytes = Buffer.from(text);
    expect(parseIPv4(bytes, 0, bytes.length)).toBe(value);
    expect(formatIPv4(value)).toBe(text);
  });

  it.each(['', '1..2.3', '.1.2.3', '1.2.3.', '256.0.0.0', '00.1.2.3', '1.2.3.4 '])(
    'rejects %j',
    (text) => {
      const bytes = Buffer.from(text);
      expect(parseIPv4(bytes, 0, bytes.length)).toBe(-1);
    },
  );
});
