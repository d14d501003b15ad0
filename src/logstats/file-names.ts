/**
 * File names as the file system has them: bytes, not always UTF-8. Pure helpers for listing
 * a directory by bytes, so a name such as `\xff.log` is opened by its real bytes and shown
 * in a form that says which bytes they were.
 */
import { isUtf8 } from 'node:buffer';

const utf8 = new TextDecoder('utf-8');

/**
 * A name's bytes as text: UTF-8 where it is well formed, and each other byte as the lone
 * surrogate U+DC80..U+DCFF (Python's "surrogateescape"), which no UTF-8 text can contain,
 * so the bytes are known again and `printable` shows them as `\xHH`. JSON escapes the
 * surrogates as `\udcff`.
 */
export function fileNameText(bytes: Uint8Array): string {
  if (isUtf8(bytes)) return utf8.decode(bytes);
  let text = '';
  for (let i = 0; i < bytes.length;) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      text += String.fromCharCode(0xdc00 + bytes[i]!);
      i++;
    } else {
      text += utf8.decode(bytes.subarray(i, i + length));
      i += length;
    }
  }
  return text;
}

/** The length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), 0 if none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const inRange = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = bytes[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return inRange(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const second =
      b0 === 0xe0 ? inRange(1, 0xa0) : b0 === 0xed ? inRange(1, 0x80, 0x9f) : inRange(1);
    return second && inRange(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const second =
      b0 === 0xf0 ? inRange(1, 0x90) : b0 === 0xf4 ? inRange(1, 0x80, 0x8f) : inRange(1);
    return second && inRange(2) && inRange(3) ? 4 : 0;
  }
  return 0;
}

/**
 * A name as listed: text when it is UTF-8 (most are; a string costs far less than a Buffer
 * for each of 100,000 files), its bytes when it is not.
 */
export type FileName = string | Uint8Array;

/**
 * Orders paths given as their names, component by component: `a/z` before `a-b`. Names
 * compare by their bytes; UTF-8 text by code points, which is the same order.
 */
export function comparePaths(a: readonly FileName[], b: readonly FileName[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareNames(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

function compareNames(a: FileName, b: FileName): number {
  if (typeof a !== 'string' || typeof b !== 'string') {
    return Buffer.compare(bytesOf(a), bytesOf(b));
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

const bytesOf = (name: FileName): Uint8Array =>
  typeof name === 'string' ? Buffer.from(name) : name;

/**
 * UTF-16 units rank as the code points they start: surrogates (U+10000 and up) after
 * U+E000..U+FFFF, as in UTF-8's byte order. Only the first unit that differs is compared.
 */
const codePointRank = (unit: number): number =>
  unit < 0xd800 ? unit : unit < 0xe000 ? unit + 0x2000 : unit - 0x800;

/** A path as given (text, or bytes that are not UTF-8) in the form it is reported under. */
export const pathText = (path: string | Uint8Array): string =>
  typeof path === 'string' ? path : fileNameText(path);
