/**
 * A parquet page of PLAIN-encoded text (LAION's URLs and captions once a writer's dictionary
 * is full; hyparquet-writer's always) decoded a value at a time, as rows reach it. hyparquet
 * decodes a page whole: ~30,000 strings and a view object for each, alive until the last of
 * the page's rows is planned, so a run's young generation promoted them all and the old one
 * grew with them. Here a page is its bytes and where each value lies; a string is made when
 * its row asks for it and dies with the row. The same text as hyparquet's (a UTF-8 BOM at a
 * value's start dropped, bad bytes as U+FFFD), which the tests hold it to.
 */
import type { DecodedArray, PageHeader } from 'hyparquet';

/** hyparquet's own pieces the decoding takes (its modules, loaded by the caller). */
export interface PageCodec {
  readonly decompress: (bytes: Uint8Array, size: number) => Uint8Array;
  readonly readLevels: (
    reader: { view: DataView; offset: number },
    width: number,
    output: DecodedArray,
    length?: number,
  ) => void;
}

/** The values of one page, a row at a time: a string, or undefined for a null. */
export class PageStrings {
  /** Rows in the page. */
  readonly length: number;
  readonly #bytes: Buffer;
  /** Where value i lies in #bytes: from bounds[2i] to bounds[2i+1]. */
  readonly #bounds: Int32Array;
  /** For each row, the value it holds (-1: null); undefined when no row is null. */
  readonly #valueOf: Int32Array | undefined;

  private constructor(bytes: Buffer, bounds: Int32Array, rows: number, valueOf?: Int32Array) {
    this.#bytes = bytes;
    this.#bounds = bounds;
    this.length = rows;
    this.#valueOf = valueOf;
  }

  /** Row `row`'s value (0 is the page's first row). */
  at(row: number): string | undefined {
    const value = this.#valueOf === undefined ? row : this.#valueOf[row]!;
    if (value < 0) return undefined;
    return this.#bytes.toString('utf8', this.#bounds[2 * value], this.#bounds[2 * value + 1]);
  }

  /**
   * A data page of a flat text column, or undefined when it is not PLAIN (a dictionary's
   * indexes, a delta encoding: hyparquet decodes those). `page`: its bytes after the header;
   * `maxDefinition`: 1 for an optional column, 0 for a required one.
   */
  static of(
    header: PageHeader,
    page: Uint8Array,
    maxDefinition: number,
    codec: PageCodec,
  ): PageStrings | undefined {
    const v1 = header.type === 'DATA_PAGE' ? header.data_page_header : undefined;
    const v2 = header.type === 'DATA_PAGE_V2' ? header.data_page_header_v2 : undefined;
    if ((v1 ?? v2)?.encoding !== 'PLAIN') return undefined;
    const width = 32 - Math.clz32(maxDefinition);
    let rows: number;
    let levels: number[] | undefined;
    let values: Uint8Array;
    if (v1) {
      // Levels and values compressed together: the levels lead, with their length.
      rows = v1.num_values;
      const whole = codec.decompress(page, header.uncompressed_page_size);
      const reader = { view: viewOf(whole), offset: 0 };
      if (maxDefinition > 0) codec.readLevels(reader, width, (levels = new Array<number>(rows)));
      values = whole.subarray(reader.offset);
    } else {
      // Levels apart and never compressed, their lengths in the header; then the values.
      const header2 = v2!;
      rows = header2.num_values;
      const repeats = header2.repetition_levels_byte_length;
      const defined = header2.definition_levels_byte_length;
      if (maxDefinition > 0 && header2.num_nulls > 0) {
        const reader = { view: viewOf(page.subarray(repeats, repeats + defined)), offset: 0 };
        codec.readLevels(reader, width, (levels = new Array<number>(rows)), defined);
      }
      const body = page.subarray(repeats + defined);
      const size = header.uncompressed_page_size - repeats - defined;
      values = header2.is_compressed === false ? body : codec.decompress(body, size);
    }
    const valueOf = levels && rowsToValues(levels, maxDefinition);
    const count = valueOf ? valueOf.count : rows;
    return new PageStrings(bufferOf(values), boundsOf(values, count), rows, valueOf?.index);
  }
}

const viewOf = (bytes: Uint8Array): DataView =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const bufferOf = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Each row's value (-1 for a null), or undefined when every row has one. */
function rowsToValues(
  levels: readonly number[],
  max: number,
): { index: Int32Array; count: number } | undefined {
  if (levels.every((level) => level === max)) return undefined;
  const index = new Int32Array(levels.length);
  let count = 0;
  for (let row = 0; row < levels.length; row++) index[row] = levels[row] === max ? count++ : -1;
  return { index, count };
}

/** Where each of `count` PLAIN byte-array values lies: a 4-byte length, then its bytes. */
function boundsOf(bytes: Uint8Array, count: number): Int32Array {
  const view = viewOf(bytes);
  const bounds = new Int32Array(2 * count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) throw new Error('a text value runs past the end of its page');
    const length = view.getUint32(at, true);
    let start = at + 4;
    at = start + length;
    if (at > bytes.length) throw new Error('a text value runs past the end of its page');
    // As hyparquet's TextDecoder does: a byte-order mark at a value's start is not text.
    if (
      length >= 3 &&
      bytes[start] === 0xef &&
      bytes[start + 1] === 0xbb &&
      bytes[start + 2] === 0xbf
    ) {
      start += 3;
    }
    bounds[2 * i] = start;
    bounds[2 * i + 1] = at;
  }
  return bounds;
}
