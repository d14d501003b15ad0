/**
 * An image's width and height from the first bytes of its file, without decoding it: the
 * header fields of PNG, GIF, WebP (lossy, lossless and extended), JPEG (the first start-of-
 * frame marker) and BMP. Pure; a truncated or malformed header gives undefined, never a
 * throw, whatever the bytes.
 */

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Bytes of a body's start kept for `imageSize`. A JPEG's size comes after its EXIF and ICC
 * segments, which are a few KiB in most photos (a camera's EXIF thumbnail can reach 64 KiB).
 */
export const SIZE_HEAD_BYTES = 64 * 1024;

const ascii = (head: Uint8Array, from: number, to: number): string =>
  head.length < to ? '' : String.fromCharCode(...head.subarray(from, to));
const u16be = (h: Uint8Array, at: number): number => (h[at]! << 8) | h[at + 1]!;
const u16le = (h: Uint8Array, at: number): number => h[at]! | (h[at + 1]! << 8);
const u24le = (h: Uint8Array, at: number): number => u16le(h, at) | (h[at + 2]! << 16);
const u32be = (h: Uint8Array, at: number): number => u16be(h, at) * 0x10000 + u16be(h, at + 2);
const i32le = (h: Uint8Array, at: number): number =>
  (h[at]! | (h[at + 1]! << 8) | (h[at + 2]! << 16) | (h[at + 3]! << 24)) >> 0;

/** A size only when both sides are positive (a header of zeros says nothing). */
const sized = (width: number, height: number): ImageSize | undefined =>
  width > 0 && height > 0 ? { width, height } : undefined;

/** The width and height the image's header declares, or undefined when it cannot be read. */
export function imageSize(head: Uint8Array): ImageSize | undefined {
  if (head.length >= 24 && head[0] === 0x89 && ascii(head, 1, 4) === 'PNG') {
    return ascii(head, 12, 16) === 'IHDR' ? sized(u32be(head, 16), u32be(head, 20)) : undefined;
  }
  if (head.length >= 10 && /^GIF8[79]a$/.test(ascii(head, 0, 6))) {
    return sized(u16le(head, 6), u16le(head, 8));
  }
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return webpSize(head);
  if (head[0] === 0xff && head[1] === 0xd8) return jpegSize(head);
  if (head.length >= 26 && ascii(head, 0, 2) === 'BM') {
    return sized(i32le(head, 18), Math.abs(i32le(head, 22)));
  }
  return undefined;
}

function webpSize(head: Uint8Array): ImageSize | undefined {
  const chunk = ascii(head, 12, 16);
  if (chunk === 'VP8 ' && head.length >= 30) {
    // After the 3-byte frame tag and the 9d 01 2a start code: 14 bits each, 2 of scale.
    if (head[23] !== 0x9d || head[24] !== 0x01 || head[25] !== 0x2a) return undefined;
    return sized(u16le(head, 26) & 0x3fff, u16le(head, 28) & 0x3fff);
  }
  if (chunk === 'VP8L' && head.length >= 25) {
    if (head[20] !== 0x2f) return undefined;
    const bits = head[21]! | (head[22]! << 8) | (head[23]! << 16) | (head[24]! << 24);
    return sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X' && head.length >= 30) {
    return sized(u24le(head, 24) + 1, u24le(head, 27) + 1);
  }
  return undefined;
}

/** Start-of-frame markers (baseline, progressive, lossless...): not DHT (C4), JPG (C8), DAC (CC). */
const isStartOfFrame = (marker: number): boolean =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function jpegSize(head: Uint8Array): ImageSize | undefined {
  let at = 2;
  while (at + 4 <= head.length) {
    if (head[at] !== 0xff) return undefined; // not a marker where one must be
    const marker = head[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    // Markers without a length: TEM, RSTn, SOI, EOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      if (marker === 0xd9) return undefined;
      at += 2;
      continue;
    }
    const length = u16be(head, at + 2);
    if (length < 2) return undefined;
    if (isStartOfFrame(marker)) {
      if (at + 9 > head.length) return undefined;
      return sized(u16be(head, at + 7), u16be(head, at + 5));
    }
    if (marker === 0xda) return undefined; // the scan began before any frame header
    at += 2 + length;
  }
  return undefined;
}
