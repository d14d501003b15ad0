import { describe, expect, it } from 'vitest';
import { DoneRows } from '../../../src/download/done-rows.ts';
import { namesFor } from '../../../src/download/layout.ts';

describe('DoneRows', () => {
  // [recorded file, this run's stem] -> the file a re-run finds, or undefined.
  it.each([
    ['cat.png', 'cat', 'cat.png'],
    ['cat.PNG', 'cat.PNG', 'cat.PNG'],
    ['a.b.png', 'a.b', 'a.b.png'],
    ['x.jpg.png', 'x.jpg', 'x.jpg.png'],
    ['noext', 'noext', 'noext'],
    ['cat.png', 'cat-2', undefined],
    ['cat.png', 'dog', undefined],
    ['猫 🐱.webp', '猫 🐱', '猫 🐱.webp'],
  ])('recorded %j, stem %j -> %j', (recorded, stem, expected) => {
    const done = new DoneRows();
    done.set(7, 'http://x.test/a', recorded, 10);
    const found = done.get(7, 'http://x.test/a', namesFor('', stem));
    expect(found).toEqual(expected === undefined ? undefined : { file: expected, bytes: 10 });
  });

  it('matches a row only with its URL, forgets a row a later failure names, and grows', () => {
    const done = new DoneRows();
    for (let row = 1; row <= 5000; row++) done.set(row, `u${row}`, `r${row}.png`, row);
    expect(done.size).toBe(5000);
    expect(done.get(4321, 'u4321', namesFor('', 'r4321'))).toEqual({
      file: 'r4321.png',
      bytes: 4321,
    });
    expect(done.get(4321, 'u1', namesFor('', 'r4321'))).toBeUndefined();
    expect(done.get(5001, 'u5001', namesFor('', 'r5001'))).toBeUndefined();
    done.delete(10, 'another url'); // not the URL recorded: row 10 stays done
    done.delete(11, 'u11');
    expect(done.get(10, 'u10', namesFor('', 'r10'))).toBeDefined();
    expect(done.get(11, 'u11', namesFor('', 'r11'))).toBeUndefined();
    expect(done.size).toBe(4999);
    done.set(-1, 'u', 'f', 1); // not a row number: ignored
    expect(done.size).toBe(4999);
  });

  it('says which files rows done record, and forgets those of rows that no longer are', () => {
    const done = new DoneRows();
    for (let row = 0; row < 70_000; row += 7) done.set(row, `u${row}`, `00001/r${row}.png`, 1);
    done.setOptedOut(3, 'u3');
    expect(done.recordsFile('00001/r69993.png')).toBe(true);
    expect(done.recordsFile('00001/r0.png')).toBe(true);
    expect(done.recordsFile('r0.png')).toBe(false); // another folder
    expect(done.recordsFile('00001/r1.png')).toBe(false);
    done.delete(0, 'u0'); // a later failed line
    done.set(7, 'u7', '00001/r7-2.png', 1); // fetched again under another name
    done.setOptedOut(14, 'u14');
    expect(done.recordsFile('00001/r0.png')).toBe(false);
    expect(done.recordsFile('00001/r7.png')).toBe(false);
    expect(done.recordsFile('00001/r7-2.png')).toBe(true);
    expect(done.recordsFile('00001/r14.png')).toBe(false);
    expect(new DoneRows().recordsFile('a.png')).toBe(false);
  });

  it('keeps rows on both sides of page boundaries, far-apart rows, and ignores rows past 2^32', () => {
    const done = new DoneRows();
    const rows = [0, 65_535, 65_536, 65_537, 131_071, 1_000_000, 999_999_999, 2 ** 32 - 1];
    for (const row of rows) done.set(row, `u${row}`, `r${row}.png`, row + 1);
    expect(done.size).toBe(rows.length);
    for (const row of rows) {
      expect(done.get(row, `u${row}`, namesFor('', `r${row}`))).toEqual({
        file: `r${row}.png`,
        bytes: row + 1,
      });
    }
    expect(done.get(65_534, 'u65534', namesFor('', 'r65534'))).toBeUndefined();
    expect(done.get(1_000_001, 'u1000001', namesFor('', 'r1000001'))).toBeUndefined();
    // 2^32 would share a page slot with row 0 if row numbers wrapped.
    done.set(2 ** 32, 'u0', 'r0.png', 99);
    expect(done.size).toBe(rows.length);
    expect(done.get(0, 'u0', namesFor('', 'r0'))).toEqual({ file: 'r0.png', bytes: 1 });
    expect(done.get(2 ** 32, 'u0', namesFor('', 'r0'))).toBeUndefined();
    done.delete(2 ** 32 + 65_536, 'u65536');
    expect(done.get(65_536, 'u65536', namesFor('', 'r65536'))).toBeDefined();
  });
});
