import { describe, expect, it } from 'vitest';
import { printable } from '../../../src/ui/printable.ts';

describe('printable', () => {
  it.each([
    ['plain ASCII', 'access.log', 'access.log'],
    ['spaces and punctuation', 'a b-c_d (1).log', 'a b-c_d (1).log'],
    ['Chinese', '日志.log', '日志.log'],
    ['emoji', 'logs 🚀.log', 'logs 🚀.log'],
    ['an emoji ZWJ sequence', '👩‍💻.log', '👩‍💻.log'],
    ['an emoji with a variation selector', '❤️.log', '❤️.log'],
    ['accents, combining marks', 'café-é.log', 'café-é.log'],
    ['a backslash is left alone', 'a\\b.log', 'a\\b.log'],
    ['the empty string', '', ''],
    ['ESC: a colour change', 'e\x1b[31mRED.log', 'e\\x1b[31mRED.log'],
    ['a screen clear', '\x1b[2J\x1b[H', '\\x1b[2J\\x1b[H'],
    ['newline, CR, tab', 'a\nb\rc\td', 'a\\nb\\rc\\td'],
    ['NUL and BEL', '\0\x07', '\\x00\\x07'],
    ['DEL', 'a\x7f', 'a\\x7f'],
    ['C1 CSI', 'a\u009b31m', 'a\\u{9b}31m'],
    ['C1 NEL', 'a\u0085b', 'a\\u{85}b'],
    ['line and paragraph separators', 'a\u2028b\u2029', 'a\\u{2028}b\\u{2029}'],
    ['a right-to-left override', 'gol.\u202etxt', 'gol.\\u{202e}txt'],
    ['bidi isolates', '\u2066a\u2069', '\\u{2066}a\\u{2069}'],
    ['a byte that was not UTF-8', '\udcff.log', '\\xff.log'],
    ['bytes that were not UTF-8', 'a\udc80\udcfe', 'a\\x80\\xfe'],
    ['a lone high surrogate', 'a\ud83d', 'a\\u{d83d}'],
    ['a lone low surrogate outside the byte range', '\udc00x', '\\u{dc00}x'],
    ['reversed surrogate halves', '\ude80\ud83d', '\\u{de80}\\u{d83d}'],
  ])('%s', (_name, text, expected) => {
    expect(printable(text)).toBe(expected);
  });

  it('leaves no control character and is idempotent', () => {
    const nasty = Array.from({ length: 0xa0 }, (_, i) => String.fromCharCode(i)).join('');
    const once = printable(`${nasty}\udfff\ud800`);
    expect(once).toMatch(/^[\x20-\x7e]*$/);
    expect(printable(once)).toBe(once);
  });
});
