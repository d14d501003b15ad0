import { describe, expect, it } from 'vitest';
import { formatIPv4 } from '../../../src/logstats/client-ip.ts';
import { formatIPv6 } from '../../../src/logstats/ipv6.ts';
import { hashesOf, unhashIPv4 } from '../../../src/logstats/ipv4-set.ts';
import { INPUT_BYTES, LineScanner } from '../../../src/logstats/line-scan.ts';
import { LineTally } from '../../../src/logstats/tally.ts';
import { awkwardLine, reference, seeded } from '../../helpers/client-rule.ts';
import { Mismatches } from '../../helpers/mismatches.ts';

const scanner = new LineScanner();

/** What the WebAssembly fast path makes of one line, or undefined when it leaves it to JS. */
function fastPath(line: string): string | undefined {
  const bytes = Buffer.from(`${line}\n`);
  const start = scanner.inputStart;
  scanner.memory.set(bytes, start);
  const end = start + bytes.length;
  const stop = scanner.scan(start, end);
  if (stop === start && scanner.lineEnd < end) return undefined;
  expect(stop).toBe(end);
  if (scanner.lines === 0) return 'blank';
  if (scanner.malformed === 1) return 'malformed';
  expect(scanner.count).toBe(1);
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

  it('agrees with the rule written on strings on every line it takes, of 20,000', () => {
    const next = seeded(7);
    let taken = 0;
    const wrong = new Mismatches();
    for (let i = 0; i < 20_000; i++) {
      const line = awkwardLine(next);
      const fast = fastPath(line);
      if (fast === undefined) continue;
      taken++;
      wrong.check(line, fast, reference(line));
    }
    expect(wrong.found).toEqual([]);
    // The pieces start many lines with an address and " - " or ",": the path is exercised.
    expect(taken).toBeGreaterThan(2000);
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
