/**
 * One flat parquet column of one row group, read a page at a time: each page's bytes are
 * read from the file into a buffer the column keeps and reuses (group after group), a snappy
 * page decompressed into a second one, and decoded by hyparquet's own page reader, or for a
 * PLAIN text page a value at a time (parquet-strings.ts). So reading holds a page of each
 * column read, not the group's column chunks and all their values at once, and fresh memory
 * is touched only while the buffers grow to the largest page.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ColumnMetaData, DecodedArray, FileMetaData, SchemaTree } from 'hyparquet';
import type { readPage as ReadPage } from 'hyparquet/src/column.js';
import { PageStrings, type PageCodec } from './parquet-strings.ts';

/** What hyparquet's page reader needs to know of a column. */
type ColumnDecoder = Parameters<typeof ReadPage>[2];

/** Bytes read at once when a page is smaller: a page and its header, most often. */
const READ_AHEAD = 1 << 20;
/** Bytes a page header is first looked for in; a longer one (big statistics) gets more. */
const HEADER_BYTES = 1 << 14;

const internals = async () => {
  const [column, convert, schema, datapage, encoding, snappy] = await Promise.all([
    import('hyparquet/src/column.js'),
    import('hyparquet/src/convert.js'),
    import('hyparquet/src/schema.js'),
    import('hyparquet/src/datapage.js'),
    import('hyparquet/src/encoding.js'),
    import('hyparquet/src/snappy.js'),
  ]);
  return { ...column, ...convert, ...schema, ...datapage, ...encoding, ...snappy };
};
type Internals = Awaited<ReturnType<typeof internals>>;

/** A file's bytes at a moving offset, through one buffer that is reused. */
export class ByteWindow {
  /** Bytes read at once when fewer are asked for. */
  readonly readAhead: number;
  #buffer = new Uint8Array(0);
  /** The file offset of #buffer[0], and how many bytes from there it holds. */
  #start = 0;
  #length = 0;
  /** Where a page is decompressed to (see pageBuffer). */
  #page = new Uint8Array(0);

  /** `readAhead`: bytes read at once when fewer are asked for (tests make it small). */
  constructor(readAhead = READ_AHEAD) {
    this.readAhead = readAhead;
  }

  /**
   * `size` bytes to decompress a page into, the same memory page after page (grown, never
   * shrunk): a fresh megabyte a page was native memory the process held on to.
   */
  pageBuffer(size: number): Uint8Array {
    this.#page = atLeast(this.#page, size);
    return this.#page.subarray(0, size);
  }

  /** Whether `buffer` is one of the window's (so the next page overwrites what views it). */
  owns(buffer: ArrayBufferLike): boolean {
    return buffer === this.#buffer.buffer || buffer === this.#page.buffer;
  }

  /**
   * A view of the file's bytes from `offset`, at least `need` of them (fewer only where
   * `end` comes first); reads from the file only what the window does not hold yet.
   */
  async read(file: FileHandle, offset: number, need: number, end: number): Promise<DataView> {
    const want = Math.min(need, end - offset);
    if (offset < this.#start || offset + want > this.#start + this.#length) {
      const size = Math.min(Math.max(want, this.readAhead), end - offset);
      // Grown, never shrunk: the next group's pages land in the same, already touched, memory.
      this.#buffer = atLeast(this.#buffer, size);
      const { bytesRead } = await file.read(this.#buffer, 0, size, offset);
      if (bytesRead < want) throw new Error('the file is shorter than its footer says');
      this.#start = offset;
      this.#length = bytesRead;
    }
    const at = offset - this.#start;
    return new DataView(this.#buffer.buffer, at, this.#start + this.#length - offset);
  }
}

/** `buffer`, or when it holds fewer than `size` bytes a new one of at least twice its size. */
function atLeast(buffer: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  return size > buffer.length ? new Uint8Array(Math.max(size, 2 * buffer.length)) : buffer;
}

/** The data pages of one column chunk, decoded one at a time. */
export class ColumnPages {
  readonly #file: FileHandle;
  readonly #window: ByteWindow;
  readonly #decoder: ColumnDecoder;
  readonly #lib: Internals;
  /** For a text column: how its PLAIN pages are decoded a value at a time (parquet-strings.ts). */
  readonly #text: { codec: PageCodec; maxDefinition: number } | undefined;
  #offset: number;
  readonly #end: number;
  #dictionary: DecodedArray | undefined;

  private constructor(
    parts: { file: FileHandle; window: ByteWindow; decoder: ColumnDecoder; lib: Internals },
    range: { start: number; end: number },
  ) {
    this.#file = parts.file;
    this.#window = parts.window;
    this.#decoder = parts.decoder;
    this.#lib = parts.lib;
    this.#text = textOf(parts.decoder, parts.lib);
    this.#offset = range.start;
    this.#end = range.end;
  }

  /**
   * The pages of column `name` in row group `group`, or undefined when the column is not
   * flat (a list, a struct: hyparquet assembles those from whole chunks).
   */
  static async of(
    file: { handle: FileHandle; size: number; metadata: FileMetaData; schema: SchemaTree },
    at: { group: number; name: string },
    window: ByteWindow,
    compressors: NonNullable<ColumnDecoder['compressors']>,
  ): Promise<ColumnPages | undefined> {
    const lib = await internals();
    const schemaPath = lib.getTreePath(file.schema, [at.name]);
    if (!lib.isFlatColumn(schemaPath)) return undefined;
    const chunk = file.metadata.row_groups[at.group]?.columns.find(
      (column) => column.meta_data?.path_in_schema[0] === at.name,
    );
    const meta: ColumnMetaData | undefined = chunk?.meta_data;
    if (meta === undefined || chunk?.file_path)
      throw new Error(`no readable chunk of column ${at.name}`);
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const end = start + Number(meta.total_compressed_size);
    if (!(start >= 0 && end >= start && end <= file.size)) {
      throw new Error(`column ${at.name} lies outside the file`);
    }
    const decoder: ColumnDecoder = {
      pathInSchema: meta.path_in_schema,
      type: meta.type,
      element: schemaPath[schemaPath.length - 1]!.element,
      schemaPath,
      codec: meta.codec,
      parsers: lib.DEFAULT_PARSERS,
      // Snappy pages into the window's page buffer, with hyparquet's own decoder (the
      // WebAssembly one hands each page back in fresh memory).
      compressors: {
        ...compressors,
        SNAPPY: (input, size) => {
          const page = window.pageBuffer(size);
          lib.snappyUncompress(input, page);
          return page;
        },
      },
    };
    return new ColumnPages({ file: file.handle, window, decoder, lib }, { start, end });
  }

  /**
   * The next data page's values (one a row), or undefined at the chunk's end. A PLAIN text
   * page's values are decoded as they are asked for, from the window while it is uncompressed:
   * a caller is done with a page when it asks for the next.
   */
  async next(): Promise<DecodedArray | PageStrings | undefined> {
    while (this.#offset < this.#end) {
      const { header, reader } = await this.#page();
      const window = this.#window;
      if (header.type === 'DICTIONARY_PAGE') {
        const { data } = this.#lib.readPage(reader, header, this.#decoder, undefined, undefined, 0);
        if (data) this.#dictionary = unshared(this.#lib.convert(data, this.#decoder), window);
        continue;
      }
      if (this.#text !== undefined) {
        const { view, offset } = reader;
        const bytes = new Uint8Array(
          view.buffer,
          view.byteOffset + offset,
          header.compressed_page_size,
        );
        const strings = PageStrings.of(header, bytes, this.#text.maxDefinition, this.#text.codec);
        if (strings !== undefined) {
          if (strings.length > 0) return strings;
          continue;
        }
      }
      const page = this.#lib.readPage(
        reader,
        header,
        this.#decoder,
        this.#dictionary,
        undefined,
        0,
      );
      if (page.data && page.data.length > 0) return unshared(page.data, window);
    }
    return undefined;
  }

  /** The next page's header, and a reader at its data; moves past the page. */
  async #page() {
    for (let need = Math.min(HEADER_BYTES, this.#window.readAhead); ; need *= 4) {
      const view = await this.#window.read(this.#file, this.#offset, need, this.#end);
      const reader = { view, offset: 0 };
      const whole = view.byteLength >= this.#end - this.#offset;
      let header;
      try {
        header = this.#lib.parquetHeader(reader);
      } catch (error) {
        // Maybe cut off by the window (a read past it, or a struct with no end in it), not
        // damaged: look again in more bytes, up to the whole rest of the chunk.
        if (!whole) continue;
        throw error;
      }
      // A text field read past the view (its bytes were not in the window): the same.
      if (reader.offset > view.byteLength) {
        if (whole) throw new Error('a page header runs past the end of its column chunk');
        continue;
      }
      const size = reader.offset + header.compressed_page_size;
      if (!(header.compressed_page_size >= 0) || this.#offset + size > this.#end) {
        throw new Error('a page runs past the end of its column chunk');
      }
      if (size > view.byteLength) {
        reader.view = await this.#window.read(this.#file, this.#offset, size, this.#end);
      }
      this.#offset += size;
      return { header, reader };
    }
  }
}

/**
 * How a column's PLAIN pages are decoded a string at a time, when hyparquet would make each
 * of its values a string as it is (UTF-8 text, or bytes with no type); undefined otherwise.
 */
function textOf(
  decoder: ColumnDecoder,
  lib: Internals,
): { codec: PageCodec; maxDefinition: number } | undefined {
  const { converted_type: converted, logical_type: logical } = decoder.element;
  if (decoder.type !== 'BYTE_ARRAY') return undefined;
  if (converted !== undefined && converted !== 'UTF8') return undefined;
  if (logical !== undefined && logical.type !== 'STRING') return undefined;
  const codec: PageCodec = {
    decompress: (bytes, size) =>
      lib.decompressPage(bytes, size, decoder.codec, decoder.compressors),
    readLevels: (reader, width, output, length) =>
      lib.readRleBitPackedHybrid(reader, width, output, length),
  };
  return { codec, maxDefinition: lib.getMaxDefinitionLevel(decoder.schemaPath) };
}

/**
 * Values that do not view the window's buffers (the next page overwrites them): a typed
 * array of plain numbers or a byte-array value decoded in place is copied out of them.
 */
function unshared(values: DecodedArray, window: ByteWindow): DecodedArray {
  if (ArrayBuffer.isView(values)) {
    return window.owns(values.buffer) ? (values.slice() as DecodedArray) : values;
  }
  const list: unknown[] = values;
  for (let i = 0; i < list.length; i++) {
    const value = list[i];
    if (value instanceof Uint8Array && window.owns(value.buffer)) list[i] = value.slice();
  }
  return list as DecodedArray;
}
