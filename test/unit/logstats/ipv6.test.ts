import { describe, expect, it } from 'vitest';
import { formatIPv6, parseIPv6 } from '../../../src/logstats/ipv6.ts';
import { seeded, urlIPv6 } from '../../helpers/client-rule.ts';
import { Mismatches } from '../../helpers/mismatches.ts';

function canonical(text: string): string | undefined {
  const words = new Uint32Array(4);
  const bytes = Buffer.from(text, 'latin1');
  return parseIPv6(bytes, 0, bytes.length, words) ? formatIPv6(words) : undefined;
}

describe('parseIPv6 and formatIPv6', () => {
  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['2001:db8::g', undefined],
    ['2001:db8:::1', undefined],
    ['0:0:1:0:0:0:1:0', '0:0:1::1:0'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['0001:0002::000a', '1:2::a'],
    [':1', undefined],
    ['1:', undefined],
    ['1:::2', undefined],
    ['1::2::3', undefined],
    ['12345::', undefined],
    ['1:2:3:4:5:6:7', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['::1.2.3', undefined],
    ['::01.2.3.4', undefined],
    ['::1.2.3.256', undefined],
    ['1:2:3:4:5:6:7:1.2.3.4', undefined],
    ['1.2.3.4', undefined],
    ['fe80::1%eth0', undefined],
    ['', undefined],
  ])('%j -> %s', (text, expected) => {
    expect(canonical(text)).toBe(expected);
    expect(urlIPv6(text)).toBe(expected);
  });

  it('agrees with the URL parser on 100,000 strings of hex digits, colons and dots', () => {
    const next = seeded(5);
    const pieces = [
      '0',
      '1',
      'a',
      'F',
      '00',
      'ffff',
      '12345',
      ':',
      '::',
      '.',
      '1.2.3.4',
      '255',
      '0.0',
    ];
    const wrong = new Mismatches();
    for (let i = 0; i < 100_000; i++) {
      let text = '';
      for (let k = 1 + next(9); k > 0; k--) text += pieces[next(pieces.length)];
      wrong.check(text, canonical(text), urlIPv6(text));
    }
    expect(wrong.found).toEqual([]);
  });

  it('round-trips random addresses with runs of zero pieces', () => {
    const next = seeded(9);
    const wrong = new Mismatches();
    for (let i = 0; i < 20_000; i++) {
      const words = Uint32Array.from({ length: 4 }, () =>
        next(3) === 0 ? 0 : (next(1 << 16) * 0x10000 + (next(2) ? 0 : next(1 << 16))) >>> 0,
      );
      const text = formatIPv6(words);
      const back = new Uint32Array(4);
      const parsed = parseIPv6(Buffer.from(text), 0, text.length, back);
      // Canonical as the URL parser writes it, and read back to the same words.
      wrong.check([...words], [urlIPv6(text), parsed, [...back]], [text, true, [...words]]);
    }
    expect(wrong.found).toEqual([]);
  });
});
