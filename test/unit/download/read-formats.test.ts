import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError, LayoutError } from '../../../src/download/errors.ts';
import { InputRows, type ReadOptions } from '../../../src/download/read.ts';
import type { BadRow, Job } from '../../../src/download/rows.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-formats-'));
  return () => rm(dir, { recursive: true, force: true });
});

async function readFile(
  name: string,
  bytes: string | Uint8Array,
  more: Partial<ReadOptions> = {},
): Promise<{ rows: (Job | BadRow)[]; reader: InputRows }> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  const reader = await InputRows.open(
    {
      csv: path,
      csvHeader: 'auto',
      urlColumn: undefined,
      nameColumn: undefined,
      encoding: 'auto',
      ...more,
    },
    new AbortController().signal,
  );
  const rows = [];
  for await (const row of reader) rows.push(row);
  return { rows, reader };
}

/** cc3m's shape: `caption<TAB>url`, no header, captions with commas and quotes. */
const CC3M = 'a dog, "running"\thttp://x.test/1.jpg\nthe sea\thttp://x.test/2.jpg\n';

const parquet = (columns: { name: string; data: unknown[]; type?: string }[]): Uint8Array =>
  new Uint8Array(parquetWriteBuffer({ columnData: columns as never }));

describe('InputRows: every format', () => {
  it('reads TSV as cc3m ships it (by extension, and by content)', async () => {
    for (const name of ['cc3m.tsv', 'cc3m.txt']) {
      const { rows, reader } = await readFile(name, CC3M, { captionColumn: '1' });
      expect(reader.format).toBe('tsv');
      expect(rows).toEqual([
        {
          row: 1,
          url: 'http://x.test/1.jpg',
          name: 'a dog, "running"',
          id: '',
          caption: 'a dog, "running"',
        },
        { row: 2, url: 'http://x.test/2.jpg', name: 'the sea', id: '', caption: 'the sea' },
      ]);
    }
  });

  it('fails a TSV row with too few fields, and reads on', async () => {
    const { rows } = await readFile('h.tsv', 'caption\turl\nonly a caption\nok\thttp://x.test/a\n');
    expect(rows).toMatchObject([
      { row: 1, error: 'no URL in this row' },
      { row: 2, url: 'http://x.test/a', caption: 'ok' },
    ]);
  });

  it('reads gzip-compressed text, told by its magic, whatever its name', async () => {
    const { rows, reader } = await readFile('list.tsv.gz', gzipSync(CC3M));
    expect(reader.format).toBe('tsv');
    expect(rows.map((r) => r.url)).toEqual(['http://x.test/1.jpg', 'http://x.test/2.jpg']);
    const named = await readFile('list.bin', gzipSync('url,name\nhttp://x.test/a,a\n'));
    expect(named.rows).toMatchObject([{ url: 'http://x.test/a', name: 'a' }]);
  });

  it('names a gzip file it cannot read', async () => {
    const bad = Buffer.concat([
      gzipSync('url\nhttp://x.test/a\n').subarray(0, 12),
      Buffer.alloc(40, 7),
    ]);
    await expect(readFile('broken.csv.gz', bad)).rejects.toThrow(
      /broken\.csv\.gz is not valid gzip/,
    );
  });

  it('reads JSON lines: fields by name, typed values kept, a line that is not an object fails', async () => {
    const text = [
      '{"url": "http://x.test/a", "caption": "a cat", "score": 0.5, "tags": ["x"]}',
      '[1, 2]',
      '{"url": "http://x.test/b", "caption": null}',
      'not json',
      '{"caption": "no url"}',
    ].join('\n');
    const { rows, reader } = await readFile('rows.jsonl', text, { saveColumns: ['score', 'tags'] });
    expect(reader.format).toBe('jsonl');
    expect(rows).toEqual([
      { row: 1, url: 'http://x.test/a', name: '', id: '', caption: 'a cat', saved: [0.5, ['x']] },
      { row: 2, url: '', error: 'not a JSON object (an array)' },
      { row: 3, url: 'http://x.test/b', name: '', id: '', caption: '', saved: [null, null] },
      { row: 4, url: '', error: expect.stringMatching(/^not valid JSON: /) as string },
      { row: 5, url: '', error: 'no URL in this row' },
    ]);
  });

  it('reads parquet (LAION’s columns), only the columns it needs after the first row', async () => {
    const n = 300;
    const bytes = parquet([
      { name: 'SAMPLE_ID', data: Array.from({ length: n }, (_, i) => BigInt(i)), type: 'INT64' },
      {
        name: 'URL',
        data: Array.from({ length: n }, (_, i) => `http://x.test/${i}.jpg`),
        type: 'STRING',
      },
      { name: 'TEXT', data: Array.from({ length: n }, (_, i) => `caption ${i}`), type: 'STRING' },
      { name: 'similarity', data: Array.from({ length: n }, (_, i) => i / 1000), type: 'DOUBLE' },
      { name: 'blob', data: Array.from({ length: n }, () => 'x'.repeat(100)), type: 'STRING' },
    ]);
    const { rows, reader } = await readFile('laion.parquet', bytes, {
      saveColumns: ['similarity'],
    });
    expect(reader.format).toBe('parquet');
    expect(rows).toHaveLength(n);
    expect(rows[0]).toEqual({
      row: 1,
      url: 'http://x.test/0.jpg',
      name: '0',
      id: '',
      caption: 'caption 0',
      saved: [0],
    });
    expect(rows[299]).toMatchObject({
      row: 300,
      url: 'http://x.test/299.jpg',
      caption: 'caption 299',
      saved: [0.299],
    });
    expect(reader.fraction()).toBe(1);
  });

  it('reads parquet page by page across row groups: nulls, dictionaries, numbers, a list', async () => {
    const n = 2500;
    const urls = Array.from({ length: n }, (_, i) => `http://x.test/${i}.jpg`);
    const bytes = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'url', data: urls },
          { name: 'caption', data: urls.map((_, i) => (i % 7 === 0 ? null : `caption ${i}`)) },
          { name: 'label', data: urls.map((_, i) => ['cat', 'dog', 'sea'][i % 3]!) },
          { name: 'score', data: urls.map((_, i) => i * 3) },
          { name: 'big', data: urls.map((_, i) => BigInt(i) * 1_000_000_007n) },
          { name: 'tags', data: urls.map((_, i) => (i % 5 === 0 ? null : [`t${i}`, 'x'])) },
        ],
        schema: [
          { name: 'root', num_children: 6 },
          { name: 'url', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
          {
            name: 'caption',
            type: 'BYTE_ARRAY',
            converted_type: 'UTF8',
            repetition_type: 'OPTIONAL',
          },
          {
            name: 'label',
            type: 'BYTE_ARRAY',
            converted_type: 'UTF8',
            repetition_type: 'REQUIRED',
          },
          { name: 'score', type: 'INT32', repetition_type: 'REQUIRED' },
          { name: 'big', type: 'INT64', repetition_type: 'REQUIRED' },
          { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
          { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
          {
            name: 'element',
            type: 'BYTE_ARRAY',
            converted_type: 'UTF8',
            repetition_type: 'OPTIONAL',
          },
        ],
        // Uncompressed: numbers are decoded in place, in the buffer the next page is read into.
        codec: 'UNCOMPRESSED',
        rowGroupSize: [700, 1000],
        pageSize: 2000,
      }),
    );
    const expected = (i: number, saved: unknown[]) => ({
      row: i + 1,
      url: urls[i],
      name: '',
      id: '',
      caption: i % 7 === 0 ? '' : `caption ${i}`,
      saved,
    });
    const flat = await readFile('pages.parquet', bytes, {
      saveColumns: ['label', 'score', 'big'],
    });
    expect(flat.rows).toEqual(
      urls.map((_, i) => expected(i, [['cat', 'dog', 'sea'][i % 3], i * 3, i * 1_000_000_007])),
    );
    expect(flat.reader.fraction()).toBe(1);
    // A list column is decoded by hyparquet a range at a time, beside the flat ones.
    const listed = await readFile('pages.parquet', bytes, { saveColumns: ['tags', 'score'] });
    expect(listed.rows).toEqual(
      urls.map((_, i) => expected(i, [i % 5 === 0 ? null : [`t${i}`, 'x'], i * 3])),
    );
  });

  it.each([
    ['GZIP', (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes))],
    ['ZSTD', (bytes: Uint8Array) => new Uint8Array(zstdCompressSync(bytes))],
  ] as const)('reads parquet pages compressed with %s', async (codec, compress) => {
    const urls = Array.from({ length: 50 }, (_, i) => `http://x.test/${i}.jpg`);
    const bytes = new Uint8Array(
      parquetWriteBuffer({
        columnData: [{ name: 'url', data: urls, type: 'STRING' }],
        codec,
        compressors: { [codec]: compress },
      }),
    );
    const { rows } = await readFile(`${codec}.parquet`, bytes);
    expect(rows.map((row) => row.url)).toEqual(urls);
  });

  it('fails the rows of a parquet row group it cannot decode, with why, and reads on', async () => {
    const urls = Array.from({ length: 3000 }, (_, i) => `http://x.test/${i}.jpg`);
    const bytes = Buffer.from(
      parquetWriteBuffer({
        columnData: [{ name: 'url', data: urls, type: 'STRING' }],
        rowGroupSize: 1000,
        codec: 'UNCOMPRESSED',
      }),
    );
    // Damage the second row group's data (its URLs), not the footer that says where it is.
    const at = bytes.indexOf('http://x.test/1500.jpg');
    bytes.fill(0xff, at - 40, at + 200);
    const { rows } = await readFile('damaged.parquet', bytes);
    expect(rows).toHaveLength(3000);
    const failed = rows.filter((row) => 'error' in row);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]).toMatchObject({
      error: expect.stringMatching(/^parquet rows \d+-\d+ cannot be read: /) as string,
    });
    expect(rows[2999]).toMatchObject({ url: 'http://x.test/2999.jpg' });
  });

  it('refuses a parquet file it cannot read, naming it', async () => {
    const good = parquet([{ name: 'url', data: ['http://x.test/a'], type: 'STRING' }]);
    const cut = Buffer.concat([
      Buffer.from('PAR1'),
      Buffer.from(good).subarray(4, good.length - 20),
    ]);
    const reading = readFile('cut.parquet', cut);
    await expect(reading).rejects.toThrow(InputError);
    await expect(reading).rejects.toThrow(/cut\.parquet is not a readable parquet file/);
    await expect(readFile('empty.parquet', '')).rejects.toThrow(
      /empty\.parquet is not a readable parquet file/,
    );
  });

  it('names the file and the column when --save-columns names one it does not have', async () => {
    const reading = readFile('list.csv', 'url,caption\nhttp://x.test/a,a cat\n', {
      saveColumns: ['score'],
    });
    await expect(reading).rejects.toThrow(LayoutError);
    await expect(reading).rejects.toThrow(
      /list\.csv: --save-columns "score" is not a column; the header has: url, caption/,
    );
  });

  it('keeps a column’s name from the header when it is named by index', async () => {
    const { rows, reader } = await readFile(
      'list.csv',
      'url,caption,score\nhttp://x.test/a,a cat,9\n',
      {
        saveColumns: ['3'],
      },
    );
    expect(reader.layout?.saved).toEqual([{ name: 'score', index: 2 }]);
    expect(rows).toMatchObject([{ saved: ['9'], caption: 'a cat' }]);
  });

  it('refuses parquet on stdin (it is read from its end)', async () => {
    await expect(
      InputRows.open(
        {
          csv: '-',
          inputFormat: 'parquet',
          csvHeader: 'auto',
          urlColumn: undefined,
          nameColumn: undefined,
          encoding: 'auto',
        },
        new AbortController().signal,
      ),
    ).rejects.toThrow(/parquet file cannot be read from stdin/);
  });
});
