import { describe, expect, it } from 'vitest';
import { comparePaths, fileNameText } from '../../../src/logstats/file-names.ts';
import { printable } from '../../../src/ui/printable.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);
const text = (s: string) => new TextEncoder().encode(s);

describe('fileNameText', () => {
  it.each<[string, Uint8Array, string, string]>([
    ['ASCII', text('a.log'), 'a.log', 'a.log'],
    ['UTF-8', text('日志🚀.log'), '日志🚀.log', '日志🚀.log'],
    ['a lone 0xff', bytes(0xff, 0x2e, 0x6c), '\udcff.l', '\\xff.l'],
    ['Latin-1 é', bytes(0x63, 0x61, 0x66, 0xe9), 'caf\udce9', 'caf\\xe9'],
    ['a stray continuation byte', bytes(0x80), '\udc80', '\\x80'],
    ['a truncated 2-byte sequence', bytes(0xc3), '\udcc3', '\\xc3'],
    ['a truncated 3-byte sequence', bytes(0xe6, 0x97, 0x41), '\udce6\udc97A', '\\xe6\\x97A'],
    ['an overlong slash', bytes(0xc0, 0xaf), '\udcc0\udcaf', '\\xc0\\xaf'],
    ['overlong 3-byte', bytes(0xe0, 0x80, 0xaf), '\udce0\udc80\udcaf', '\\xe0\\x80\\xaf'],
    [
      'a UTF-16 surrogate in UTF-8',
      bytes(0xed, 0xa0, 0x80),
      '\udced\udca0\udc80',
      '\\xed\\xa0\\x80',
    ],
    [
      'above U+10FFFF',
      bytes(0xf4, 0x90, 0x80, 0x80),
      '\udcf4\udc90\udc80\udc80',
      '\\xf4\\x90\\x80\\x80',
    ],
    ['valid next to invalid', bytes(0xe6, 0x97, 0xa5, 0xff), '日\udcff', '日\\xff'],
    ['a 4-byte emoji then a bad byte', bytes(0xf0, 0x9f, 0x9a, 0x80, 0xfe), '🚀\udcfe', '🚀\\xfe'],
  ])('%s', (_name, input, expected, shown) => {
    expect(fileNameText(input)).toBe(expected);
    expect(printable(fileNameText(input))).toBe(shown);
  });
});

describe('comparePaths', () => {
  const path = (...parts: string[]) => parts.map(text);
  it.each([
    [path('a', 'z'), path('a-b'), -1],
    [path('a'), path('a', 'b'), -1],
    [path('b'), path('a', 'z'), 1],
    [path('x', 'y'), path('x', 'y'), 0],
    [[bytes(0xff)], path('z'), 1],
  ])('%#', (a, b, sign) => {
    expect(Math.sign(comparePaths(a, b))).toBe(sign);
  });

  // Names listed as text (UTF-8 ones) sort as their bytes do, beside names kept as bytes.
  const names = [
    'a',
    'a-b',
    'b',
    'é',
    '\u{e000}',
    '\u{ffff}',
    '🚀',
    '\u{10ffff}',
    'z',
    'ä.log',
    '日志',
  ];
  it('orders text names as their UTF-8 bytes', () => {
    const byBytes = [...names].sort((x, y) => Buffer.compare(text(x), text(y)));
    expect([...names].sort((x, y) => comparePaths([x], [y]))).toEqual(byBytes);
    // U+E000 and U+FFFF come before U+1F680 in UTF-8 (and code points), not in UTF-16 units.
    expect(byBytes.indexOf('\u{ffff}')).toBeLessThan(byBytes.indexOf('🚀'));
    for (const x of names) {
      for (const y of names) {
        const sign = Math.sign(Buffer.compare(text(x), text(y)));
        expect(Math.sign(comparePaths([x], [y]))).toBe(sign);
        expect(Math.sign(comparePaths([x], [text(y)]))).toBe(sign);
        expect(Math.sign(comparePaths(['d', x], ['d', y]))).toBe(sign);
      }
    }
  });

  it('orders a text name beside one that is not UTF-8 by bytes', () => {
    expect(Math.sign(comparePaths(['z'], [bytes(0xff)]))).toBe(-1);
    expect(Math.sign(comparePaths([bytes(0xc3)], ['é']))).toBe(-1);
    expect(Math.sign(comparePaths(['a', 'z'], ['a-b']))).toBe(-1);
  });
});
