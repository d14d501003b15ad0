import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetSchema } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeEach, describe, expect, it } from 'vitest';
import { ByteWindow, ColumnPages } from '../../../src/download/parquet-pages.ts';
import { PageStrings } from '../../../src/download/parquet-strings.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-pages-'));
  return () => rm(dir, { recursive: true, force: true });
});

const N = 3000;
const columns = {
  plain: Array.from({ length: N }, (_, i) => i * 7),
  dictionary: Array.from({ length: N }, (_, i) => (i % 4) * 1000),
  wide: Array.from({ length: N }, (_, i) => BigInt(i) << 40n),
  text: Array.from({ length: N }, (_, i) => `value ${i} ${'é'.repeat(i % 5)}`),
};

const writeParquet = (options: Parameters<typeof parquetWriteBuffer>[0]): Uint8Array =>
  new Uint8Array(parquetWriteBuffer(options));

/** Every page of one column of group 0, read through `window`, as one list. */
async function readColumn(path: string, name: string, window: ByteWindow): Promise<unknown[]> {
  const handle = await open(path, 'r');
  try {
    const bytes = new Uint8Array(await handle.readFile()).buffer;
    const metadata = parquetMetadata(bytes);
    const file = { handle, size: bytes.byteLength, metadata, schema: parquetSchema(metadata) };
    const pages = await ColumnPages.of(file, { group: 0, name }, window, {});
    const values: unknown[] = [];
    for (let page = await pages!.next(); page; page = await pages!.next()) {
      // Nothing handed on may view the window: its next read overwrites it.
      if (ArrayBuffer.isView(page)) expect(window.owns(page.buffer)).toBe(false);
      if (page instanceof PageStrings) {
        for (let row = 0; row < page.length; row++) values.push(page.at(row));
      } else values.push(...Array.from(page as ArrayLike<unknown>));
    }
    return values;
  } finally {
    await handle.close();
  }
}

describe('ColumnPages', () => {
  it.each(['UNCOMPRESSED', 'SNAPPY'] as const)(
    'decodes a %s column page by page through a window smaller than a page header',
    async (codec) => {
      const path = join(dir, 'pages.parquet');
      await writeFile(
        path,
        writeParquet({
          columnData: [
            { name: 'plain', data: columns.plain, type: 'INT32', nullable: false },
            { name: 'dictionary', data: columns.dictionary, type: 'INT32', nullable: false },
            { name: 'wide', data: columns.wide, type: 'INT64', nullable: false },
            { name: 'text', data: columns.text, type: 'STRING' },
          ],
          // Plain numbers and a dictionary's are decoded in place: in the window when
          // uncompressed, in the window's page buffer when snappy.
          codec,
          pageSize: 1000,
          rowGroupSize: N,
        }),
      );
      for (const [name, expected] of Object.entries(columns)) {
        // A window of 16 bytes is read again for each header and page; one of 1 MiB once.
        for (const window of [new ByteWindow(16), new ByteWindow()]) {
          expect(await readColumn(path, name, window)).toEqual(expected);
        }
      }
    },
  );

  it('leaves a column that is not flat to hyparquet (undefined)', async () => {
    const path = join(dir, 'list.parquet');
    await writeFile(
      path,
      writeParquet({
        columnData: [{ name: 'tags', data: [['a'], ['b', 'c']] }],
        schema: [
          { name: 'root', num_children: 1 },
          { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
          { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
          { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
        ],
      }),
    );
    const handle = await open(path, 'r');
    try {
      const bytes = new Uint8Array(await handle.readFile()).buffer;
      const metadata = parquetMetadata(bytes);
      const file = { handle, size: bytes.byteLength, metadata, schema: parquetSchema(metadata) };
      expect(await ColumnPages.of(file, { group: 0, name: 'tags' }, new ByteWindow(), {})).toBe(
        undefined,
      );
    } finally {
      await handle.close();
    }
  });
});
