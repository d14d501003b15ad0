/**
 * Which day (or hour) a request belongs to, from its own timestamp: `[10/Oct/2000:13:55:36
 * -0700]` in common/combined logs, ISO 8601 text or Unix seconds in JSON logs. Keys are in
 * the timestamp's own offset (the day the server wrote down), or in UTC with `utc`. Pure.
 */

export type Grouping = 'day' | 'hour';

/** A timestamp's fields as written, and its offset from UTC in minutes when it has one. */
export interface Written {
  readonly year: number;
  /** 1 to 12. */
  readonly month: number;
  readonly day: number;
  /** undefined for a date without a time. */
  readonly hour: number | undefined;
  readonly minute: number;
  readonly second: number;
  readonly offsetMinutes: number | undefined;
}

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
  return valid({
    year: Number(m[3]),
    month,
    day: Number(m[1]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6]),
    offsetMinutes: sign * (Number(m[8]) * 60 + Number(m[9])),
  });
}

/**
 * ISO 8601 as loggers write it: `2021-03-22T10:00:00+08:00`, with `Z`, fractions, a space
 * for the `T`, `+0800`, or no offset (then the time is taken as written, and as UTC with
 * --utc); a bare date has no hour.
 */
export function parseIsoTime(text: string): Written | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(
      text.trim(),
    );
  if (!m) return undefined;
  const zone = m[7];
  let offsetMinutes: number | undefined;
  if (zone !== undefined) {
    const digits = zone.replace(':', '');
    offsetMinutes =
      zone.toUpperCase() === 'Z'
        ? 0
        : (digits[0] === '-' ? -1 : 1) *
          (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3)));
  }
  return valid({
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: m[4] === undefined ? undefined : Number(m[4]),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    offsetMinutes,
  });
}

/** Unix seconds (Caddy's `ts`): an instant with no offset of its own, so it is read in UTC. */
export function fromUnixSeconds(seconds: number): Written | undefined {
  if (!Number.isFinite(seconds)) return undefined;
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return undefined;
  return fromUtcDate(date);
}

function fromUtcDate(date: Date): Written {
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    offsetMinutes: 0,
  };
}

/** The fields, if they name a real moment (no 31 April, no hour 24). */
function valid(w: Written): Written | undefined {
  const daysInMonth = new Date(Date.UTC(w.year, w.month, 0)).getUTCDate();
  const ok =
    w.month >= 1 &&
    w.month <= 12 &&
    w.day >= 1 &&
    w.day <= daysInMonth &&
    (w.hour === undefined || w.hour <= 23) &&
    w.minute <= 59 &&
    w.second <= 60 && // a leap second
    (w.offsetMinutes === undefined || Math.abs(w.offsetMinutes) < 24 * 60);
  return ok ? w : undefined;
}

const two = (n: number): string => String(n).padStart(2, '0');

/**
 * The group a timestamp falls in: `2021-03-22` by day, `2021-03-22 13:00` by hour; in its own
 * offset, or in UTC with `utc` (a timestamp without an offset is then taken as UTC).
 * undefined when the grouping needs an hour the timestamp does not have.
 */
export function groupKey(written: Written, by: Grouping, utc: boolean): string | undefined {
  if (by === 'hour' && written.hour === undefined) return undefined;
  let w = written;
  if (utc && w.offsetMinutes !== undefined && w.offsetMinutes !== 0 && w.hour !== undefined) {
    const local = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    w = fromUtcDate(new Date(local - w.offsetMinutes * 60_000));
  }
  const day = `${String(w.year).padStart(4, '0')}-${two(w.month)}-${two(w.day)}`;
  return by === 'day' ? day : `${day} ${two(w.hour!)}:00`;
}

/** The key lines without a usable timestamp are counted under. */
export const UNKNOWN = 'unknown';

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const CLF_TIME_BYTES = 26; // 10/Oct/2000:13:55:36 -0700

/**
 * Keys for a stream of lines, reading only the bytes that can change the key: consecutive
 * lines of a log mostly share a day, so a line whose deciding bytes match the last line's
 * gets the last key without parsing.
 */
export class LineKeys {
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
    let open = start;
    while (open < end && bytes[open] !== OPEN) open++;
    const from = open + 1;
    if (from + CLF_TIME_BYTES >= end || bytes[from + CLF_TIME_BYTES] !== CLOSE) return UNKNOWN;
    if (!clfTimeShape(bytes, from)) return UNKNOWN;
    if (this.#haveLast && this.#same(bytes, from)) return this.#lastKey ?? UNKNOWN;
    this.#last.set(bytes.subarray(from, from + CLF_TIME_BYTES));
    this.#haveLast = true;
    const written = parseClfTime(String.fromCharCode(...this.#last));
    this.#lastKey = written && groupKey(written, this.#by, this.#utc);
    return this.#lastKey ?? UNKNOWN;
  }

  /** The key of a JSON log's time value: ISO 8601 text, or Unix seconds. */
  ofValue(value: unknown): string {
    const written =
      typeof value === 'string'
        ? parseIsoTime(value)
        : typeof value === 'number'
          ? fromUnixSeconds(value)
          : undefined;
    return (written && groupKey(written, this.#by, this.#utc)) ?? UNKNOWN;
  }

  #same(bytes: Uint8Array, from: number): boolean {
    const last = this.#last;
    for (let i = 0; i < this.#deciding; i++) if (bytes[from + i] !== last[i]) return false;
    return true;
  }
}

const isDigit = (byte: number | undefined): boolean =>
  byte !== undefined && byte >= 0x30 && byte <= 0x39;
const number2 = (bytes: Uint8Array, at: number): number =>
  (bytes[at]! - 0x30) * 10 + bytes[at + 1]! - 0x30;

/**
 * Whether `bytes[from, from + 26)` has the shape of a valid common-log-format time whose
 * time of day is possible: what a line that shares its date with the last one must still
 * pass, so a garbled time is never counted under the last line's day.
 */
function clfTimeShape(bytes: Uint8Array, from: number): boolean {
  for (const at of [0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25]) {
    if (!isDigit(bytes[from + at])) return false;
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
