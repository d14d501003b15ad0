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

/** What a visit of eachSegment answers to end the walk with nothing found. */
const NOTHING = null;

/**
 * Walks a JPEG's marker segments after SOI: `visit` is given each one's marker, where it
 * starts and its length field, and stops the walk by returning an answer, or NOTHING to stop
 * with none. Undefined when a byte that must start a marker does not, at EOI, or where the
 * bytes end.
 */
function eachSegment<T>(
  bytes: Uint8Array,
  visit: (marker: number, at: number, length: number) => T | typeof NOTHING | undefined,
): T | undefined {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined; // not a marker where one must be
    const marker = bytes[at + 1]!;
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
    const length = u16be(bytes, at + 2);
    if (length < 2) return undefined;
    const answer = visit(marker, at, length);
    if (answer === NOTHING) return undefined;
    if (answer !== undefined) return answer;
    at += 2 + length;
  }
  return undefined;
}

function jpegSize(head: Uint8Array): ImageSize | undefined {
  return eachSegment(head, (marker, at) => {
    if (isStartOfFrame(marker)) {
      return at + 9 > head.length
        ? NOTHING
        : (sized(u16be(head, at + 7), u16be(head, at + 5)) ?? NOTHING);
    }
    return marker === 0xda ? NOTHING : undefined; // the scan began before any frame header
  });
}

/** A JPEG's size as stored, and the EXIF orientation (1-8) it is to be shown in. */
export interface JpegHeader extends ImageSize {
  readonly orientation: number;
}

/**
 * What resizing a JPEG needs of its header, read as libjpeg and libvips read it: the size of
 * its one frame, and the orientation in IFD0 of its one EXIF block (1 when there is none).
 * Undefined whenever the header leaves any doubt, and the caller then asks libvips: two
 * frames or two EXIF blocks, an orientation that is not one SHORT from 1 to 8, EXIF it
 * cannot be sure libvips reads the same, or a header cut short before its scan. (libvips
 * 8.18 reads an orientation of 9 as 1, one stored as a LONG as its value, and the first of
 * two EXIF blocks; its releases have differed on such things.) Takes the whole body; pure.
 */
export function jpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return undefined;
  let size: ImageSize | undefined;
  let frames = 0;
  let orientation: number | undefined;
  let exifs = 0;
  return eachSegment(bytes, (marker, at, length): JpegHeader | typeof NOTHING | undefined => {
    if (at + 2 + length > bytes.length) return NOTHING;
    if (marker === 0xda) {
      return frames === 1 && size ? { ...size, orientation: orientation ?? 1 } : NOTHING;
    }
    if (isStartOfFrame(marker)) {
      frames++;
      size = length >= 8 ? sized(u16be(bytes, at + 7), u16be(bytes, at + 5)) : undefined;
      return undefined;
    }
    // libvips takes any APP1 that starts "Exif" for EXIF; the standard's has two zeros after.
    if (marker === 0xe1 && length >= 6 && ascii(bytes, at + 4, at + 8) === 'Exif') {
      exifs++;
      const standard = bytes[at + 8] === 0 && bytes[at + 9] === 0;
      orientation = standard
        ? exifOrientation(bytes.subarray(at + 10, at + 2 + length))
        : undefined;
      if (orientation === undefined || exifs > 1) return NOTHING;
    }
    return undefined;
  });
}

/** Entries an IFD0 may list here; a real one has a few dozen. */
const MAX_IFD_ENTRIES = 1000;
const ORIENTATION_TAG = 0x0112;
const SHORT = 3;

/**
 * The Orientation tag of an EXIF block's IFD0 (its TIFF header on), or 1 when IFD0 has none:
 * libvips reads it from IFD0 only. Undefined when in doubt (see jpegHeader).
 */
function exifOrientation(tiff: Uint8Array): number | undefined {
  if (tiff.length < 8) return undefined;
  const little = ascii(tiff, 0, 2) === 'II';
  if (!little && ascii(tiff, 0, 2) !== 'MM') return undefined;
  const u16 = (at: number): number => (little ? u16le(tiff, at) : u16be(tiff, at));
  const u32 = (at: number): number =>
    little ? u16le(tiff, at) + u16le(tiff, at + 2) * 0x10000 : u32be(tiff, at);
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd < 8 || ifd + 2 > tiff.length) return undefined;
  const entries = u16(ifd);
  if (entries > MAX_IFD_ENTRIES || ifd + 2 + entries * 12 + 4 > tiff.length) return undefined;
  let found: number | undefined;
  for (let i = 0, at = ifd + 2; i < entries; i++, at += 12) {
    if (u16(at) !== ORIENTATION_TAG) continue;
    if (found !== undefined || u16(at + 2) !== SHORT || u32(at + 4) !== 1) return undefined;
    found = u16(at + 8);
  }
  if (found === undefined) return 1;
  return found >= 1 && found <= 8 ? found : undefined;
}
