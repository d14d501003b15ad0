import { describe, expect, it } from 'vitest';
import {
  LineCutter,
  OVERSIZED,
  quotesBalance,
  UNBALANCED,
} from '../../../src/download/csv-lines.ts';

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
