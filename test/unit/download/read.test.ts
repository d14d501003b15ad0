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
  encoding: 'auto',
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
  it('reads nothing once the run was interrupted before reading began', async () => {
    // A Ctrl-C while --out is opened fires before the rows are read: the read must end with
    // it, not wait for an input it will never get (stdin is destroyed by then).
    // (An empty file: no record arrives to check the signal on, as from that stdin.)
    const path = join(dir, 'list.csv');
    await writeFile(path, '');
    const controller = new AbortController();
    const rows = await CsvRows.open(options(path), controller.signal);
    controller.abort(new Error('interrupted'));
    const read = async () => {
      for await (const row of rows) void row;
    };
    await expect(read()).rejects.toThrow('interrupted');
  });

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

  it.each([
    [
      'CRLF, then LF, then lone CR: every line ending ends a row',
      'name,url\r\na,http://x.test/a\nb,http://x.test/b\rc,http://x.test/c\r\nd,http://x.test/d',
      ['a', 'b', 'c', 'd'],
    ],
    [
      'an unbalanced quote fails its row only',
      'name,url\n"a,http://x.test/a\nb,http://x.test/b\nc"d,http://x.test/c\n"e"x,http://x.test/e\n',
      ['unbalanced quotes in this row', 'b', 'c"d', 'unbalanced quotes in this row'],
    ],
    [
      'a quoted field that would span lines fails, the next line is a row of its own',
      'name,url\n"two\nlines",http://x.test/a\nc,http://x.test/c\n',
      // The second line is a row like any other: the URL in it is fetched.
      ['unbalanced quotes in this row', 'lines"', 'c'],
    ],
    [
      'a row over the cap fails; the next line is read',
      `name,url\n${'x'.repeat(1024 * 1024 + 1)},http://x.test/a\nb,http://x.test/b\n`,
      ['row is over 1 MiB (a line or field that never ends?)', 'b'],
    ],
    [
      'a row over the cap at the end of the file',
      `name,url\na,http://x.test/a\n${'x'.repeat(1024 * 1024 + 1)}`,
      ['a', 'row is over 1 MiB (a line or field that never ends?)'],
    ],
  ])('%s', async (_, text, expected) => {
    const { rows } = await readAll(text);
    expect(rows.map((r) => ('error' in r ? r.error : r.name))).toEqual(expected);
  });

  it.each([
    [
      'GB18030 (detected)',
      Buffer.from('312cb6abb1b146344ac4a3b7c2d0e32c687474703a2f2f782e746573742f610a', 'hex'),
      'auto',
      '东北F4J模仿秀',
    ],
    ['UTF-8 with a BOM', Buffer.from('\ufeff1,猫,http://x.test/a\n'), 'auto', '猫'],
    ['UTF-16LE with a BOM', Buffer.from('\ufeff1,猫,http://x.test/a\n', 'utf16le'), 'auto', '猫'],
    ['UTF-16LE without a BOM', Buffer.from('1,猫,http://x.test/a\n', 'utf16le'), 'auto', '猫'],
    [
      'UTF-16BE without a BOM',
      Buffer.from('1,cat,http://x.test/a\n', 'utf16le').swap16(),
      'auto',
      'cat',
    ],
    [
      'latin-1 forced',
      Buffer.from('1,caf\xe9,http://x.test/a\n', 'latin1'),
      'windows-1252',
      'café',
    ],
    [
      'Shift_JIS forced',
      Buffer.from('312c944c2c687474703a2f2f782e746573742f610a', 'hex'),
      'shift_jis',
      '猫',
    ],
  ])('reads %s', async (_, bytes, encoding, name) => {
    const { rows } = await readAll(bytes, { encoding });
    expect(rows).toEqual([{ row: 1, id: '1', name, url: 'http://x.test/a' }]);
  });

  it('fails a row it cannot decode, naming the encoding, and reads the others', async () => {
    const text = Buffer.from(
      '1,cat,http://x.test/a\n2,caf\xe9 au lait,http://x.test/b\n',
      'latin1',
    );
    const { rows } = await readAll(text);
    expect(rows[0]).toMatchObject({ row: 1, name: 'cat' });
    expect(rows[1]).toMatchObject({ row: 2, url: 'http://x.test/b' });
    expect((rows[1] as { error: string }).error).toMatch(/not valid utf-8 text.*--encoding/);
  });

  it('never fails the run on quotes: any line of quotes is a row or a row failure', async () => {
    const lines = [
      '"',
      '""',
      '"""',
      'a"',
      '" a " ,b',
      '"a""b"',
      '"a" "b"',
      ',"',
      '"a",\t"b" ',
      'a,"b',
    ];
    const text = ['a,b,http://x.test/a', ...lines.map((l) => `${l},http://x.test/a`)].join('\n');
    const { rows } = await readAll(text, { csvHeader: 'no', urlColumn: '3' });
    expect(rows).toHaveLength(lines.length + 1);
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
