/**
 * Reading a list's shape: is the first row a header, which column holds the URL, which the
 * name (and the id that names a file when the name is empty), the caption, and the columns
 * kept with each row. The same rules for every format: a JSON-lines or parquet list's field
 * names are its header. Pure: rows in, layout out.
 */
import { LayoutError } from './errors.ts';
import { textOf, toJsonValue, type Cells } from './records.ts';

export type HeaderMode = 'yes' | 'no' | 'auto';

export interface LayoutOptions {
  readonly header: HeaderMode;
  /** A header name or a 1-based index. */
  readonly urlColumn?: string | undefined;
  readonly nameColumn?: string | undefined;
  readonly captionColumn?: string | undefined;
  /** Columns kept with each row: header names or 1-based indexes. */
  readonly saveColumns?: readonly string[] | undefined;
}

/** A column kept with each row: the name it is kept under, and where it is. */
export interface SavedColumn {
  readonly name: string;
  readonly index: number;
}

export interface Layout {
  readonly hasHeader: boolean;
  readonly url: number;
  readonly name: number | undefined;
  readonly id: number | undefined;
  /** The caption's column, when the list has one (by header name, or --caption-column). */
  readonly caption?: number | undefined;
  readonly saved?: readonly SavedColumn[];
}

const URL_HEADERS = ['url', 'image_url', 'link', 'image', 'src'];
const NAME_HEADERS = ['name', 'title', 'filename', 'file_name'];
const ID_HEADERS = ['id', 'key'];
const CAPTION_HEADERS = ['caption', 'text', 'alt', 'alt_text', 'description'];

/** True for an absolute http(s) URL. */
export function isHttpUrl(text: string | undefined): boolean {
  if (!text) return false;
  const trimmed = text.trim();
  if (!/^https?:\/\//i.test(trimmed)) return false;
  return URL.canParse(trimmed);
}

/**
 * Whether the first record is a header: as told, or (auto) when none of its fields is an
 * http(s) URL. A reader that gets true must wait for the next record before `detectLayout`.
 */
export function firstRowIsHeader(first: readonly string[], mode: HeaderMode): boolean {
  return mode === 'yes' ? true : mode === 'no' ? false : !first.some(isHttpUrl);
}

/**
 * Decides the layout from the first record and the one after it (the first data row when
 * the first is a header). Throws LayoutError when a named column does not exist.
 */
export function detectLayout(
  first: readonly string[],
  second: readonly string[] | undefined,
  options: LayoutOptions,
): Layout {
  const hasHeader = firstRowIsHeader(first, options.header);
  const header = hasHeader ? first.map((h) => h.trim().toLowerCase()) : undefined;
  const data = hasHeader ? second : first;
  const width = Math.max(first.length, second?.length ?? 0);

  const pick = (flag: string, value: string): number => {
    if (/^\d+$/.test(value)) {
      const index = Number(value) - 1;
      if (index < 0 || index >= width) {
        throw new LayoutError(`${flag} ${value} is out of range: the CSV has ${width} columns`);
      }
      return index;
    }
    const index = header?.indexOf(value.trim().toLowerCase()) ?? -1;
    if (index < 0) {
      throw new LayoutError(
        header
          ? `${flag} "${value}" is not a column; the header has: ${first.join(', ')}`
          : `${flag} "${value}" names a header column, but the CSV has no header (use a 1-based index)`,
      );
    }
    return index;
  };
  const byHeader = (names: readonly string[]): number | undefined => {
    if (!header) return undefined;
    for (const name of names) {
      const index = header.indexOf(name);
      if (index >= 0) return index;
    }
    return undefined;
  };

  let url: number | undefined =
    options.urlColumn !== undefined
      ? pick('--url-column', options.urlColumn)
      : byHeader(URL_HEADERS);
  url ??= data?.findIndex(isHttpUrl);
  if (url === undefined || url < 0) {
    throw new LayoutError(
      'cannot tell which column holds the URLs: no http(s) URL in the first data row; use --url-column',
    );
  }
  const name =
    options.nameColumn !== undefined
      ? pick('--name-column', options.nameColumn)
      : (byHeader(NAME_HEADERS) ?? (url > 0 ? url - 1 : undefined));
  const idByHeader = byHeader(ID_HEADERS);
  const id = idByHeader ?? (name !== undefined && name > 0 && url !== 0 ? 0 : undefined);
  const caption =
    options.captionColumn !== undefined
      ? pick('--caption-column', options.captionColumn)
      : byHeader(CAPTION_HEADERS);
  const saved = (options.saveColumns ?? []).map((column) => {
    const index = pick('--save-columns', column);
    return { name: hasHeader ? (first[index] ?? column).trim() : column, index };
  });
  return {
    hasHeader,
    url,
    name,
    id: id === name || id === url ? undefined : id,
    caption: caption === url ? undefined : caption,
    saved,
  };
}

export interface Job {
  /** 1-based number of the data row in the CSV. */
  readonly row: number;
  readonly url: string;
  readonly name: string;
  readonly id: string;
  /** The row's caption, when the list has a caption column. */
  readonly caption?: string;
  /** The values of the saved columns, in the layout's order (JSON values). */
  readonly saved?: readonly unknown[];
}

/** A data row that cannot be downloaded, and why. */
export interface BadRow {
  readonly row: number;
  readonly url: string;
  readonly error: string;
}

/** A row as a job, or the reason it cannot be one. `encoding` is the CSV's, for the error. */
export function toJob(
  record: Cells,
  layout: Layout,
  row: number,
  encoding = 'utf-8',
): Job | BadRow {
  const cell = (index: number | undefined): string =>
    index === undefined ? '' : textOf(record[index]).trim();
  const url = cell(layout.url);
  const name = cell(layout.name);
  const id = cell(layout.id);
  const caption = layout.caption === undefined ? undefined : cell(layout.caption);
  if (url === '') return { row, url, error: 'no URL in this row' };
  // U+FFFD is what the decoder left for bytes that are not `encoding`: the row's name would
  // be garbled for good, so the row fails and says how to read it right.
  if ([url, name, id, caption ?? ''].some((field) => field.includes('\ufffd'))) {
    return { row, url, error: notDecodable(encoding) };
  }
  if (/[\s\p{Cc}]/u.test(url)) {
    return { row, url, error: 'invalid URL: whitespace or a control character inside' };
  }
  if (!isHttpUrl(url)) return { row, url, error: 'not an http(s) URL' };
  const saved = layout.saved?.length
    ? layout.saved.map((c) => toJsonValue(record[c.index]))
    : undefined;
  return {
    row,
    url,
    name,
    id,
    ...(caption === undefined ? {} : { caption }),
    ...(saved === undefined ? {} : { saved }),
  };
}

/** The failure of a row whose bytes are not text in the CSV's encoding. */
export const notDecodable = (encoding: string): string =>
  `this row is not valid ${encoding} text; name the CSV's encoding with --encoding ` +
  '(e.g. gb18030, big5, shift_jis, windows-1252)';
