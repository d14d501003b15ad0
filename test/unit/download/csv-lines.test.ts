import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  LineCutter,
  OVERSIZED,
  PARSE,
  parseLines,
  quotesBalance,
  UNBALANCED,
} from '../../../src/download/csv-lines.ts';
import { seededRandom } from '../../helpers/seeded.ts';
import { Mismatches } from '../../helpers/mismatches.ts';

describe('LineCutter', () => {
  it.each([
    ['LF', ['a\nb\n'], ['a\nb\n', '']],
    ['CRLF', ['a\r\nb\r\n'], ['a\nb\n', '']],
    ['lone CR', ['a\rb\r'], ['a\nb\n', '']],
    ['a mix', ['h\r\na\nb\rc\r\nd'], ['h\na\nb\nc\n', 'd\n']],
    // The row is out when its CR arrives; the LF that follows in the next chunk is not a row.
    ['CRLF cut between chunks', ['a\r', '\nb\n'], ['a\n', 'b\n', '']],
    ['a line cut between chunks', ['ab', 'c\nd', 'e'], ['', 'abc\n', '', 'de\n']],
    ['an empty line stays empty', ['a\n\n\r\nb\n'], ['a\n\n\nb\n', '']],
    ['unbalanced quotes', ['"a,b\nc\n'], [`${UNBALANCED}\nc\n`, '']],
    ['a long line', ['123456\n12\n'], [`${OVERSIZED}\n12\n`, '']],
    // Reported as soon as it is too long, and nothing of it is held after that.
    [
      'a line that never ends',
      ['1234', '56', '78', '9\n12'],
      ['', OVERSIZED + '\n', '', '', '12\n'],
    ],
  ])('%s', (_, chunks, expected) => {
    const cutter = new LineCutter(5);
    expect([...chunks.map((c) => cutter.push(c)), cutter.end()]).toEqual(expected);
  });
});

describe('quotesBalance', () => {
  it.each([
    ['a,b', true],
    ['"a",b', true],
    ['"a,b",c', true],
    ['"a""b",c', true],
    ['  "a"  ,b', true],
    ['a"b,c', true],
    ['5" screen,c', true],
    ['"a', false],
    ['a,"b', false],
    ['"a"b,c', false],
    ['"a" "b",c', false],
    ['"a""', false],
    ['""', true],
    ['"', false],
  ])('%j -> %s', (line, expected) => {
    expect(quotesBalance(line)).toBe(expected);
  });
});

describe('LineCutter, against its rules written plainly', () => {
  /** Every line ending ends a line; a line over the cap or with unbalanced quotes is marked. */
  const reference = (text: string, max: number): string => {
    const lines = text.split(/\r\n|\r|\n/);
    const tail = lines.pop()!;
    const mark = (line: string) =>
      line.length > max
        ? `${OVERSIZED}\n`
        : line.includes('"') && !quotesBalance(line)
          ? `${UNBALANCED}\n`
          : `${line}\n`;
    return lines.map(mark).join('') + (tail === '' ? '' : mark(tail));
  };

  it('gives the same lines however the text is cut into chunks', () => {
    const alphabet = ['a', 'b', ',', ' ', '"', '\r', '\n', '\n', '\r\n', 'abcdef'];
    const random = seededRandom(11);
    const wrong = new Mismatches();
    for (let i = 0; i < 5000; i++) {
      let text = '';
      for (let n = random(30); n > 0; n--) text += alphabet[random(alphabet.length)];
      const max = 4 + random(12);
      const cutter = new LineCutter(max);
      let out = '';
      for (let from = 0; from < text.length;) {
        const to = from + 1 + random(10);
        out += cutter.push(text.slice(from, to));
        from = to;
      }
      out += cutter.end();
      wrong.check({ text, max }, out, reference(text, max));
    }
    expect(wrong.found).toEqual([]);
  });
});

describe('parseLines', () => {
  it.each([
    [
      'plain rows',
      'a,b,http://x/1\nc,d,http://x/2\n',
      [
        ['a', 'b', 'http://x/1'],
        ['c', 'd', 'http://x/2'],
      ],
    ],
    ['fields trimmed', ' a ,\tb\u00a0,\u3000c\n', [['a', 'b', 'c']]],
    ['blank lines and all-blank records skipped', '\n , ,\na\n\n', [['a']]],
    ['empty fields kept', 'a,,\n', [['a', '', '']]],
    ['ragged rows', 'a\nb,c,d\n', [['a'], ['b', 'c', 'd']]],
    ['a quoted field', '"a,b",c\n', [['a,b', 'c']]],
    ['a marker line', `${OVERSIZED}\n`, [[OVERSIZED]]],
  ])('%s', (_, text, expected) => {
    expect(parseLines(text)).toEqual(expected);
  });

  it('splits quote-free lines exactly as csv-parse does', () => {
    // Seeded random lines over commas, the whitespace csv-parse trims and what it keeps.
    const alphabet = ['a', 'Z', '9', ',', ',', ' ', '\t', '\u000b', '\f', '\u00a0', '\u2028'];
    alphabet.push('\u3000', '\ufeff', '\u200b', '\u0085', 'é', '🐱', '\\', "'", '\n', '\n');
    const random = seededRandom(7);
    const wrong = new Mismatches();
    for (let i = 0; i < 5000; i++) {
      let text = '';
      for (let n = random(40); n > 0; n--) text += alphabet[random(alphabet.length)];
      text += '\n';
      wrong.check(text, parseLines(text), parse(text, PARSE));
    }
    expect(wrong.found).toEqual([]);
  });
});
