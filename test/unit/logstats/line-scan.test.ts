import { describe, expect, it } from 'vitest';
import { formatIPv4 } from '../../../src/logstats/client-ip.ts';
import { formatIPv6 } from '../../../src/logstats/ipv6.ts';
import { hashesOf, unhashIPv4 } from '../../../src/logstats/ipv4-set.ts';
import { INPUT_BYTES, IPV6_MARK, LineScanner } from '../../../src/logstats/line-scan.ts';
import { LineTally } from '../../../src/logstats/tally.ts';
import { awkwardLine, reference, seeded } from '../../helpers/client-rule.ts';
import { Mismatches } from '../../helpers/mismatches.ts';

const scanner = new LineScanner();

/**
 * What the WebAssembly fast path makes of one line, or undefined when it leaves it to JS;
 * with `ipv6`, it takes valid IPv6 clients too.
 */
function fastPath(line: string, ipv6 = false): string | undefined {
  const bytes = Buffer.from(`${line}\n`);
  const start = scanner.inputStart;
  scanner.memory.set(bytes, start);
  const end = start + bytes.length;
  const stop = scanner.scan(start, end, true, ipv6);
  if (stop === start && scanner.lineEnd < end) return undefined;
  expect(stop).toBe(end);
  if (scanner.lines === 0) return 'blank';
  if (scanner.malformed === 1) return 'malformed';
  expect(scanner.count + scanner.count6).toBe(1);
  // The line's mark says which list its client is in.
  expect(scanner.marks[0]! & IPV6_MARK).toBe(scanner.count6 === 1 ? IPV6_MARK : 0);
  expect(scanner.marks[0]! & (IPV6_MARK - 1)).toBe(start);
  if (scanner.count6 === 1) return formatIPv6(scanner.addresses6.subarray(0, 4));
  return formatIPv4(scanner.addresses[0]!);
}

describe('LineScanner: the WebAssembly fast path', () => {
  it.each([
    ['1.2.3.4 - - [22/Mar/2021:10:00:00 +0800] "GET / HTTP/1.1" 200 12', '1.2.3.4'],
    ['1.2.3.4 - frank [x]', '1.2.3.4'],
    ['255.255.255.255 - - [x]', '255.255.255.255'],
    ['0.0.0.0 - - [x]', '0.0.0.0'],
    ['1.2.3.4, 10.0.0.1 - - [x]', '1.2.3.4'],
    ['1.2.3.4,junk', '1.2.3.4'],
    ['  \t1.2.3.4 - - [x]', '1.2.3.4'],
    ['', 'blank'],
    ['  \t ', 'blank'],
    ['01.2.3.4 - - [x]', 'malformed'],
    ['1.2.3.256 - - [x]', 'malformed'],
    ['1.2.3 - - [x]', 'malformed'],
    ['1.2.3.4.5 - - [x]', 'malformed'],
    ['1..2.3 - - [x]', 'malformed'],
    ['9999999999999.1.1.1 - - [x]', 'malformed'],
    [', - - [x]', 'malformed'],
    // left to the full rule
    ['2001:db8::1 - - [x]', undefined],
    ['1.2.3.4', undefined],
    ['1.2.3.4 -', undefined],
    ['1.2.3.4\t- - [x]', undefined],
    ['frank', undefined],
    [' - 1.2.3.4', undefined],
  ])('%j -> %s', (line, expected) => {
    expect(fastPath(line)).toBe(expected);
  });

  it.each([false, true])(
    'agrees with the rule written on strings on every line it takes, of 20,000 (IPv6: %s)',
    (ipv6) => {
      const next = seeded(7);
      let taken = 0;
      let taken6 = 0;
      const wrong = new Mismatches();
      for (let i = 0; i < 20_000; i++) {
        const line = awkwardLine(next);
        const fast = fastPath(line, ipv6);
        if (fast === undefined) continue;
        taken++;
        if (fast.includes(':')) taken6++;
        wrong.check(line, fast, reference(line));
      }
      expect(wrong.found).toEqual([]);
      // The pieces start many lines with an address and " - " or ",": the path is exercised.
      expect(taken).toBeGreaterThan(2000);
      if (ipv6) expect(taken6).toBeGreaterThan(200);
      else expect(taken6).toBe(0);
    },
  );

  it.each([
    ['2001:db8::1 - - [x]', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1, 10.0.0.1 - - [x]', '2001:db8::1'],
    ['  ::1,x', '::1'],
    ['::,x', '::'],
    ['1:2:3:4:5:6:7:8 - - [x]', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:7:: - - [x]', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8 - - [x]', '0:2:3:4:5:6:7:8'],
    ['fe80::a:0:b - - [x]', 'fe80::a:0:b'],
    ['::ffff:a0b:c0d - - [x]', '10.11.12.13'],
    ['::ffff:0:0 - - [x]', '0.0.0.0'],
    // left to the full rule: no address, or one written otherwise
    ['::ffff:10.11.12.13 - - [x]', undefined],
    ['1::2::3 - - [x]', undefined],
    ['12345::1 - - [x]', undefined],
    ['1:2:3:4:5:6:7:8:9 - - [x]', undefined],
    ['1:2:3:4:5:6:7 - - [x]', undefined],
    [':1::2 - - [x]', undefined],
    ['1::2: - - [x]', undefined],
    ['fe80::1%eth0 - - [x]', undefined],
    ['[2001:db8::1] - - [x]', undefined],
    ['2001:db8::1 -', undefined],
    ['2001:db8::1\t- - [x]', undefined],
    [`${'0:'.repeat(22)}1 - - [x]`, undefined],
  ])('with IPv6: %j -> %s', (line, expected) => {
    expect(fastPath(line, true)).toBe(expected);
  });

  it('stops at an unfinished line, and after a long run of lines', () => {
    const text = Buffer.from('1.2.3.4 - a\n5.6.7.8 - b\n9.9.9');
    const start = scanner.inputStart;
    scanner.memory.set(text, start);
    expect(scanner.scan(start, start + text.length)).toBe(start + 24);
    expect(scanner.lineEnd).toBe(start + text.length);
    expect([scanner.lines, scanner.count, scanner.malformed]).toEqual([2, 2, 0]);
    expect([...scanner.addresses.subarray(0, 2)].map(formatIPv4)).toEqual(['1.2.3.4', '5.6.7.8']);
  });

  it('fills its whole input with the shortest lines it takes', () => {
    const line = '0.0.0.0,\n';
    const text = Buffer.from(line.repeat(Math.floor(INPUT_BYTES / line.length)));
    const start = scanner.inputStart;
    scanner.memory.set(text, start);
    expect(scanner.scan(start, start + text.length)).toBe(start + text.length);
    expect(scanner.count).toBe(text.length / line.length);
  });
});

describe('LineTally over the fast path and the full rule together', () => {
  it('counts 3,000 awkward lines as the string rule does, whatever the chunk size', () => {
    const next = seeded(11);
    const lines = Array.from({ length: 3000 }, () => awkwardLine(next));
    const eols = lines.map(() => (next(4) === 0 ? '\r\n' : '\n'));
    const text = Buffer.from(lines.map((line, i) => line + eols[i]).join(''));
    const answers = lines.map((line) => reference(line));
    const counted = answers.filter((a) => a !== 'blank');
    const expected = {
      total: counted.length,
      malformed: counted.filter((a) => a === 'malformed').length,
      clients: new Set(counted.filter((a) => a !== 'malformed')),
    };
    for (const chunk of [1, 2, 5, 64, 4096, text.length]) {
      const tally = new LineTally(false);
      for (let at = 0; at < text.length; at += chunk) tally.push(text.subarray(at, at + chunk));
      tally.end();
      const result = tally.toResult();
      const clients = new Set([
        ...[...hashesOf(result.ipv4)].map((hash) => formatIPv4(unhashIPv4(hash))),
        ...Array.from({ length: result.ipv6.count }, (_, i) =>
          formatIPv6(result.ipv6.words.subarray(i * 4, i * 4 + 4)),
        ),
      ]);
      expect([chunk, result.total, result.malformed]).toEqual([
        chunk,
        expected.total,
        expected.malformed,
      ]);
      expect(clients).toEqual(expected.clients);
    }
  });
});
