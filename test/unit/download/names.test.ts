import { describe, expect, it } from 'vitest';
import {
  capBytes,
  fileName,
  Fingerprints,
  MAX_NAME_BYTES,
  NameBook,
  applyRules,
  safeStem,
  stemFor,
  withoutExtension,
} from '../../../src/download/names.ts';
import { seededRandom } from '../../helpers/seeded.ts';
import { Mismatches } from '../../helpers/mismatches.ts';

describe('safeStem', () => {
  it.each([
    ['Hush', 'Hush'],
    ['柒十一', '柒十一'],
    ['猫🐱 photo', '猫🐱 photo'],
    ['Jennah·', 'Jennah·'],
    ['../../etc/passwd', '_.._etc_passwd'],
    ['..\\..\\windows', '_.._windows'],
    ['/absolute', '_absolute'],
    ['.hidden', 'hidden'],
    ['...', ''],
    ['.', ''],
    ['..', ''],
    ['  spaced  out  ', 'spaced out'],
    ['trailing dot.', 'trailing dot'],
    ['tab\there', 'tab_here'],
    ['new\nline', 'new_line'],
    ['nul\u0000byte', 'nul_byte'],
    ['a<b>c:d"e|f?g*h', 'a_b_c_d_e_f_g_h'],
    ['CON', '_CON'],
    ['nul', '_nul'],
    ['com1.txt', '_com1.txt'],
    ['LPT9', '_LPT9'],
    ['console', 'console'],
    ['e\u0301', 'é'],
  ])('%j -> %j', (name, expected) => {
    expect(safeStem(name)).toBe(expected);
  });

  it.each([
    ['a'.repeat(300), 'a'.repeat(MAX_NAME_BYTES)],
    ['長'.repeat(100), '長'.repeat(66)],
    ['🐱'.repeat(60), '🐱'.repeat(50)],
    ['👩‍👩‍👧'.repeat(20), '👩‍👩‍👧'.repeat(11)],
  ])('caps the UTF-8 length without cutting a character (%#)', (name, expected) => {
    const stem = safeStem(name);
    expect(stem).toBe(expected);
    expect(Buffer.byteLength(stem)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(stem.includes('\ufffd')).toBe(false);
  });

  it('takes its shortcut only for names the rules would leave as they are', () => {
    // Characters each rule acts on, and plain ones, in random names (seeded: repeatable).
    const alphabet = [...'aZ09 .-_~,;()[]', ' ', '  '].concat(
      ['/', '\\', '<', ':', '"', '|', '?', '*', '\t', '\n', '\u0000', '\u007f', '\u0085'],
      ['\u00a0', '\u2028', '\ufeff', 'é', 'e\u0301', '🐱', 'CON', 'nul', 'com1', 'LPT9', '..'],
    );
    const random = seededRandom(42);
    const wrong = new Mismatches();
    for (let i = 0; i < 20_000; i++) {
      let name = '';
      for (let n = random(12); n > 0; n--) name += alphabet[random(alphabet.length)];
      const max = random(4) === 0 ? 1 + random(8) : MAX_NAME_BYTES;
      wrong.check({ name, max }, safeStem(name, max), applyRules(name, max));
    }
    expect(wrong.found).toEqual([]);
  });

  it('capBytes keeps whole graphemes', () => {
    expect(capBytes('ab🐱', 5)).toBe('ab');
    expect(capBytes('ab🐱', 6)).toBe('ab🐱');
  });
});

describe('stemFor', () => {
  it.each([
    [{ name: 'cat', id: '7', url: 'http://x.test/a.png', row: 1 }, 'cat'],
    [{ name: '', id: '7', url: 'http://x.test/a.png', row: 1 }, '7'],
    [{ name: '...', id: '', url: 'http://x.test/dir/photo.jpg?x=1', row: 1 }, 'photo'],
    [{ name: '', id: '', url: 'http://x.test/%E7%8C%AB.png', row: 1 }, '猫'],
    [{ name: '', id: '', url: 'http://x.test/', row: 9 }, 'row-9'],
    [{ name: '///', id: '', url: 'http://x.test/', row: 3 }, 'row-3'],
    [{ name: '', id: '', url: 'http://x.test/100%.png', row: 4 }, 'row-4'],
    [{ name: '', id: '', url: 'http://[nope/a.png', row: 5 }, 'row-5'],
  ])('%j -> %s', (job, expected) => {
    expect(stemFor(job)).toBe(expected);
    // The URL parsed by the caller names the row alike.
    expect(stemFor(job, URL.parse(job.url))).toBe(expected);
  });

  it('cuts the extensions the regular expression it replaces cut, and only those', () => {
    // Characters either side of each edge of [a-z0-9], and ones case-folding could confuse.
    const alphabet = [...'.aAzZ09/@[`{_-é'].concat([
      '\u0010',
      '\u0019',
      '\u017f',
      '\u212a',
      '.jpg',
    ]);
    const random = seededRandom(3);
    const wrong = new Mismatches();
    for (let i = 0; i < 20_000; i++) {
      let name = '';
      for (let n = random(9); n > 0; n--) name += alphabet[random(alphabet.length)];
      wrong.check(name, withoutExtension(name), name.replace(/\.[a-z0-9]{1,5}$/i, ''));
    }
    expect(wrong.found).toEqual([]);
  });

  it('names by the URL it is handed (the one the caller parsed), not parsing it again', () => {
    const job = { name: '', id: '', url: 'http://x.test/a.png', row: 2 };
    expect(stemFor(job, new URL('http://x.test/b.png'))).toBe('b');
    expect(stemFor(job, null)).toBe('row-2');
  });
});

describe('NameBook and fileName', () => {
  it('hands out distinct stems in row order, case-insensitively', () => {
    const book = new NameBook();
    expect(['cat', 'Cat', 'cat', 'dog', 'cat-2'].map((s) => book.claim(s))).toEqual([
      'cat',
      'Cat-2',
      'cat-3',
      'dog',
      'cat-2-2',
    ]);
  });

  it.each([
    // A stem claims the names it may end as, whatever extension its content gets.
    [
      ['pic.png', 'pic'],
      ['pic.png', 'pic-2'],
    ],
    [
      ['pic', 'pic.png'],
      ['pic', 'pic-2.png'],
    ],
    [
      ['pic.png', 'PIC.png', 'pic.png'],
      ['pic.png', 'PIC-2.png', 'pic-3.png'],
    ],
    [
      ['pic.png', 'pic.png.jpg'],
      ['pic.png', 'pic.png-2.jpg'],
    ],
    [
      ['a.b.c', 'a.b'],
      ['a.b.c', 'a-2.b'],
    ],
    [
      ['Mr. Smith', 'Mr'],
      ['Mr. Smith', 'Mr'],
    ],
    // crew's own files are never a row's.
    [
      ['crew-manifest', 'crew-manifest.jsonl', 'Crew-Manifest'],
      ['crew-manifest-2', 'crew-manifest-3.jsonl', 'Crew-Manifest-4'],
    ],
  ])('no two rows end as one file: %j -> %j', (stems, expected) => {
    const book = new NameBook();
    const claimed = stems.map((s) => book.claim(s));
    expect(claimed).toEqual(expected);
    // Every extension each row's content could get: no final name is shared or crew's.
    for (const ext of ['', 'png', 'jpg', 'jsonl', 'c', 'b']) {
      const names = claimed.map((stem) => fileName(stem, ext).toLowerCase());
      expect(new Set(names).size).toBe(names.length);
      expect(names).not.toContain('crew-manifest.jsonl');
    }
  });

  it.each([1_000, 20_000])(
    'names %i rows that share a name with the same work per row as distinct names',
    (rows) => {
      const same = new NameBook();
      const distinct = new NameBook();
      const names = new Set<string>();
      for (let i = 0; i < rows; i++) {
        names.add(same.claim('same'));
        distinct.claim(`name ${i}`);
      }
      expect(names.size).toBe(rows);
      expect(names.has(`same-${rows}`)).toBe(true);
      // One try for a new name, at most two for a repeat (the name, then its next suffix).
      expect(distinct.tries).toBe(rows + 1);
      expect(same.tries).toBeLessThanOrEqual(2 * rows);
    },
  );

  it('skips suffixes that rows took as names, and stays O(1) per repeat', () => {
    const book = new NameBook();
    const claimed = ['a', 'a-2', 'a', 'a', 'a-3', 'a'].map((s) => book.claim(s));
    expect(claimed).toEqual(['a', 'a-2', 'a-3', 'a-4', 'a-3-2', 'a-5']);
  });

  it('keeps suffixed names under the byte cap', () => {
    const book = new NameBook();
    const long = '長'.repeat(66);
    book.claim(long);
    const second = book.claim(long);
    expect(second.endsWith('-2')).toBe(true);
    expect(Buffer.byteLength(second)).toBeLessThanOrEqual(MAX_NAME_BYTES);
  });

  it.each([
    ['cat', 'png', 'cat.png'],
    ['cat.png', 'png', 'cat.png'],
    ['cat.PNG', 'png', 'cat.PNG'],
    ['cat.jpg', 'png', 'cat.jpg.png'],
    ['cat', '', 'cat'],
  ])('fileName(%j, %j) -> %j', (stem, ext, expected) => {
    expect(fileName(stem, ext)).toBe(expected);
  });
});

describe('Fingerprints', () => {
  it('tells new strings from seen ones across many growths', () => {
    const set = new Fingerprints({ values: false });
    const wrong = new Mismatches();
    for (let i = 0; i < 50_000; i++) wrong.check(`name ${i}`, set.add(`name ${i}`), true);
    for (let i = 0; i < 50_000; i += 7) wrong.check(`name ${i}`, set.add(`name ${i}`), false);
    expect(wrong.found).toEqual([]);
    expect(set.add('名前')).toBe(true);
    expect(set.add('名前')).toBe(false);
    expect(set.add('')).toBe(true);
    expect(set.add('')).toBe(false);
    expect(set.size).toBe(50_002);
  });

  it('keeps a number per string across growths', () => {
    const map = new Fingerprints({ values: true });
    for (let i = 0; i < 10_000; i++) map.set(`k${i}`, i + 1);
    const wrong = new Mismatches();
    for (let i = 0; i < 10_000; i += 13) wrong.check(`k${i}`, map.get(`k${i}`), i + 1);
    expect(wrong.found).toEqual([]);
    expect(map.get('absent')).toBe(0);
    expect(map.has('k5')).toBe(true);
    expect(map.has('absent')).toBe(false);
  });

  it('gives the same answers presized as grown, and a set holds no values', () => {
    const grown = new Fingerprints({ values: false });
    const presized = new Fingerprints({ values: false, expected: 20_000 });
    const wrong = new Mismatches();
    for (let i = 0; i < 20_000; i++) {
      const name = `n${i % 15_000}`;
      wrong.check(name, presized.add(name), grown.add(name));
    }
    expect(wrong.found).toEqual([]);
    presized.set('n1', 7);
    expect(presized.get('n1')).toBe(0);
    expect(presized.has('n14999')).toBe(true);
    expect(presized.has('n15000')).toBe(false);
  });
});
