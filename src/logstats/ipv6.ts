/**
 * IPv6 addresses as four 32-bit words (the address's 16 bytes, big-endian), parsed from and
 * written back to text by the WHATWG URL standard's IPv6 parser and serializer: the same
 * answers as `new URL('http://[...]/')`, without a URL object and strings per line.
 */

const COLON = 0x3a;
const DOT = 0x2e;

/** Each byte's value as a hex digit, or -1. */
const HEX = (() => {
  const values = new Int8Array(256).fill(-1);
  for (let digit = 0; digit < 16; digit++) {
    const text = digit.toString(16);
    values[text.charCodeAt(0)] = digit;
    values[text.toUpperCase().charCodeAt(0)] = digit;
  }
  return values;
})();

/** The eight 16-bit pieces of the address being parsed (one parse at a time: no allocation). */
const pieces = new Uint32Array(8);

/**
 * Parses `bytes[start, end)` as an IPv6 address into `out` (four words); false if it is not
 * one (zone ids, brackets and spaces are not part of an address).
 */
export function parseIPv6(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint32Array,
): boolean {
  pieces.fill(0);
  let piece = 0;
  let compress = -1;
  let p = start;
  if (p < end && bytes[p] === COLON) {
    if (p + 1 >= end || bytes[p + 1] !== COLON) return false;
    p += 2;
    compress = ++piece;
  }
  while (p < end) {
    if (piece === 8) return false;
    if (bytes[p] === COLON) {
      if (compress >= 0) return false;
      p++;
      compress = ++piece;
      continue;
    }
    let value = 0;
    let length = 0;
    for (; length < 4 && p < end; length++, p++) {
      const digit = HEX[bytes[p]!]!;
      if (digit < 0) break;
      value = value * 16 + digit;
    }
    const next = p < end ? bytes[p]! : -1;
    if (next === DOT) {
      if (length === 0 || piece > 6) return false;
      // The dotted tail runs to the end: it parses from the start of this piece.
      piece = embeddedIPv4(bytes, p - length, end, piece);
      if (piece < 0) return false;
      break;
    }
    if (next === COLON) {
      p++;
      if (p >= end) return false;
    } else if (p < end) return false;
    pieces[piece++] = value;
  }
  if (compress >= 0) {
    let swaps = piece - compress;
    for (let i = 7; i !== 0 && swaps > 0; i--, swaps--) {
      const other = compress + swaps - 1;
      const held = pieces[i]!;
      pieces[i] = pieces[other]!;
      pieces[other] = held;
    }
  } else if (piece !== 8) return false;
  for (let i = 0; i < 4; i++) out[i] = (pieces[2 * i]! * 0x10000 + pieces[2 * i + 1]!) >>> 0;
  return true;
}

/** The dotted tail of `::ffff:1.2.3.4`, into two pieces; the next piece index, or -1. */
function embeddedIPv4(bytes: Uint8Array, start: number, end: number, first: number): number {
  let piece = first;
  let seen = 0;
  let p = start;
  while (p < end) {
    if (seen > 0) {
      if (bytes[p] !== DOT || seen >= 4) return -1;
      p++;
    }
    let octet = -1;
    for (; p < end && bytes[p]! >= 0x30 && bytes[p]! <= 0x39; p++) {
      const digit = bytes[p]! - 0x30;
      if (octet === 0) return -1; // a leading zero
      octet = octet < 0 ? digit : octet * 10 + digit;
      if (octet > 255) return -1;
    }
    if (octet < 0) return -1;
    pieces[piece] = pieces[piece]! * 0x100 + octet;
    seen++;
    if (seen === 2 || seen === 4) piece++;
  }
  return seen === 4 ? piece : -1;
}

/** The canonical text (RFC 5952 as the URL standard writes it) of an address's four words. */
export function formatIPv6(words: ArrayLike<number>): string {
  const pieces: number[] = [];
  for (let i = 0; i < 4; i++) pieces.push(words[i]! >>> 16, words[i]! & 0xffff);
  // The first longest run of two or more zero pieces becomes "::".
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && pieces[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      text += i === 0 ? '::' : ':';
      i += bestLength - 1;
      continue;
    }
    text += pieces[i]!.toString(16);
    if (i < 7) text += ':';
  }
  return text;
}
