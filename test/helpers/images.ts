/**
 * Real images for the image step's tests, made with sharp: plain ones of any size, and the
 * hostile ones a downloader meets (a decompression bomb, a cut-off JPEG, CMYK, 16-bit,
 * animated, SVG, EXIF-rotated).
 */
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** A JPEG of `width` x `height`, a gradient with some texture (not one flat colour). */
export async function jpeg(width: number, height: number, quality = 85): Promise<Buffer> {
  return sharp(await gradient(width, height))
    .jpeg({ quality })
    .toBuffer();
}

/** A PNG of `width` x `height`; with alpha, its left half is transparent. */
export async function png(width: number, height: number, alpha = false): Promise<Buffer> {
  const image = sharp(await gradient(width, height));
  if (!alpha) return image.png().toBuffer();
  const mask = Buffer.alloc(width * height, 255);
  for (let y = 0; y < height; y++) mask.fill(0, y * width, y * width + Math.floor(width / 2));
  return image
    .joinChannel(mask, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}

/** Raw RGB pixels: red rises left to right, green top to bottom. */
async function gradient(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      pixels[at] = Math.floor((x / width) * 255);
      pixels[at + 1] = Math.floor((y / height) * 255);
      pixels[at + 2] = (x * 7 + y * 13) % 256;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/**
 * A JPEG stored `width` x `height` whose EXIF orientation 6 says: turn it a quarter right to
 * show it (so it shows `height` x `width`). Its top-left corner is red, so a test can see
 * where that corner went.
 */
export async function rotatedJpeg(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3, 0);
  for (let y = 0; y < height / 4; y++) {
    for (let x = 0; x < width / 4; x++) pixels[(y * width + x) * 3] = 255;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** A JPEG with EXIF (a camera make) and an ICC profile: metadata to strip or keep. */
export async function jpegWithMetadata(width: number, height: number): Promise<Buffer> {
  return sharp(await gradient(width, height))
    .withExif({ IFD0: { Make: 'CrewTestCamera' } })
    .withIccProfile('p3')
    .jpeg()
    .toBuffer();
}

/**
 * A decompression bomb: a PNG of a few KB whose header declares `side` x `side` pixels
 * (50,000 x 50,000 is 2.5 gigapixels, 7.5 GB decoded), with a little deflated data.
 */
export function pngBomb(side = 50_000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const data = deflateSync(Buffer.alloc((side * 3 + 1) * 8)); // eight rows of black
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', data),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The first half of a real JPEG: cut off mid-scan, no end marker. */
export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await jpeg(800, 600, 95);
  return whole.subarray(0, Math.floor(whole.length / 2));
}

/** A JPEG in CMYK (four channels, as print workflows save them). */
export async function cmykJpeg(width: number, height: number): Promise<Buffer> {
  return sharp(await gradient(width, height))
    .toColourspace('cmyk')
    .jpeg()
    .toBuffer();
}

/** A PNG of 16 bits a channel. */
export async function png16(width: number, height: number): Promise<Buffer> {
  return sharp(await gradient(width, height))
    .toColourspace('rgb16')
    .png()
    .toBuffer();
}

/** An animated GIF of three frames (red, green, blue), each `width` x `height`. */
export async function animatedGif(width: number, height: number): Promise<Buffer> {
  const frame = (colour: string) =>
    sharp({ create: { width, height, channels: 3, background: colour } })
      .png()
      .toBuffer();
  const frames = await Promise.all(['#ff0000', '#00ff00', '#0000ff'].map(frame));
  return sharp(frames, { join: { animated: true } })
    .gif({ delay: [100, 100, 100] })
    .toBuffer();
}

/**
 * An SVG of `width` x `height` (a red rectangle) that also tries to pull in a local file,
 * which must not reach the output or fail anything.
 */
export function svg(width: number, height: number, href = '/etc/passwd'): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}">` +
      `<rect width="${width}" height="${height}" fill="#ff0000"/>` +
      `<image xlink:href="${href}" width="10" height="10"/></svg>`,
  );
}
