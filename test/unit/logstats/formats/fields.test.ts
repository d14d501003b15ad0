import { describe, expect, it } from 'vitest';
import {
  bytesCount,
  Columns,
  isSpaceByte,
  isTab,
  statusCode,
} from '../../../../src/logstats/formats/fields.ts';

const cut = (line: string, quotes: boolean, most = 8, separator = isSpaceByte): string[] => {
  const bytes = Buffer.from(line);
  const columns = new Columns(most);
  const n = columns.cut(bytes, 0, bytes.length, separator, quotes);
  return Array.from({ length: n }, (_, i) =>
    bytes.subarray(columns.starts[i], columns.ends[i]).toString(),
  );
};

describe('cutting a line into columns', () => {
  it.each([
    ['a b c', ['a', 'b', 'c']],
    ['a  b', ['a', '', 'b']],
    ['a ', ['a', '']],
    ['', ['']],
    ['a "b c" d', ['a', 'b c', 'd']],
    ['"x \\" y" z', ['x \\" y', 'z']],
    ['"a "b" c', ['a "b', 'c']],
    ['"unclosed x', ['unclosed x']],
    ['"" x', ['', 'x']],
    ['a "b"', ['a', 'b']],
  ])('cuts %j at spaces, quotes kept together', (line, fields) => {
    expect(cut(line, true)).toEqual(fields);
  });

  it('reads quotes as text without quoting, tabs as the separator, and no further than its room', () => {
    expect(cut('a "b c"', false)).toEqual(['a', '"b', 'c"']);
    expect(cut('a b\tc\t\td', false, 8, isTab)).toEqual(['a b', 'c', '', 'd']);
    expect(cut('a b c d e', false, 2)).toEqual(['a', 'b']);
  });

  it('is linear on a hostile line of quotes and backslashes', () => {
    const line = `${'"\\'.repeat(300_000)} ${'" '.repeat(300_000)}`;
    expect(cut(line, true, 4).length).toBe(4);
  });

  it.each([
    ['123', 123],
    ['-', 0],
    ['', 0],
    ['1a', 0],
    ['1234567890123456', 0],
  ])('reads bytes %j as %d', (text, n) => {
    expect(bytesCount(Buffer.from(text), 0, text.length)).toBe(n);
  });

  it.each([
    ['200', 200],
    ['000', 0],
    ['0ab', -1],
    ['-', -1],
    ['2000', -1],
  ])('reads status %j as %d', (text, n) => {
    expect(statusCode(Buffer.from(text), 0, text.length)).toBe(n);
  });
});
