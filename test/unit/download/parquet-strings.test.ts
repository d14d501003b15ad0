import type { CompressionCodec, PageHeader } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { describe, expect, it } from 'vitest';
import { PageStrings, type PageCodec } from '../../../src/download/parquet-strings.ts';
import { seededRandom } from '../../helpers/seeded.ts';

const codecOf = (codec: CompressionCodec): PageCodec => ({
  decompress: (bytes, size) => decompressPage(bytes, size, codec, undefined),
  readLevels: (reader, width, output, length) =>
    readRleBitPackedHybrid(reader, width, output, length),
});

/** Random values: bad UTF-8, byte-order marks, empty ones, accents, emoji; some null. */
function randomValues(seed: number, count: number, nulls: boolean): (Uint8Array | null)[] {
  const random = seededRandom(seed);
  const pieces = ['a', 'é', '🐱', '\ufeff', '', 'http://x.test/'].map((s) => Buffer.from(s));
  pieces.push(Buffer.from([0xff]), Buffer.from([0xef, 0xbb]), Buffer.from([0xc3]));
  return Array.from({ length: count }, () => {
    if (nulls && random(4) === 0) return null;
    const parts = Array.from({ length: random(6) }, () => pieces[random(pieces.length)]!);
    return new Uint8Array(Buffer.concat(parts));
  });
}

/** The values' PLAIN encoding: each a 4-byte length, then its bytes. */
function plain(values: readonly (Uint8Array | null)[]): Uint8Array {
  const present = values.filter((value) => value !== null);
  const out = Buffer.alloc(present.reduce((sum, value) => sum + 4 + value.length, 0));
  let at = 0;
  for (const value of present) {
    out.writeUInt32LE(value.length, at);
    out.set(value, at + 4);
    at += 4 + value.length;
  }
  return out;
}

/** Definition levels (1 a value, 0 a null) in the RLE / bit-packed hybrid. */
function levels(values: readonly (Uint8Array | null)[]): Uint8Array {
  const writer = new ByteWriter();
  writeRleBitPackedHybrid(
    writer,
    values.map((value) => (value === null ? 0 : 1)),
    1,
  );
  return new Uint8Array(writer.getBuffer());
}

const compress = (bytes: Uint8Array, codec: CompressionCodec): Uint8Array =>
  codec === 'SNAPPY' ? snappyCompress(bytes) : bytes;

/** A page as a file holds it, parsed back: its header, and the bytes after it. */
function parsed(header: PageHeader, body: Uint8Array): { header: PageHeader; body: Uint8Array } {
  const writer = new ByteWriter();
  writePageHeader(writer, header);
  const bytes = Buffer.concat([new Uint8Array(writer.getBuffer()), body]);
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length), offset: 0 };
  return { header: parquetHeader(reader), body: bytes.subarray(reader.offset) };
}

/** A version 1 data page: levels (with their length) and values, compressed together. */
function pageV1(values: (Uint8Array | null)[], optional: boolean, codec: CompressionCodec) {
  const defined = optional ? levels(values) : new Uint8Array(0);
  const length = Buffer.alloc(optional ? 4 : 0);
  if (optional) length.writeUInt32LE(defined.length);
  const raw = Buffer.concat([length, defined, plain(values)]);
  const body = compress(raw, codec);
  return parsed(
    {
      type: 'DATA_PAGE',
      uncompressed_page_size: raw.length,
      compressed_page_size: body.length,
      data_page_header: {
        num_values: values.length,
        encoding: 'PLAIN',
        definition_level_encoding: 'RLE',
        repetition_level_encoding: 'RLE',
      },
    },
    body,
  );
}

/** A version 2 data page: levels apart and uncompressed, then the values. */
function pageV2(values: (Uint8Array | null)[], optional: boolean, codec: CompressionCodec) {
  const defined = optional ? levels(values) : new Uint8Array(0);
  const data = plain(values);
  const body = Buffer.concat([defined, compress(data, codec)]);
  return parsed(
    {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: defined.length + data.length,
      compressed_page_size: body.length,
      data_page_header_v2: {
        num_values: values.length,
        num_nulls: values.filter((value) => value === null).length,
        num_rows: values.length,
        encoding: 'PLAIN',
        definition_levels_byte_length: defined.length,
        repetition_levels_byte_length: 0,
        is_compressed: codec !== 'UNCOMPRESSED',
      },
    },
    body,
  );
}

describe('PageStrings', () => {
  const decoder = new TextDecoder();
  it.each([
    ['v1', pageV1],
    ['v2', pageV2],
  ] as const)('decodes %s pages as hyparquet’s TextDecoder does, nulls included', (_, page) => {
    let seed = 0;
    for (const codec of ['UNCOMPRESSED', 'SNAPPY'] as const) {
      for (const optional of [false, true]) {
        for (const count of [0, 1, 9, 500]) {
          const values = randomValues(++seed, count, optional);
          const { header, body } = page(values, optional, codec);
          const strings = PageStrings.of(header, body, optional ? 1 : 0, codecOf(codec));
          const got = Array.from({ length: strings!.length }, (_, row) => strings!.at(row));
          expect(got, `${codec}, optional ${optional}, ${count} values`).toEqual(
            values.map((value) => (value === null ? undefined : decoder.decode(value))),
          );
        }
      }
    }
  });

  it('leaves a page that is not PLAIN to hyparquet, and refuses a value past its page', () => {
    const values = [new Uint8Array(Buffer.from('http://x.test/a'))];
    const { header, body } = pageV1(values, false, 'UNCOMPRESSED');
    const dictionary = {
      ...header,
      data_page_header: { ...header.data_page_header!, encoding: 'RLE_DICTIONARY' as const },
    };
    expect(PageStrings.of(dictionary, body, 0, codecOf('UNCOMPRESSED'))).toBe(undefined);
    const cut = { ...header, uncompressed_page_size: body.length - 3 };
    expect(() =>
      PageStrings.of(cut, body.subarray(0, body.length - 3), 0, codecOf('UNCOMPRESSED')),
    ).toThrow(/runs past the end of its page/);
  });
});
