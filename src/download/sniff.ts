/**
 * What a downloaded body is: magic bytes first (servers mislabel images all the time), then
 * the Content-Type. Pure.
 */

export interface Sniffed {
  /** File extension without the dot; '' when unknown. */
  readonly ext: string;
  readonly image: boolean;
  /** What to call it in an error: the MIME type, or "unknown content". */
  readonly type: string;
}

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
  'text/html': 'html',
  'application/json': 'json',
  'text/plain': 'txt',
  'application/pdf': 'pdf',
};

/** Classifies a body from its first bytes (32 are enough) and its Content-Type header. */
export function sniff(head: Uint8Array, contentType: string | undefined): Sniffed {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const magic = (ext: string, type: string): Sniffed => ({ ext, image: true, type });
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return magic('png', 'image/png');
  if (startsWith(head, [0xff, 0xd8, 0xff])) return magic('jpg', 'image/jpeg');
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a')
    return magic('gif', 'image/gif');
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP')
    return magic('webp', 'image/webp');
  if (ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12);
    if (brand === 'avif' || brand === 'avis') return magic('avif', 'image/avif');
    if (['heic', 'heix', 'mif1', 'msf1'].includes(brand)) return magic('heic', 'image/heic');
  }
  if (startsWith(head, [0x42, 0x4d]) && head.length >= 14) return magic('bmp', 'image/bmp');
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) {
    return magic('tif', 'image/tiff');
  }
  if (startsWith(head, [0x00, 0x00, 0x01, 0x00])) return magic('ico', 'image/x-icon');
  const text = ascii(head, 0, Math.min(head.length, 256)).trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && mime === 'image/svg+xml')) {
    return magic('svg', 'image/svg+xml');
  }
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) {
    return { ext: 'html', image: false, type: 'text/html' };
  }
  const ext = MIME_EXT[mime] ?? '';
  return {
    ext,
    // A declared image type we cannot confirm from the bytes is trusted, as browsers do.
    image: mime.startsWith('image/') && mime !== 'image/svg+xml',
    type: mime || 'unknown content',
  };
}
