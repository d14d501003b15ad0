import { describe, expect, it } from 'vitest';
import { lineEnd, LineEnds } from '../../../src/logstats/line-end.ts';

/** Every line end of `text` from the start, by `lineEnd` and by `LineEnds`. */
function ends(text: string, to = text.length): { one: number[]; chunk: number[] } {
  const bytes = Buffer.from(text, 'latin1');
  const one: number[] = [];
  for (let pos = 0; pos <= to;) {
    const end = lineEnd(bytes, pos, to);
    one.push(end);
    pos = end + 1;
  }
  const chunk: number[] = [];
  const finder = new LineEnds();
  finder.start(bytes, to);
  for (let pos = 0; pos <= to;) {
    const end = finder.next(pos);
    chunk.push(end);
    pos = end + 1;
  }
  return { one, chunk };
}

describe('line ends', () => {
  it.each([
    ['a\nb\n', [1, 3, 4]],
    ['a\r\nb', [1, 2, 4]],
    ['\r\r\n\n', [0, 1, 2, 3, 4]],
    ['no end', [6]],
    ['', [0]],
  ])('%j', (text, want) => {
    const { one, chunk } = ends(text);
    expect(one).toEqual(want);
    expect(chunk).toEqual(want);
  });

  it('reads no line end past the chunk (a reused buffer holds old bytes there)', () => {
    expect(ends('ab\ncd\r\nold\nbytes', 5)).toEqual({ one: [2, 5], chunk: [2, 5] });
  });

  it('agrees with lineEnd on generated text of LF, CR and CRLF lines', () => {
    let seed = 3;
    const pick = (): string => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return ['x', 'yy', '\n', '\r', '\r\n', ' '][seed % 6]!;
    };
    const text = Array.from({ length: 5000 }, pick).join('');
    const { one, chunk } = ends(text);
    expect(chunk).toEqual(one);
  });
});
