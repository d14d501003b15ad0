/**
 * Rows of a list as cells, whatever its format: TSV lines split on tabs, JSON lines parsed
 * into objects and laid out by the field names of the first, and any value (a parquet
 * column's bigint, a JSON number) as the text crew needs for a URL, a name or a caption, or
 * as a JSON value to keep. Pure.
 */
import { splitLines } from './csv-lines.ts';

/** One row's values, by column; a value is text for CSV and TSV, JSON for the others. */
export type Cells = readonly unknown[];

/** A row that cannot be read as cells, and why. */
export interface Unreadable {
  readonly error: string;
}

/** The records of whole `\n`-ended TSV lines: fields split on tabs, trimmed; blank lines skipped. */
export function tsvRecords(text: string): string[][] {
  return splitLines(text, '\t');
}

/**
 * JSON lines as cells: the first object's field names are the columns (`names`), and each
 * later object is laid out by them (a field the first lacked is not a column; one a later
 * object lacks is empty). A line that is not JSON, or not an object, is Unreadable.
 */
export class JsonLines {
  #names: string[] | undefined;

  /** The columns, once the first object is read. */
  get names(): readonly string[] | undefined {
    return this.#names;
  }

  /** One line's cells, or why it has none; undefined for a blank line. */
  parse(line: string): Cells | Unreadable | undefined {
    const text = line.trim();
    if (text === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { error: `not valid JSON: ${(error as Error).message}` };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return {
        error: `not a JSON object (${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`})`,
      };
    }
    const object = value as Record<string, unknown>;
    this.#names ??= Object.keys(object);
    return this.#names.map((name) => (Object.hasOwn(object, name) ? object[name] : undefined));
  }
}

/** A value as the text of a URL, name, id or caption: JSON for what is not already text. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  const plain = toJsonValue(value);
  return typeof plain === 'string' ? plain : JSON.stringify(plain);
}

/** How deep a kept value may nest before the rest is cut (a hostile file's deep nesting). */
const MAX_DEPTH = 16;

/**
 * A value as JSON can hold it: a bigint as a number when exact, else its digits; a date as
 * ISO text; bytes as base64; objects and arrays likewise inside, to a bounded depth.
 */
export function toJsonValue(value: unknown, depth = 0): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (depth >= MAX_DEPTH) return null;
  if (Array.isArray(value)) return value.map((item) => toJsonValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = toJsonValue(item, depth + 1);
  return out;
}
