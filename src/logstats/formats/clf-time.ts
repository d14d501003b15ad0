/**
 * The common log format's time, `[10/Oct/2000:13:55:36 -0700]`: its syntax, and the group
 * keys of a stream of lines read from their first `[...]` (the formats of the common log
 * format's family share it). Pure.
 */
import type { LineTime } from '../line-filter.ts';
import { groupKey, realMoment, UNKNOWN, type Grouping, type Written } from '../timestamp.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `10/Oct/2000:13:55:36 -0700`, the common log format's time (without its brackets). */
export function parseClfTime(text: string): Written | undefined {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(
    text,
  );
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2]!) + 1;
  if (month === 0 || Number(m[9]) > 59) return undefined;
  const sign = m[7] === '-' ? -1 : 1;
  return realMoment({
    year: Number(m[3]),
    month,
    day: Number(m[1]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6]),
    offsetMinutes: sign * (Number(m[8]) * 60 + Number(m[9])),
  });
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const CLF_TIME_BYTES = 26; // 10/Oct/2000:13:55:36 -0700

/**
 * The group keys of a stream of common-log-format lines, reading only the bytes that can
 * change the key: consecutive lines of a log mostly share a day, so a line whose deciding
 * bytes match the last line's gets the last key without parsing.
 */
export class ClfTimeKeys {
  readonly #by: Grouping;
  readonly #utc: boolean;
  /** Bytes of the time that decide the key: the date (and hour), and with utc the rest. */
  readonly #deciding: number;
  readonly #last = new Uint8Array(CLF_TIME_BYTES);
  #lastKey: string | undefined = undefined;
  #haveLast = false;

  constructor(by: Grouping, utc: boolean) {
    this.#by = by;
    this.#utc = utc;
    this.#deciding = utc ? CLF_TIME_BYTES : by === 'day' ? 11 : 14;
  }

  /** The key of the common-log-format line `bytes[start, end)`: its first `[...]`. */
  ofLine(bytes: Uint8Array, start: number, end: number): string {
    const from = clfTimeAt(bytes, start, end);
    if (from < 0) return UNKNOWN;
    if (this.#haveLast && this.#same(bytes, from)) return this.#lastKey ?? UNKNOWN;
    this.#last.set(bytes.subarray(from, from + CLF_TIME_BYTES));
    this.#haveLast = true;
    const written = parseClfTime(String.fromCharCode(...this.#last));
    this.#lastKey = written && groupKey(written, this.#by, this.#utc);
    return this.#lastKey ?? UNKNOWN;
  }

  #same(bytes: Uint8Array, from: number): boolean {
    const last = this.#last;
    for (let i = 0; i < this.#deciding; i++) if (bytes[from + i] !== last[i]) return false;
    return true;
  }
}

/** Where the time in the line's first `[...]` starts, or -1 when that holds no valid time. */
function clfTimeAt(bytes: Uint8Array, start: number, end: number): number {
  let open = start;
  while (open < end && bytes[open] !== OPEN) open++;
  const from = open + 1;
  if (from + CLF_TIME_BYTES >= end || bytes[from + CLF_TIME_BYTES] !== CLOSE) return -1;
  return clfTimeShape(bytes, from) ? from : -1;
}

const DATE_BYTES = 11; // 10/Oct/2000

/**
 * The times of a stream of common-log-format lines, for --since and --until: read from the
 * bytes, with the day's start kept while lines share a date (most of a log's lines do).
 */
export class ClfTimes {
  readonly #date = new Uint8Array(DATE_BYTES);
  #haveDate = false;
  /** The last date's midnight in seconds since 1970, as written; NaN for no such day. */
  #dayStart = NaN;

  /** Sets `out` from the line's first `[...]`: NaN seconds when it holds no valid time. */
  ofLine(bytes: Uint8Array, start: number, end: number, out: LineTime): void {
    const from = clfTimeAt(bytes, start, end);
    out.offsetMinutes = 0;
    if (from < 0) {
      out.seconds = NaN;
      return;
    }
    if (!this.#haveDate || !this.#sameDate(bytes, from)) {
      this.#date.set(bytes.subarray(from, from + DATE_BYTES));
      this.#haveDate = true;
      this.#dayStart = dayStart(bytes, from);
    }
    // A leap second (:60) belongs to its minute.
    const second = Math.min(number2(bytes, from + 18), 59);
    out.seconds =
      this.#dayStart + number2(bytes, from + 12) * 3600 + number2(bytes, from + 15) * 60 + second;
    const offset = number2(bytes, from + 22) * 60 + number2(bytes, from + 24);
    out.offsetMinutes = bytes[from + 21] === 0x2d ? -offset : offset;
  }

  #sameDate(bytes: Uint8Array, from: number): boolean {
    const date = this.#date;
    for (let i = 0; i < DATE_BYTES; i++) if (bytes[from + i] !== date[i]) return false;
    return true;
  }
}

/** `10/Oct/2000`'s midnight as written, in seconds since 1970; NaN for no such day. */
function dayStart(bytes: Uint8Array, from: number): number {
  const month =
    MONTHS.indexOf(String.fromCharCode(bytes[from + 3]!, bytes[from + 4]!, bytes[from + 5]!)) + 1;
  const year = number2(bytes, from + 7) * 100 + number2(bytes, from + 9);
  const day = number2(bytes, from);
  if (month === 0 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return NaN;
  return Date.UTC(year, month - 1, day) / 1000;
}

const isDigit = (byte: number | undefined): boolean =>
  byte !== undefined && byte >= 0x30 && byte <= 0x39;
const number2 = (bytes: Uint8Array, at: number): number =>
  (bytes[at]! - 0x30) * 10 + bytes[at + 1]! - 0x30;

/**
 * Where `10/Oct/2000:13:55:36 -0700` has digits. A typed array made once: a literal in the
 * loop was a new array for every line, ~40% of `--by day`'s own time per line.
 */
const DIGITS_AT = Uint8Array.of(0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25);

/**
 * Whether `bytes[from, from + 26)` has the shape of a valid common-log-format time whose
 * time of day is possible: what a line that shares its date with the last one must still
 * pass, so a garbled time is never counted under the last line's day.
 */
function clfTimeShape(bytes: Uint8Array, from: number): boolean {
  for (let i = 0; i < DIGITS_AT.length; i++) {
    if (!isDigit(bytes[from + DIGITS_AT[i]!])) return false;
  }
  const sign = bytes[from + 21];
  return (
    bytes[from + 2] === 0x2f &&
    bytes[from + 6] === 0x2f &&
    bytes[from + 11] === 0x3a &&
    bytes[from + 14] === 0x3a &&
    bytes[from + 17] === 0x3a &&
    bytes[from + 20] === 0x20 &&
    (sign === 0x2b || sign === 0x2d) &&
    number2(bytes, from + 12) <= 23 &&
    number2(bytes, from + 15) <= 59 &&
    number2(bytes, from + 18) <= 60 &&
    number2(bytes, from + 22) <= 23 &&
    number2(bytes, from + 24) <= 59
  );
}
