import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError, LayoutError } from '../../../src/download/errors.ts';
import { CsvRows, type ReadOptions } from '../../../src/download/read.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-read-'));
  return () => rm(dir, { recursive: true, force: true });
});

const options = (csv: string, more: Partial<ReadOptions> = {}): ReadOptions => ({
  csv,
  csvHeader: 'auto',
  urlColumn: undefined,
  nameColumn: undefined,
  ...more,
});

async function readAll(text: string | Buffer, more: Partial<ReadOptions> = {}) {
  const path = join(dir, 'list.csv');
  await writeFile(path, text);
  const rows = await CsvRows.open(options(path, more), new AbortController().signal);
  const out = [];
  for await (const row of rows) out.push(row);
  return { rows: out, fraction: rows.fraction() };
}

describe('CsvRows', () => {
  it.each([
    [
      'no header (auto): id,name,url',
      '1,cat,http://x.test/a\n2,dog,http://x.test/b\n',
      {},
      [
        { row: 1, id: '1', name: 'cat', url: 'http://x.test/a' },
        { row: 2, id: '2', name: 'dog', url: 'http://x.test/b' },
      ],
    ],
    [
      'a header (auto) is held back and not a row',
      'title,url\ncat,http://x.test/a\n',
      {},
      [{ row: 1, id: '', name: 'cat', url: 'http://x.test/a' }],
    ],
    [
      'a BOM, CRLF, blank lines and padding',
      '\ufeffname,url\r\n\r\n cat , http://x.test/a \r\n,,\r\n',
      {},
      [{ row: 1, name: 'cat', url: 'http://x.test/a' }],
    ],
    [
      '--csv-header yes: a first row with a URL is still the header',
      'pic,http://x.test/header\ncat,http://x.test/a\n',
      { csvHeader: 'yes' as const },
      [{ row: 1, name: 'cat', url: 'http://x.test/a' }],
    ],
    [
      '--csv-header no: a first row without a URL is data (and fails)',
      'name,link\ncat,http://x.test/a\n',
      { csvHeader: 'no' as const, urlColumn: '2' },
      [
        { row: 1, url: 'link', error: 'not an http(s) URL' },
        { row: 2, name: 'cat', url: 'http://x.test/a' },
      ],
    ],
    [
      'bad rows are values, and reading goes on',
      'cat,http://x.test/a\ndog,\nbird,ftp://x.test/b\nfish,http://x.test/c\n',
      {},
      [
        { row: 1, url: 'http://x.test/a' },
        { row: 2, url: '', error: 'no URL in this row' },
        { row: 3, url: 'ftp://x.test/b', error: 'not an http(s) URL' },
        { row: 4, url: 'http://x.test/c' },
      ],
    ],
    ['a header alone: no rows', 'name,url\n', {}, []],
    ['an empty file: no rows', '', {}, []],
  ])('%s', async (_, text, more, expected) => {
    const { rows } = await readAll(text, more);
    expect(rows).toHaveLength(expected.length);
    rows.forEach((row, i) => expect(row).toMatchObject(expected[i]!));
  });

  it('reports the fraction of the file read', async () => {
    expect((await readAll('a,http://x.test/a\n')).fraction).toBe(1);
    expect((await readAll('')).fraction).toBeUndefined();
  });

  it.each([
    [
      'no such file',
      () => Promise.resolve(join(dir, 'nope.csv')),
      /^cannot read .*nope\.csv: no such file$/,
    ],
    [
      'a directory',
      async () => {
        await mkdir(join(dir, 'sub'));
        return join(dir, 'sub');
      },
      /sub is a directory, not a CSV file$/,
    ],
  ])('refuses %s before reading', async (_, path, message) => {
    const opening = CsvRows.open(options(await path()), new AbortController().signal);
    await expect(opening).rejects.toThrow(InputError);
    await expect(opening).rejects.toThrow(message);
  });

  it('names invalid CSV as an InputError', async () => {
    const reading = readAll('a,"http://x.test/a\n');
    await expect(reading).rejects.toThrow(InputError);
    await expect(reading).rejects.toThrow(/list\.csv is not valid CSV: /);
  });

  it('throws a LayoutError when the columns do not fit the options', async () => {
    const reading = readAll('pic,thumb\ncat,http://x.test/a\n', { urlColumn: 'photo' });
    await expect(reading).rejects.toThrow(LayoutError);
    await expect(reading).rejects.toThrow('--url-column "photo" is not a column');
  });

  it('stops at the next row once aborted', async () => {
    const path = join(dir, 'list.csv');
    await writeFile(path, 'a,http://x.test/a\nb,http://x.test/b\n');
    const controller = new AbortController();
    const rows = await CsvRows.open(options(path), controller.signal);
    const seen: unknown[] = [];
    const reading = (async () => {
      for await (const row of rows) {
        seen.push(row);
        controller.abort(new Error('stop'));
      }
    })();
    await expect(reading).rejects.toThrow('stop');
    expect(seen).toHaveLength(1);
  });
});
