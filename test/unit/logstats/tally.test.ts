import { describe, expect, it } from 'vitest';
import { ClientUnion, IPv4Set, Tally } from '../../../src/logstats/tally.ts';
import { KeyedTally } from '../../../src/logstats/keyed.ts';
import { formatIPv4 } from '../../../src/logstats/client-ip.ts';

const log = (ips: readonly string[], eol = '\n'): string =>
  ips.map((ip) => `${ip} - - [x] "GET / HTTP/1.1" 200 1${eol}`).join('');

function tallyOf(text: string | Buffer, chunk = 7, top = false, auto = false) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  // `auto`: as with --format auto, where lines that are JSON objects are JSON logs.
  const tally = new Tally(top, 0, auto ? { ipField: undefined } : undefined);
  for (let i = 0; i < bytes.length; i += chunk) tally.push(bytes.subarray(i, i + chunk));
  tally.end();
  return tally.toResult();
}

describe('Tally', () => {
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
    const keyed = new KeyedTally(false, {
      by: 'day',
      utc: false,
      format: 'auto',
      ipField: undefined,
      timeField: undefined,
    });
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

describe('IPv4Set', () => {
  it('keeps every distinct address through many growths, with counts', () => {
    const set = new IPv4Set(true);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100_000; i++) set.add((i * 2654435761) >>> 0);
    }
    set.add(0); // already there (i = 0): no new address
    set.add(0xffffffff, 5);
    expect(set.size).toBe(100_001);
    const { keys, counts } = set.toArrays();
    expect(new Set(keys).size).toBe(100_001);
    const at = keys.indexOf(0xffffffff);
    expect(counts?.[at]).toBe(5);
    expect(counts?.[keys.indexOf(2654435761)]).toBe(3);
  });
});

describe('ClientUnion', () => {
  it('is the exact union of scans, not the sum of their counts', () => {
    const union = new ClientUnion(true);
    union.add(tallyOf(log(['1.1.1.1', '2.2.2.2', '1.1.1.1']), 5, true));
    union.add(tallyOf(log(['2.2.2.2', '3.3.3.3', '::1']), 5, true));
    expect(union.ips).toBe(4);
    expect(union.total).toBe(6);
    expect(union.top(2)).toEqual([
      { ip: '1.1.1.1', requests: 2 },
      { ip: '2.2.2.2', requests: 2 },
    ]);
    expect(union.top(10).map((t) => t.ip)).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3', '::1']);
  });

  it('merges big tables fast enough to finish (keys arrive in hash order)', () => {
    const a = new Tally(false);
    for (let i = 0; i < 200_000; i++) a.ipv4.add(i * 7919);
    const union = new ClientUnion(false);
    union.add(a.toResult());
    union.add(a.toResult());
    expect(union.ips).toBe(200_000);
  });

  it('equals a plain Set union over runs of every size, in any order', () => {
    let seed = 7;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const union = new ClientUnion(true);
    const expected = new Map<number, number>();
    for (const size of [5, 3000, 1, 0, 40_000, 17, 40_000, 2, 900]) {
      const tally = new Tally(true);
      for (let i = 0; i < size; i++) {
        // A small range, so runs share many addresses; and the top of the space.
        const ip = next(10) === 0 ? 0xffffffff - next(3) : next(60_000);
        tally.ipv4.add(ip);
        expected.set(ip, (expected.get(ip) ?? 0) + 1);
      }
      union.add(tally.toResult());
    }
    expect(union.ips).toBe(expected.size);
    const busiest = [...expected].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 3);
    expect(union.top(3)).toEqual(
      busiest.map(([ip, requests]) => ({ ip: formatIPv4(ip), requests })),
    );
  });
});
