/**
 * The W3C extended log file format's machinery, shared by IIS's logs (w3c.ts) and Amazon
 * CloudFront's (cloudfront.ts): directive lines start with `#`, and `#Fields: date time c-ip
 * ...` names the columns of the lines after it, until the next `#Fields:` (IIS writes one at
 * each restart, and may change the fields). Times are UTC (`date` and `time`). A reader keeps
 * the last `#Fields:` it saw; a byte range that starts after the file's start is first shown
 * the last `#Fields:` line before it (read.ts, LogFormat.directive), so every range of a split
 * file reads its lines by the header in effect where they are. Pure.
 */
import type { FinishedLine } from '../carried-line.ts';
import { BLANK, classifyLine, isSpace, MALFORMED } from '../client-ip.ts';
import { clearRequest, readsRequests, withoutQuery } from '../request-fields.ts';
import { parseIsoTime, type Written } from '../timestamp.ts';
import { bytesCount, Columns, statusCode } from './fields.ts';
import type { LineFields, LineReader, ReadRules } from './format.ts';
import { WrittenTime } from './written-time.ts';

/** The directive that names the columns. */
export const FIELDS_DIRECTIVE = '#Fields:';

/** The columns crew reads, by their W3C names (compared without regard to case). */
const NAMES = {
  date: 'date',
  time: 'time',
  client: 'c-ip',
  status: 'sc-status',
  sent: 'sc-bytes',
  target: 'cs-uri-stem',
  referrer: 'cs(referer)',
  agent: 'cs(user-agent)',
} as const;

type Column = keyof typeof NAMES;

/** Where each column crew reads is in a line (-1: absent), and how many to cut. */
export interface FieldMap {
  readonly at: Readonly<Record<Column, number>>;
  /** One past the last column crew reads: the line is cut no further. */
  readonly cut: number;
}

/** The columns a `#Fields:` directive names (the text after the directive's name). */
export function fieldMap(names: readonly string[]): FieldMap {
  const lower = names.map((name) => name.toLowerCase());
  const at = {} as Record<Column, number>;
  let cut = 0;
  for (const column of Object.keys(NAMES) as Column[]) {
    at[column] = lower.indexOf(NAMES[column]);
    cut = Math.max(cut, at[column] + 1);
  }
  return { at, cut };
}

/** The names a `#Fields:` line gives, or undefined when the line is not one. */
export function parseFieldsLine(line: string): string[] | undefined {
  if (!line.startsWith(FIELDS_DIRECTIVE)) return undefined;
  return line
    .slice(FIELDS_DIRECTIVE.length)
    .split(/[ \t]+/)
    .filter((name) => name !== '');
}

/** How one W3C dialect writes its lines. */
export interface Dialect {
  /** What separates columns. */
  readonly separator: (byte: number) => boolean;
  /** A text column as it was sent: IIS's `+` for a space, CloudFront's URL-encoding. */
  readonly decode: (text: string, column: 'target' | 'referrer' | 'agent') => string;
  /** The columns before any `#Fields:` line; undefined: such lines are malformed. */
  readonly defaults: FieldMap | undefined;
}

const HASH = 0x23;
const utf8 = new TextDecoder('utf-8');

/** Reads the lines of one scan of a W3C extended log. */
export class W3cReader implements LineReader {
  readonly fields: ReadonlySet<string> = new Set();
  readonly #dialect: Dialect;
  readonly #time: WrittenTime;
  readonly #requests: boolean;
  #map: FieldMap | undefined;
  #columns: Columns;

  constructor(rules: ReadRules, dialect: Dialect) {
    this.#dialect = dialect;
    this.#time = new WrittenTime(rules);
    this.#requests = readsRequests(rules);
    this.#map = dialect.defaults;
    this.#columns = new Columns(this.#map?.cut ?? 0);
  }

  read(bytes: Uint8Array, start: number, end: number, out: LineFields): number {
    let s = start;
    while (s < end && isSpace(bytes[s]!)) s++;
    // A directive (or a blank line) is no request: blank, with no time and no request.
    if (s === end || bytes[s] === HASH) {
      if (s < end) this.#directive(bytes, s, end);
      this.#time.set(undefined, out);
      if (this.#requests) clearRequest(out);
      return BLANK;
    }
    while (end > s && isSpace(bytes[end - 1]!)) end--;
    const map = this.#map;
    const n = map ? this.#columns.cut(bytes, s, end, this.#dialect.separator, false) : 0;
    const written = this.#time.wanted || this.#requests ? this.#written(bytes, n) : undefined;
    this.#time.set(written, out);
    if (this.#requests) this.#readRequest(bytes, n, written, out);
    const client = map?.at.client ?? -1;
    if (client < 0 || client >= n) return MALFORMED;
    const from = this.#columns.starts[client]!;
    const to = this.#columns.ends[client]!;
    const kind = classifyLine(bytes, from, to, out);
    return kind === BLANK ? MALFORMED : kind;
  }

  readCarried(line: FinishedLine, out: LineFields): number {
    // Kept whole up to MAX_KEPT_LINE (wholeLine): a longer line is read from its start.
    return this.read(line.kept, 0, line.kept.length, out);
  }

  /** A `#Fields:` line names the columns from here on; other directives change nothing. */
  #directive(bytes: Uint8Array, start: number, end: number): void {
    if (end - start < FIELDS_DIRECTIVE.length) return;
    const names = parseFieldsLine(utf8.decode(bytes.subarray(start, end)));
    if (names === undefined) return;
    this.#map = fieldMap(names);
    this.#columns = new Columns(this.#map.cut);
  }

  #text(bytes: Uint8Array, column: Column, n: number): string | undefined {
    const i = this.#map!.at[column];
    if (i < 0 || i >= n) return undefined;
    return utf8.decode(bytes.subarray(this.#columns.starts[i], this.#columns.ends[i]));
  }

  /** `date` and `time`, UTC. */
  #written(bytes: Uint8Array, n: number): Written | undefined {
    const date = this.#text(bytes, 'date', n);
    const time = this.#text(bytes, 'time', n);
    if (date === undefined || time === undefined || !/^\d/.test(time)) return undefined;
    return parseIsoTime(`${date}T${time}Z`);
  }

  #readRequest(bytes: Uint8Array, n: number, written: Written | undefined, out: LineFields): void {
    clearRequest(out);
    const map = this.#map;
    if (map === undefined) return;
    const columns = this.#columns;
    const at = map.at;
    if (at.status >= 0 && at.status < n) {
      out.status = statusCode(bytes, columns.starts[at.status]!, columns.ends[at.status]!);
    }
    if (at.sent >= 0 && at.sent < n) {
      out.sent = bytesCount(bytes, columns.starts[at.sent]!, columns.ends[at.sent]!);
    }
    out.target = this.#decoded(bytes, 'target', n);
    if (out.target !== undefined) out.target = withoutQuery(out.target);
    out.referrer = this.#decoded(bytes, 'referrer', n);
    const agent = this.#decoded(bytes, 'agent', n);
    out.agent = agent === undefined ? undefined : agent || '-';
    this.#time.setHour(written, out);
  }

  /** A text column as sent; undefined when the fields have none, or it is `-` (a path). */
  #decoded(
    bytes: Uint8Array,
    column: 'target' | 'referrer' | 'agent',
    n: number,
  ): string | undefined {
    const text = this.#text(bytes, column, n);
    if (text === undefined || (column === 'target' && (text === '-' || text === ''))) {
      return undefined;
    }
    return text === '-' ? text : this.#dialect.decode(text, column);
  }
}
