import { describe, expect, it } from 'vitest';
import {
  compileLogFormat,
  customFormat,
  type LogFormatSpec,
} from '../../../../src/logstats/formats/custom.ts';
import { MisreadLines, misreadExample } from '../../../../src/logstats/formats/misread.ts';
import { readLine, requestOf, rules, slot } from './reader.ts';

const GOACCESS = '%h %^[%d:%t %^] "%r" %s %b "%R" "%u"';
const NGINX =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
const LINE =
  '1.2.3.4 - frank [10/Oct/2000:23:55:36 -0700] "GET /a b?q=1 HTTP/1.1" 404 - "http://x.example/" "Mozilla \\"q\\" (X11)"';

const reader = (spec: LogFormatSpec, given = {}) => customFormat(spec).reader(rules(given));

describe('--log-format', () => {
  it.each([
    [GOACCESS, '1.2.3.4'],
    [NGINX, '1.2.3.4'],
  ])('reads clients, times and requests by %j', (pattern) => {
    const asked = { by: 'day' as const, panels: ['paths' as const, 'hours' as const] };
    const { client, out } = readLine(reader({ pattern }, asked), LINE);
    expect(client).toBe('1.2.3.4');
    expect(requestOf(out)).toEqual({
      status: 404,
      target: '/a b',
      sent: 0,
      referrer: 'http://x.example/',
      agent: 'Mozilla "q" (X11)',
      hour: 23,
    });
    expect(out.key).toBe('2000-10-10');
  });

  it("reads GoAccess's times as written (its %^ skips the offset), nginx's with the offset", () => {
    const asked = { by: 'day' as const, utc: true };
    expect(readLine(reader({ pattern: GOACCESS }, asked), LINE).out.key).toBe('2000-10-10');
    expect(readLine(reader({ pattern: NGINX }, asked), LINE).out.key).toBe('2000-10-11');
    const withZone = reader({ pattern: '%h [%x]', datetimeFormat: '%d/%b/%Y:%H:%M:%S %z' }, asked);
    expect(readLine(withZone, '1.2.3.4 [10/Oct/2000:23:55:36 -0700]').out.key).toBe('2000-10-11');
  });

  it('reads dates and times in the formats given, ISO 8601 and Unix seconds', () => {
    const asked = { by: 'hour' as const };
    const w3c = reader({ pattern: '%d %t %h', dateFormat: '%Y-%m-%d', timeFormat: '%T' }, asked);
    expect(readLine(w3c, '2024-01-05 07:08:09 ::1').out.key).toBe('2024-01-05 07:00');
    expect(readLine(w3c, '2024-02-30 07:08:09 ::1').out.key).toBe('unknown');
    const iso = reader({ pattern: '$time_iso8601 $remote_addr' }, asked);
    expect(readLine(iso, '2024-01-05T07:08:09+02:00 ::1').out.key).toBe('2024-01-05 07:00');
    const msec = reader({ pattern: '$msec $remote_addr' }, asked);
    expect(readLine(msec, '1704438489.123 ::1').out.key).toBe('2024-01-05 07:00');
    expect(readLine(msec, 'x ::1').out.key).toBe('unknown');
  });

  it('takes the path from %U or $request_uri before the request line', () => {
    const asked = { panels: ['paths' as const] };
    const uri = reader({ pattern: '%h %U "%r"' }, asked);
    expect(readLine(uri, '::1 /x?y "GET /z HTTP/1.1"').out.target).toBe('/x');
    expect(readLine(uri, '::1 - "GET /z HTTP/1.1"').out.target).toBe('/z');
    const nginxUri = reader({ pattern: '$remote_addr $uri' }, asked);
    expect(readLine(nginxUri, '::1 /p?q').out.target).toBe('/p?q');
    // No referrer or agent field: none, as for the common log format.
    expect([
      readLine(uri, '::1 /x "r"').out.referrer,
      readLine(uri, '::1 /x "r"').out.agent,
    ]).toEqual([undefined, undefined]);
  });

  it('counts a line it cannot read malformed, keeping the first few reasons, escaped', () => {
    const read = reader({ pattern: GOACCESS });
    const lines = [
      'junk \x1b[2J',
      'zz - - [d:t z] "r" 200 1 "-" "-"',
      '',
      'a',
      'b',
      `${'x'.repeat(300)}`,
    ];
    const kinds = lines.map((line) => readLine(read, line).client);
    expect(kinds).toEqual([
      'malformed',
      'malformed',
      'blank',
      'malformed',
      'malformed',
      'malformed',
    ]);
    expect(read.misread).toEqual({
      lines: 5,
      examples: [
        'no ":" after %d: "junk \\x1b[2J"',
        '%h "zz" is not an IP address: "zz - - [d:t z] "r" 200 1 "-" "-""',
        'no " " after %h: "a"',
      ],
    });
  });

  it('reads a line that came in pieces from the text kept of it', () => {
    const out = slot();
    const kept = Buffer.from(LINE);
    const kind = reader({ pattern: GOACCESS }).readCarried(
      { kept, cut: false, client: Buffer.from('x') },
      out,
    );
    expect(kind).toBe(0x01020304);
  });

  it.each([
    [{ pattern: '' }, 'the format is empty: write'],
    [{ pattern: '%s %b' }, 'it names no client: %h'],
    [{ pattern: '$status' }, 'it names no client: $remote_addr'],
    [{ pattern: '%h %Z' }, '%Z is not a specifier crew reads'],
    [
      { pattern: '%h [%d]', dateFormat: '%d/%q' },
      '--date-format "%d/%q": %q is not one crew reads',
    ],
    [{ pattern: '%h%s' }, '%h and %s have nothing between them'],
    [{ pattern: `%h ${'x'.repeat(4096)}` }, 'formats are at most 4096 characters'],
  ])('refuses %j, saying what it expected', (spec, why) => {
    const compiled = compileLogFormat(spec);
    expect(typeof compiled === 'string' && compiled.startsWith(why)).toBe(true);
  });

  it('compiles with GoAccess-like defaults for %d, %t and %x', () => {
    expect(typeof compileLogFormat({ pattern: '%h [%d:%t]' })).toBe('object');
    expect(typeof compileLogFormat({ pattern: '%h [%x]' })).toBe('object');
  });
});

describe('misread lines', () => {
  it('add up, keeping at most three examples, and refuse what a hostile row holds', () => {
    const misread = new MisreadLines();
    misread.add(() => misreadExample('why', 'a\nb'));
    misread.absorb({ lines: 4, examples: ['x', 'y', 'z'] });
    misread.absorb({ lines: -1, examples: 'no' as unknown as string[] });
    misread.absorb({ lines: 1.5, examples: [7 as unknown as string] });
    expect(misread.toResult()).toEqual({ lines: 5, examples: ['why: "a\\nb"', 'x', 'y'] });
    expect(new MisreadLines().toResult()).toBeUndefined();
  });
});
