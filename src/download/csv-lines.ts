/**
 * Cutting CSV text into lines before the CSV parser sees it, and parsing whole lines. Every
 * line ending (CRLF, LF or a lone CR, in any mix) ends a row, and a row is given out as soon
 * as its line ending arrives.
 * A line whose quotes do not balance, or that grows past the cap, becomes a marker line that
 * the reader reports as that row's failure; the next line starts afresh. So a quoted field
 * cannot span lines: in a list of URLs a stray quote is far likelier than a name with a
 * newline in it, and one stray quote must not swallow the rest of the file. Pure.
 */
import { parse, type Options as ParseOptions } from 'csv-parse/sync';

/** The longest row, in characters: past it the row fails and the rest of its line is dropped. */
export const MAX_ROW_CHARS = 1024 * 1024;

/** Marks a line the parser must not see as data; a private-use character no CSV starts a row with. */
export const MARK = '\ue000crew:';
export const OVERSIZED = `${MARK}oversized`;
export const UNBALANCED = `${MARK}quotes`;

const LINE_END = /[\r\n]/g;

/**
 * Feeds text in, gets whole lines out, each ending in `\n` (or a marker line instead).
 * Quotes are checked for CSV only: in TSV and JSON lines a quote is an ordinary character.
 */
export class LineCutter {
  readonly #max: number;
  readonly #quotes: boolean;
  #partial = '';
  /** The previous chunk ended in CR: a LF first in the next one belongs to it. */
  #afterCr = false;
  /** The current line went over the cap: drop it up to its line ending. */
  #dropping = false;

  constructor(max = MAX_ROW_CHARS, options: { readonly quotes?: boolean } = {}) {
    this.#max = max;
    this.#quotes = options.quotes ?? true;
  }

  /** The lines that `text` completes, as one string of `\n`-ended lines. */
  push(text: string): string {
    // Most chunks of a URL list have no CR and no quote: their whole lines are given out as
    // one slice, where building them line by line made three strings a line of garbage.
    const last = text.lastIndexOf('\n');
    if (
      last !== -1 &&
      !this.#afterCr &&
      !this.#dropping &&
      this.#partial.length + last < this.#max && // so every line in it fits the cap
      !text.includes('\r') &&
      (!this.#quotes || (!text.includes('"') && !this.#partial.includes('"')))
    ) {
      const lines = this.#partial + text.slice(0, last + 1);
      this.#partial = '';
      return lines + this.#keep(text.slice(last + 1));
    }
    let out = '';
    let from = 0;
    if (this.#afterCr && text.startsWith('\n')) from = 1;
    this.#afterCr = false;
    LINE_END.lastIndex = from;
    for (let m = LINE_END.exec(text); m !== null; m = LINE_END.exec(text)) {
      out += this.#line(text.slice(from, m.index));
      from = m.index + 1;
      if (text.charCodeAt(m.index) === 13) {
        if (from === text.length) this.#afterCr = true;
        else if (text.charCodeAt(from) === 10) from++;
        LINE_END.lastIndex = from;
      }
    }
    return out + this.#keep(text.slice(from));
  }

  /** The last line, when the text does not end in a line ending. */
  end(): string {
    const last = this.#partial;
    const dropped = this.#dropping;
    this.#partial = '';
    this.#dropping = false;
    return dropped || last === '' ? '' : this.#checked(last);
  }

  #line(rest: string): string {
    if (this.#dropping) {
      this.#dropping = false;
      this.#partial = '';
      return '';
    }
    const line = this.#partial + rest;
    this.#partial = '';
    return line.length > this.#max ? `${OVERSIZED}\n` : this.#checked(line);
  }

  #checked(line: string): string {
    return this.#quotes && line.includes('"') && !quotesBalance(line)
      ? `${UNBALANCED}\n`
      : `${line}\n`;
  }

  /** Holds the start of a line; one past the cap is reported at once and then dropped. */
  #keep(rest: string): string {
    if (this.#dropping) return '';
    this.#partial += rest;
    if (this.#partial.length <= this.#max) return '';
    this.#partial = '';
    this.#dropping = true;
    return `${OVERSIZED}\n`;
  }
}

/**
 * Whether a line's quotes are ones the parser accepts: a field that starts with a quote
 * (after spaces) ends with one, `""` inside it is a quote, and only spaces may follow its
 * closing quote before the comma. A quote inside an unquoted field is a plain character.
 */
export function quotesBalance(line: string): boolean {
  let quoted = false;
  let closed = false;
  let fieldStart = true;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c !== '"') continue;
      if (line[i + 1] === '"') i++;
      else {
        quoted = false;
        closed = true;
      }
    } else if (c === ',') {
      fieldStart = true;
      closed = false;
    } else if (closed) {
      if (c !== ' ' && c !== '\t') return false;
    } else if (fieldStart && c === '"') {
      quoted = true;
      fieldStart = false;
    } else if (fieldStart && c !== ' ' && c !== '\t') {
      fieldStart = false;
    }
  }
  return !quoted;
}

/** How whole lines are split into fields (their quotes balance: see LineCutter). */
export const PARSE: ParseOptions = {
  record_delimiter: '\n',
  relax_quotes: true,
  relax_column_count: true,
  skip_empty_lines: true,
  skip_records_with_empty_values: true,
  trim: true,
};

/**
 * The records of whole `\n`-ended lines (LineCutter's output), as csv-parse gives them with
 * PARSE. Lines without a quote, nearly every line of a URL list, are split on commas here:
 * with no quote, csv-parse does just that (trimming each field of what String.trim trims,
 * skipping lines whose fields are all blank), at ~1.8 us a row where a split costs ~0.3.
 */
export function parseLines(text: string): string[][] {
  if (text.includes('"')) {
    const parsed: string[][] = parse(text, PARSE);
    return parsed;
  }
  return splitLines(text, ',');
}

/**
 * The records of whole `\n`-ended lines split on `separator` with no quoting: each field
 * trimmed (String.trim), lines whose fields are all blank skipped. CSV without quotes; TSV.
 */
export function splitLines(text: string, separator: string): string[][] {
  const records: string[][] = [];
  for (let from = 0; from < text.length;) {
    const end = text.indexOf('\n', from);
    const to = end === -1 ? text.length : end;
    const fields = text.slice(from, to).split(separator);
    from = to + 1;
    let blank = true;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!.trim();
      fields[i] = field;
      if (field !== '') blank = false;
    }
    if (!blank) records.push(fields);
  }
  return records;
}
