/**
 * What a downloaded body is: magic bytes first (servers mislabel images all the time), then
 * the Content-Type. A body is an image when its bytes say so; a declared image type is
 * believed only for bytes crew cannot place (a format it has no magic for, such as TGA),
 * never for bytes that are plainly something else: nothing at all, text (an HTML error
 * page, with or without a byte-order mark), or a compressed archive or document. Pure.
 */

export interface Sniffed {
  /** File extension without the dot; '' when unknown. */
  readonly ext: string;
  readonly image: boolean;
  /**
   * What to call it in an error, the same words for the same cause (the summary groups
   * them): the type found, and the type it was sent as when that differs.
   */
  readonly type: string;
}

/** Bytes of the body's start `sniff` wants: magic numbers, and enough to tell text. */
export const SNIFF_BYTES = 256;

const startsWith = (head: Uint8Array, bytes: readonly number[], at = 0): boolean =>
  bytes.every((b, i) => head[at + i] === b);
const ascii = (head: Uint8Array, from: number, to: number): string =>
  String.fromCharCode(...head.subarray(from, to));

const MIME_EXT: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/pjpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/heic': 'heic',
  'image/bmp': 'bmp',
  'image/x-ms-bmp': 'bmp',
  'image/tiff': 'tif',
  'image/svg+xml': 'svg',
  'image/x-icon': 'ico',
  'image/vnd.microsoft.icon': 'ico',
  'image/jxl': 'jxl',
  'image/jp2': 'jp2',
  'image/x-tga': 'tga',
  'image/x-targa': 'tga',
  'text/html': 'html',
  'application/json': 'json',
  'text/plain': 'txt',
  'application/pdf': 'pdf',
};

/** Image formats told by their first bytes: [ext, MIME type, test]. */
const IMAGE_MAGIC: readonly (readonly [string, string, (head: Uint8Array) => boolean])[] = [
  ['png', 'image/png', (h) => startsWith(h, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['jpg', 'image/jpeg', (h) => startsWith(h, [0xff, 0xd8, 0xff])],
  ['gif', 'image/gif', (h) => ascii(h, 0, 6) === 'GIF87a' || ascii(h, 0, 6) === 'GIF89a'],
  ['webp', 'image/webp', (h) => ascii(h, 0, 4) === 'RIFF' && ascii(h, 8, 12) === 'WEBP'],
  ['avif', 'image/avif', (h) => ascii(h, 4, 8) === 'ftyp' && /^avi[fs]$/.test(ascii(h, 8, 12))],
  [
    'heic',
    'image/heic',
    (h) => ascii(h, 4, 8) === 'ftyp' && ['heic', 'heix', 'mif1', 'msf1'].includes(ascii(h, 8, 12)),
  ],
  ['bmp', 'image/bmp', (h) => startsWith(h, [0x42, 0x4d]) && h.length >= 14],
  [
    'tif',
    'image/tiff',
    (h) => startsWith(h, [0x49, 0x49, 0x2a, 0x00]) || startsWith(h, [0x4d, 0x4d, 0x00, 0x2a]),
  ],
  // Then a count of images: a TGA header's 00 00 02 00 has none.
  ['ico', 'image/x-icon', (h) => startsWith(h, [0, 0, 1, 0]) && (h[4] ?? 0) + (h[5] ?? 0) > 0],
  ['cur', 'image/x-icon', (h) => startsWith(h, [0, 0, 2, 0]) && (h[4] ?? 0) + (h[5] ?? 0) > 0],
  [
    'jxl',
    'image/jxl',
    (h) =>
      startsWith(h, [0xff, 0x0a]) ||
      startsWith(h, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]),
  ],
  ['jp2', 'image/jp2', (h) => startsWith(h, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20])],
  // Netpbm and Radiance start with a line of text, then pixels.
  ['pnm', 'image/x-portable-anymap', (h) => /^P[1-7][\t\n\r ]/.test(ascii(h, 0, 3))],
  ['hdr', 'image/vnd.radiance', (h) => /^#\?(RADIANCE|RGBE)\n/.test(ascii(h, 0, 11))],
];

/** Things that are never images, told by their first bytes: [ext, what it is, magic]. */
const OTHER_MAGIC: readonly (readonly [string, string, readonly number[]])[] = [
  ['gz', 'gzip data', [0x1f, 0x8b]],
  ['zst', 'zstd data', [0x28, 0xb5, 0x2f, 0xfd]],
  ['xz', 'xz data', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bz2', 'bzip2 data', [0x42, 0x5a, 0x68]],
  ['zip', 'a zip archive', [0x50, 0x4b, 0x03, 0x04]],
  ['7z', 'a 7-zip archive', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ['pdf', 'application/pdf', [0x25, 0x50, 0x44, 0x46, 0x2d]],
];

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * Whether the bytes read as text: a UTF-16 byte-order mark, or no control byte but tab,
 * line ends and form feed (UTF-8 and the legacy encodings alike). The binary formats
 * crew has no magic for put control bytes in their first few (sizes, zero padding).
 */
function isText(head: Uint8Array): boolean {
  if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) return true;
  return (
    head.every((b) => b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d || b >= 0x20) &&
    !head.includes(0x7f)
  );
}

/**
 * Classifies a body from its first bytes (SNIFF_BYTES of them, whatever it is given; fewer
 * when the body is shorter) and its Content-Type header.
 */
export function sniff(body: Uint8Array, contentType: string | undefined): Sniffed {
  // The caller may hand over more (the image-size head, 64 KiB): spreading that into a
  // string took 5 ms a body, and a longer one would overflow the stack.
  const head = body.subarray(0, SNIFF_BYTES);
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const sentAs = (type: string): string =>
    mime === '' || mime === type ? type : `${type} (sent as ${mime.slice(0, 60)})`;
  const notImage = (ext: string, type: string): Sniffed => ({
    ext,
    image: false,
    type: sentAs(type),
  });
  for (const [ext, type, test] of IMAGE_MAGIC) {
    if (test(head)) return { ext, image: true, type };
  }
  if (head.length === 0) return notImage(MIME_EXT[mime] ?? '', 'an empty body');
  for (const [ext, type, magic] of OTHER_MAGIC) {
    if (startsWith(head, magic)) return notImage(ext, type);
  }
  const bom = startsWith(head, UTF8_BOM) ? UTF8_BOM.length : 0;
  const text = ascii(head, bom, head.length).trimStart().toLowerCase();
  if (
    text.startsWith('<svg') ||
    (mime === 'image/svg+xml' && /^<(\?xml|!--|!doctype svg)/.test(text))
  ) {
    return { ext: 'svg', image: true, type: 'image/svg+xml' };
  }
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) {
    return notImage('html', 'text/html');
  }
  if (isText(head)) {
    const ext = MIME_EXT[mime];
    return mime.startsWith('image/') || ext === undefined
      ? notImage('txt', 'text')
      : notImage(ext, mime);
  }
  return {
    ext: MIME_EXT[mime] ?? '',
    // Bytes crew cannot place, sent as an image: believed, as browsers do (TGA has no magic).
    image: mime.startsWith('image/') && mime !== 'image/svg+xml',
    type: mime || 'unknown content',
  };
}
