/**
 * Cutting a line into fields, for the formats whose lines are columns (ALB, W3C extended,
 * CloudFront): one pass over the bytes, each field's bounds written into reused arrays, so
 * a line costs no allocation until a field's text is wanted. Linear in the line's length
 * whatever it holds. Pure.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The bounds of one line's fields, reused from line to line. */
export class Columns {
  /** Field i is `bytes[starts[i], ends[i])`, without its quotes. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** Fields found in the last line (at most `starts.length`: the rest are not cut). */
  count = 0;

  constructor(most: number) {
    this.starts = new Int32Array(most);
    this.ends = new Int32Array(most);
  }

  /**
   * Cuts `bytes[start, end)` at each byte for which `separator` is true: two separators in a
   * row make an empty field. With `quotes`, a field that starts with `"` runs to the next `"`
   * that is followed by a separator or the line's end (`\"` inside it is not that quote), and
   * is given without its quotes. Cuts no further than the room it has.
   */
  cut(
    bytes: Uint8Array,
    start: number,
    end: number,
    separator: (byte: number) => boolean,
    quotes: boolean,
  ): number {
    const most = this.starts.length;
    let n = 0;
    let p = start;
    while (n < most) {
      if (quotes && p < end && bytes[p] === QUOTE) {
        const close = closingQuote(bytes, p + 1, end, separator);
        this.starts[n] = p + 1;
        this.ends[n] = close;
        n++;
        p = close + 1;
        // What follows a closing quote is a separator or the line's end.
        if (p >= end) break;
        p++;
        continue;
      }
      let q = p;
      while (q < end && !separator(bytes[q]!)) q++;
      this.starts[n] = p;
      this.ends[n] = q;
      n++;
      if (q >= end) break;
      p = q + 1;
    }
    this.count = n;
    return n;
  }

  /** Whether field `i` exists and is exactly `-` (what these logs write for "none"). */
  isDash(bytes: Uint8Array, i: number): boolean {
    return (
      i < this.count && this.ends[i]! - this.starts[i]! === 1 && bytes[this.starts[i]!] === 0x2d
    );
  }
}

/**
 * Where the quoted field opened before `from` closes: the first `"` not escaped by a
 * backslash and followed by a separator or the end; `end` when none is (an unclosed quote
 * runs to the line's end).
 */
function closingQuote(
  bytes: Uint8Array,
  from: number,
  end: number,
  separator: (byte: number) => boolean,
): number {
  for (let p = from; p < end; p++) {
    const byte = bytes[p]!;
    if (byte === BACKSLASH) p++;
    else if (byte === QUOTE && (p + 1 >= end || separator(bytes[p + 1]!))) return p;
  }
  return end;
}

/** A space: ALB's and IIS's separator. */
export const isSpaceByte = (byte: number): boolean => byte === 0x20;
/** A tab: CloudFront's separator. */
export const isTab = (byte: number): boolean => byte === 0x09;
/** A space or a tab: what a W3C extended log may separate its fields with. */
export const isSpaceOrTab = (byte: number): boolean => byte === 0x20 || byte === 0x09;

/** A count as written (`123`; up to 15 digits), or 0 for `-` and anything else. */
export function bytesCount(bytes: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 15) return 0;
  let n = 0;
  for (let p = start; p < end; p++) {
    const digit = bytes[p]! - 0x30;
    if (digit < 0 || digit > 9) return 0;
    n = n * 10 + digit;
  }
  return n;
}

/** A status code as written (three digits), or -1. */
export function statusCode(bytes: Uint8Array, start: number, end: number): number {
  if (end - start !== 3) return -1;
  for (let p = start; p < end; p++) if (bytes[p]! < 0x30 || bytes[p]! > 0x39) return -1;
  return bytesCount(bytes, start, end);
}
