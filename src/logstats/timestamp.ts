/**
 * Which day (or hour) a request belongs to, from its own timestamp: a time's fields as
 * written, the key it is counted under (in the timestamp's own offset, the day the server
 * wrote down, or in UTC with `utc`), and the time syntaxes several formats share (ISO 8601,
 * Unix seconds). The common log format's own syntax is in formats/clf-time.ts. Pure.
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
  return realMoment({
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
export function realMoment(w: Written): Written | undefined {
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

/**
 * A timestamp as written (in its own offset) in seconds since 1970, as if it were UTC; a date
 * without a time is its midnight, and a leap second (:60) belongs to its minute.
 */
export function writtenSeconds(w: Written): number {
  const second = Math.min(w.second, 59);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour ?? 0, w.minute, second) / 1000;
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

/** Dates and hours in time order, `unknown` after them. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  if (a === UNKNOWN) return 1;
  if (b === UNKNOWN) return -1;
  return a < b ? -1 : 1;
}
