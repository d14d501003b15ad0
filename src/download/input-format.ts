/**
 * Which kind of list a download reads: CSV, TSV, JSON lines or parquet, any text one maybe
 * gzip-compressed. Told (`--input-format`), else decided by the file's first bytes (gzip
 * and parquet have magic numbers), its name (`.tsv`, `.jsonl.gz`...), and for text its first
 * line. Pure.
 */

export const INPUT_FORMATS = ['auto', 'csv', 'tsv', 'jsonl', 'parquet'] as const;
export type InputFormatChoice = (typeof INPUT_FORMATS)[number];
export type InputFormat = Exclude<InputFormatChoice, 'auto'>;
/** The formats read as lines of text (a line is a row). */
export type TextFormat = Exclude<InputFormat, 'parquet'>;

/** Bytes of the start of a file `framing` wants. */
export const MAGIC_BYTES = 4;

const GZIP = [0x1f, 0x8b];
const PARQUET = [0x50, 0x41, 0x52, 0x31]; // PAR1

const startsWith = (head: Uint8Array, magic: readonly number[]): boolean =>
  magic.every((byte, i) => head[i] === byte);

/** What the first bytes say: gzip-compressed, a parquet file, or neither (plain text). */
export function framing(head: Uint8Array): 'gzip' | 'parquet' | 'plain' {
  if (startsWith(head, GZIP)) return 'gzip';
  if (startsWith(head, PARQUET)) return 'parquet';
  return 'plain';
}

/** The format a file's name says (`list.tsv.gz` -> tsv), if it says one. */
export function formatByName(path: string): InputFormat | undefined {
  const name = path.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (name.endsWith('.parquet') || name.endsWith('.pq')) return 'parquet';
  if (/\.(jsonl|ndjson|json)$/.test(name)) return 'jsonl';
  if (/\.(tsv|tab)$/.test(name)) return 'tsv';
  if (name.endsWith('.csv')) return 'csv';
  return undefined;
}

/**
 * The text format its first non-blank line says: a JSON object is JSON lines; tabs and no
 * commas, or tabs with a whole tab-separated field that is a URL (cc3m's `caption<TAB>url`,
 * whose captions hold commas), is TSV; anything else CSV.
 */
export function formatByText(firstLine: string): TextFormat {
  const line = firstLine.replace(/^\ufeff/, '').trim();
  if (line.startsWith('{')) return 'jsonl';
  if (line.includes('\t')) {
    if (!line.includes(',')) return 'tsv';
    if (line.split('\t').some((field) => /^https?:\/\/\S+$/i.test(field.trim()))) return 'tsv';
  }
  return 'csv';
}
