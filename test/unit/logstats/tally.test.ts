import { describe, expect, it } from 'vitest';
import type { LineRules } from '../../../src/logstats/formats/index.ts';
import { unionSize } from '../../../src/logstats/ipv4-set.ts';
import { LineTally } from '../../../src/logstats/tally.ts';

const log = (ips: readonly string[], eol = '\n'): string =>
  ips.map((ip) => `${ip} - - [x] "GET / HTTP/1.1" 200 1${eol}`).join('');

/** The command line's rules: --format auto and nothing else unless `given`. */
const rules = (given: Partial<LineRules> = {}): LineRules => ({
  format: 'auto',
  by: undefined,
  utc: false,
  ipField: undefined,
  timeField: undefined,
  ...given,
});

function tallyOf(text: string | Buffer, chunk = 7, top = false, auto = false) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  // `auto`: as with --format auto, where lines that are JSON objects are JSON logs; else as
  // a scan given no rules (common/combined only).
  return fed(new LineTally(top, auto ? rules() : undefined), bytes, chunk);
}

/** What `tally` makes of `bytes` pushed `size` bytes at a time. */
function fed(tally: LineTally, bytes: Buffer, size: number) {
  for (let at = 0; at < bytes.length; at += size) tally.push(bytes.subarray(at, at + size));
  tally.end();
  return tally.toResult();
}

describe('LineTally', () => {
  it.each([1, 3, 7, 64, 1 << 16])('counts the same whatever the chunk size (%d)', (chunk) => {
    const text =
      log(['1.2.3.4', '1.2.3.4', '5.6.7.8', '2001:db8::1', '2001:DB8:0::1']) + 'junk\n\n  \n';
    const result = tallyOf(text, chunk);
    expect(result.total).toBe(6);
    expect(result.malformed).toBe(1);
    expect(result.ipv4.count + result.ipv6.count).toBe(3);
    expect(result.bytes).toBe(Buffer.byteLength(text));
  });

  it('counts a last line without a newline, and CRLF line ends', () => {
    const text = log(['1.1.1.1', '2.2.2.2'], '\r\n') + '3.3.3.3 - - [x]';
    const result = tallyOf(text);
    expect(result.total).toBe(3);
    expect(result.ipv4.count).toBe(3);
  });

  it('counts a megabyte line of garbage as one malformed line', () => {
    const long = Buffer.alloc((1 << 20) + 10, 0x61);
    const text = Buffer.concat([
      Buffer.from(log(['1.1.1.1'])),
      long,
      Buffer.from('\n'),
      Buffer.from(log(['2.2.2.2'])),
    ]);
    const result = tallyOf(text, 65536);
    expect(result).toMatchObject({ total: 3, malformed: 1 });
    expect(result.ipv4.count).toBe(2);
  });

  it.each([7, 4096, 1 << 20])(
    'counts a 5 MB line by its client, whatever the read size (%d)',
    (chunk) => {
      const text = `1.2.3.4 - - [${'x'.repeat(5_000_000)}]\n${log(['5.6.7.8'])}`;
      const result = tallyOf(text, chunk);
      expect(result).toMatchObject({ total: 2, malformed: 0 });
      expect(result.ipv4.count).toBe(2);
    },
  );

  it.each([
    ['LF', 'a - x\nb - y\n', 2],
    ['CRLF', 'a - x\r\nb - y\r\n', 2],
    ['CR alone (old Mac)', 'a - x\rb - y\r', 2],
    ['CR alone, no final one', 'a - x\rb - y', 2],
    ['mixed, and blank lines of each', 'a - x\r\r\n\nb - y\n\r  \rc - z', 3],
    ['CR in the client field', '1.2.3.4\r5.6.7.8 - y', 2],
  ])('ends lines at %s', (_what, text, lines) => {
    const withIps = text.replace(
      /[abc] -/g,
      (m) => `${{ a: '1.1.1.1', b: '2.2.2.2', c: '3.3.3.3' }[m[0] as 'a' | 'b' | 'c']} -`,
    );
    for (const chunk of [1, 2, 3, 64]) {
      const result = tallyOf(withIps, chunk);
      expect([chunk, result.total, result.malformed, result.ipv4.count]).toEqual([
        chunk,
        lines,
        0,
        lines,
      ]);
    }
  });

  it.each([
    ['alone', ['0.0.0.0'], 1],
    ['among others', ['1.2.3.4', '0.0.0.0', '1.2.3.4', '0.0.0.0'], 2],
    ['after an X-Forwarded-For comma', ['0.0.0.0, 10.0.0.1'], 1],
  ])('counts 0.0.0.0 as a client (%s)', (_, ips, distinct) => {
    for (const top of [false, true]) {
      const result = tallyOf(log(ips), 1 << 16, top);
      expect([top, result.malformed, result.ipv4.count]).toEqual([top, 0, distinct]);
    }
  });

  it('with --format auto, reads a JSON line whole whatever pieces it comes in', () => {
    const json = (ip: string, pad = 0): string =>
      JSON.stringify({ remote_addr: ip, request: `GET /${'a'.repeat(pad)}` });
    const text = [
      json('1.1.1.1'),
      log(['2.2.2.2']).trimEnd(),
      json('3.3.3.3', 300),
      `  ${json('2001:db8::1')}\r`,
      json('4.4.4.4'),
      '{"remote_addr": "5.5.5.5", "broken',
      json('6.6.6.6'),
    ].join('\n');
    for (const chunk of [1, 2, 7, 64, 333, 1 << 16]) {
      const result = tallyOf(text, chunk, false, true);
      expect([chunk, result.total, result.malformed, result.ipv4.count, result.ipv6.count]).toEqual(
        [chunk, 7, 1, 5, 1],
      );
    }
  });

  it('with --format auto, reads JSON lines up to 1 MiB whole; a longer one is malformed', () => {
    const json = (ip: string, length: number): string => {
      const head = JSON.stringify({ remote_addr: ip, pad: '' });
      return `${head.slice(0, -2)}${'a'.repeat(length - head.length)}"}`;
    };
    const lines = [
      json('1.1.1.1', 600 * 1024),
      json('2.2.2.2', 1 << 20),
      json('3.3.3.3', (1 << 20) + 1),
    ];
    expect(lines.map((line) => line.length)).toEqual([600 * 1024, 1 << 20, (1 << 20) + 1]);
    for (const chunk of [4096, 1 << 19, 1 << 21]) {
      const result = tallyOf(`${lines.join('\n')}\n${log(['9.9.9.9'])}`, chunk, false, true);
      expect([chunk, result.total, result.malformed, result.ipv4.count]).toEqual([chunk, 4, 1, 3]);
    }
  });

  it('with --format auto, still counts a 5 MB common-log line by its client', () => {
    const text = `1.2.3.4 - - [${'x'.repeat(5_000_000)}]\n${log(['5.6.7.8'])}`;
    const result = tallyOf(text, 1 << 16, false, true);
    expect(result).toMatchObject({ total: 2, malformed: 0 });
    expect(result.ipv4.count).toBe(2);
  });

  it('survives NUL bytes and invalid UTF-8', () => {
    const text = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x0a]), Buffer.from(log(['9.9.9.9']))]);
    expect(tallyOf(text)).toMatchObject({ total: 2, malformed: 1 });
  });
});

describe('bytes that are not text (NUL, invalid UTF-8), as the README says', () => {
  const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
  it.each([
    [
      'after the client of a common-log line: read past',
      '1.2.3.4 - - [x] "GET /\x00\xff\xfe" 200 1',
      1,
    ],
    ['a NUL inside the client field', '1.2.3.\x004 - - [x]', 0],
    ['a non-UTF-8 byte inside the client field', '1.2.3.4\xff - - [x]', 0],
    ['a NUL before the client', '\x001.2.3.4 - - [x]', 0],
    [
      'invalid UTF-8 in a JSON line, outside the client',
      '{"remote_addr":"1.2.3.4","ua":"\xff\xfe"}',
      1,
    ],
    ['invalid UTF-8 in a JSON client', '{"remote_addr":"1.2.3.4\xff"}', 0],
    ['a raw NUL in a JSON line: not JSON', '{"remote_addr":"1.2.3.4","ua":"a\x00b"}', 0],
    ['an escaped NUL in a JSON line', '{"remote_addr":"1.2.3.4","ua":"a\\u0000b"}', 1],
  ])('%s', (_, line, clients) => {
    const text = bytes(`${line}\n`);
    const plain = tallyOf(text, 5, false, true);
    const keyed = new LineTally(false, rules({ by: 'day' }));
    keyed.push(text);
    keyed.end();
    for (const result of [plain, keyed.toResult()]) {
      expect([result.total, result.malformed, result.ipv4.count]).toEqual([
        1,
        1 - clients,
        clients,
      ]);
    }
  });
});

const mixedDays = [
  '1.1.1.1 - - [21/Mar/2021:10:00:00 +0800] "GET / HTTP/1.1" 200 1',
  '{"remote_addr":"2.2.2.2","time":"2021-03-21T23:00:00+08:00"}',
  '',
  `3.3.3.3 - - [22/Mar/2021:01:00:00 +0800] "GET /${'x'.repeat(3000)} HTTP/1.1" 200 1\r`,
  'junk',
  '{"remote_addr":"::1","time":"2021-03-22T01:00:00Z"}',
  '1.1.1.1 - - [22/Mar/2021:02:00:00 +0800] "GET / HTTP/1.1" 200 1',
].join('\n');

/** The tally of `mixedDays` fed in pieces of `size` bytes. */
function tallyIn(size: number) {
  const result = fed(new LineTally(false, rules({ by: 'day' })), Buffer.from(mixedDays), size);
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

describe('LineTally --by day, common and JSON lines mixed', () => {
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
});

describe('LineTally --by on the fast path', () => {
  /** Generated combined lines over days and offsets, with the lines the fast path refuses. */
  function awkwardDays(lines: number): Buffer {
    let seed = 11;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const out: string[] = [];
    for (let i = 0; i < lines; i++) {
      const client = [
        `10.0.${next(4)}.${next(256)}`,
        `1.2.3.${200 + next(100)}`, // over 255 half the time: malformed on the fast path
        `2001:db8::${next(50).toString(16)}`,
        `01.2.3.4`,
        `9.9.9.${next(9)}, 10.1.1.1`,
        `::ffff:a00:${next(50).toString(16)}`, // 10.0.0.x, taken by the fast path as IPv4
        `2001:DB8:0:0:0:0:${next(9)}:1,1.2.3.4`,
      ][next(7)]!;
      const day = String(20 + next(3)).padStart(2, '0');
      const time = [
        `[${day}/Mar/2021:${String(next(24)).padStart(2, '0')}:00:00 +0${next(9)}00]`,
        '[x]',
      ][next(8) === 0 ? 1 : 0]!;
      const eol = ['\n', '\r\n', '\n'][next(3)]!;
      out.push(
        next(40) === 0 ? `junk${eol}` : `${client} - - ${time} "GET / HTTP/1.1" 200 1${eol}`,
      );
    }
    return Buffer.from(out.join(''));
  }

  it.each(['day', 'hour'] as const)(
    '--by %s counts each group as the line-by-line reader does, in any pieces',
    (by) => {
      const text = awkwardDays(20_000);
      const tally = (given: Partial<LineRules>, size: number) => {
        const result = fed(new LineTally(true, rules({ by, ...given })), text, size);
        return {
          total: result.total,
          malformed: result.malformed,
          ip: unionSize([result.ipv4]) + result.ipv6.count,
          groups: result.groups!.map((g) => [
            g.key,
            g.total,
            g.malformed,
            unionSize([g.ipv4]),
            g.ipv6.count,
          ]),
        };
      };
      // A filter that leaves nothing out sends every line through the line-by-line reader.
      const lineByLine = tally(
        { filter: { since: undefined, until: undefined, excludeIps: [] } },
        1 << 20,
      );
      expect(lineByLine.groups.length).toBeGreaterThan(3);
      for (const size of [1 << 20, 4096, 333])
        expect(tally({}, size), `${size}`).toEqual(lineByLine);
    },
  );
});
