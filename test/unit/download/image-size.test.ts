import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/cli.ts';
import sharp from 'sharp';
import { imageSize, jpegHeader } from '../../../src/download/image-size.ts';
import { cmykJpeg, jpeg as realJpeg, jpegWithMetadata } from '../../helpers/images.ts';
import { GIF, JPEG, PNG, WEBP } from '../../helpers/image-server.ts';

/** A PNG header of `width` x `height` (signature and IHDR; no pixels needed). */
const png = (width: number, height: number): Buffer => {
  const head = Buffer.from(PNG.subarray(0, 33));
  head.writeUInt32BE(width, 16);
  head.writeUInt32BE(height, 20);
  return head;
};

/** A baseline JPEG's start: SOI, an APP0 segment, then SOF0 with its size. */
const jpeg = (width: number, height: number, app = 16): Buffer =>
  Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, (app + 2) >> 8, (app + 2) & 0xff]),
    Buffer.alloc(app),
    Buffer.from([
      0xff,
      0xff,
      0xc0,
      0x00,
      0x11,
      0x08,
      height >> 8,
      height & 0xff,
      width >> 8,
      width & 0xff,
    ]),
  ]);

const riff = (chunk: string, body: number[]): Buffer =>
  Buffer.concat([
    Buffer.from('RIFF'),
    Buffer.alloc(4),
    Buffer.from('WEBP'),
    Buffer.from(chunk),
    Buffer.alloc(4),
    Buffer.from(body),
  ]);

describe('imageSize', () => {
  it.each([
    ['the test server PNG', PNG, { width: 1, height: 1 }],
    ['a PNG', png(640, 480), { width: 640, height: 480 }],
    ['a GIF', GIF, { width: 1, height: 1 }],
    ['a lossless WebP', WEBP, { width: 1, height: 1 }],
    ['a JPEG (SOF0 after APP0 and a fill byte)', jpeg(1920, 1080), { width: 1920, height: 1080 }],
    ['a JPEG with a 30 KB APP1 (EXIF) first', jpeg(300, 200, 30_000), { width: 300, height: 200 }],
    [
      'a lossy WebP (VP8)',
      riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]),
      { width: 640, height: 480 },
    ],
    [
      'an extended WebP (VP8X)',
      riff('VP8X', [0, 0, 0, 0, 0x7f, 0x07, 0x00, 0x37, 0x04, 0x00]),
      { width: 1920, height: 1080 },
    ],
    [
      'a BMP (bottom-up: negative height)',
      Buffer.concat([
        Buffer.from('BM'),
        Buffer.alloc(16),
        Buffer.from([10, 0, 0, 0, 0xfb, 0xff, 0xff, 0xff]),
      ]),
      { width: 10, height: 5 },
    ],
  ])('%s', (_, head, size) => {
    expect(imageSize(head)).toEqual(size);
  });

  // Made by real encoders (ImageMagick, cwebp): the demo's sample images.
  it.each([
    ['rose.jpg', 70, 46],
    ['gradient.jpg', 64, 40],
    ['wizard.png', 80, 107],
    ['granite.gif', 48, 48],
    ['netscape.webp', 96, 64],
  ])('samples/images/%s is %d x %d', (name, width, height) => {
    expect(imageSize(readFileSync(join(repoRoot, 'samples/images', name)))).toEqual({
      width,
      height,
    });
  });

  it.each([
    ['nothing', Buffer.alloc(0)],
    ['the test server JPEG (no frame header)', JPEG],
    ['a PNG cut inside its header', PNG.subarray(0, 20)],
    ['a PNG of zero width', png(0, 10)],
    ['a JPEG whose scan starts before a frame', Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 4, 0, 0])],
    [
      'a JPEG segment of length 0 (a loop, were it trusted)',
      Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0, 0, 0, 0]),
    ],
    ['a JPEG cut inside its frame header', jpeg(10, 10).subarray(0, 26)],
    ['text', Buffer.from('<!DOCTYPE html><html></html>')],
    ['a WebP of an unknown chunk', riff('VP9 ', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
  ])('%s: undefined', (_, head) => {
    expect(imageSize(head)).toBeUndefined();
  });

  it('never throws on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: i % 64 }, (_, j) => (i * 31 + j * 7) & 0xff));
      bytes[0] = [0x89, 0xff, 0x47, 0x52, 0x42][i % 5]!;
      expect(() => imageSize(bytes)).not.toThrow();
    }
  });
});

/** A segment: marker, then its length field (which counts itself) and `body`. */
const segment = (marker: number, body: Buffer | number[]): Buffer => {
  const data = Buffer.from(body);
  return Buffer.concat([
    Buffer.from([0xff, marker, (data.length + 2) >> 8, (data.length + 2) & 0xff]),
    data,
  ]);
};

/** A frame header (SOF0) of one component. */
const sof = (width: number, height: number, marker = 0xc0): Buffer =>
  segment(marker, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);

/** A scan header, a few bytes of scan and EOI: what follows the header. */
const scan = Buffer.concat([
  segment(0xda, [1, 1, 0, 0, 0x3f, 0]),
  Buffer.from([1, 2, 3, 0xff, 0xd9]),
]);

const wholeJpeg = (...segments: Buffer[]): Buffer =>
  Buffer.concat([Buffer.from([0xff, 0xd8]), ...segments, scan]);

type Entry = readonly [tag: number, type: number, count: number, value: number];

/** An EXIF APP1: a TIFF header in `order` and IFD0 with `entries` (values inline). */
function exif(order: 'II' | 'MM', entries: readonly Entry[], prefix = 'Exif\0\0'): Buffer {
  const tiff = Buffer.alloc(8 + 2 + entries.length * 12 + 4);
  const le = order === 'II';
  const u16 = (value: number, at: number) =>
    le ? tiff.writeUInt16LE(value, at) : tiff.writeUInt16BE(value, at);
  const u32 = (value: number, at: number) =>
    le ? tiff.writeUInt32LE(value, at) : tiff.writeUInt32BE(value, at);
  tiff.write(order, 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(entries.length, 8);
  entries.forEach(([tag, type, count, value], i) => {
    const at = 10 + i * 12;
    u16(tag, at);
    u16(type, at + 2);
    u32(count, at + 4);
    if (type === 3) u16(value, at + 8);
    else u32(value, at + 8);
  });
  return segment(0xe1, Buffer.concat([Buffer.from(prefix, 'latin1'), tiff]));
}

const ORIENTATION = 0x0112;
const MAKE: Entry = [0x010f, 2, 4, 0x41424300]; // "ABC" inline
const xmp = segment(0xe1, Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>', 'latin1'));

describe('jpegHeader', () => {
  it.each([
    ['no EXIF', wholeJpeg(sof(640, 480)), { width: 640, height: 480, orientation: 1 }],
    [
      'EXIF (II) turned 6, before the frame',
      wholeJpeg(exif('II', [MAKE, [ORIENTATION, 3, 1, 6]]), sof(640, 480)),
      { width: 640, height: 480, orientation: 6 },
    ],
    [
      'EXIF (MM) turned 3, after the frame (libjpeg reads markers up to the scan)',
      wholeJpeg(sof(30, 20), exif('MM', [[ORIENTATION, 3, 1, 3]])),
      { width: 30, height: 20, orientation: 3 },
    ],
    [
      'EXIF with no orientation',
      wholeJpeg(exif('II', [MAKE]), sof(5, 7)),
      { width: 5, height: 7, orientation: 1 },
    ],
    [
      'XMP in an APP1 (not EXIF)',
      wholeJpeg(xmp, sof(5, 7)),
      { width: 5, height: 7, orientation: 1 },
    ],
    [
      'a progressive frame (SOF2)',
      wholeJpeg(sof(9, 4, 0xc2)),
      { width: 9, height: 4, orientation: 1 },
    ],
  ])('%s', (_, bytes, header) => {
    expect(jpegHeader(bytes)).toEqual(header);
  });

  // Each leaves a doubt libvips might settle otherwise: the caller then asks libvips.
  it.each([
    ['orientation 0', wholeJpeg(exif('II', [[ORIENTATION, 3, 1, 0]]), sof(5, 7))],
    ['orientation 9', wholeJpeg(exif('II', [[ORIENTATION, 3, 1, 9]]), sof(5, 7))],
    ['orientation as a LONG', wholeJpeg(exif('II', [[ORIENTATION, 4, 1, 6]]), sof(5, 7))],
    ['orientation of two values', wholeJpeg(exif('MM', [[ORIENTATION, 3, 2, 6]]), sof(5, 7))],
    [
      'orientation twice',
      wholeJpeg(
        exif('II', [
          [ORIENTATION, 3, 1, 1],
          [ORIENTATION, 3, 1, 6],
        ]),
        sof(5, 7),
      ),
    ],
    [
      'two EXIF blocks',
      wholeJpeg(
        exif('II', [[ORIENTATION, 3, 1, 1]]),
        exif('II', [[ORIENTATION, 3, 1, 6]]),
        sof(5, 7),
      ),
    ],
    ['"Exif" not followed by two zeros', wholeJpeg(exif('II', [MAKE], 'Exif\0X'), sof(5, 7))],
    ['a TIFF header of neither order', wholeJpeg(exif('II', [MAKE], 'Exif\0\0XX'), sof(5, 7))],
    ['two frames', wholeJpeg(sof(5, 7), sof(50, 70))],
    ['no frame before the scan', wholeJpeg()],
    ['a frame of height 0 (set later by DNL)', wholeJpeg(sof(5, 0))],
    ['no scan: cut after the frame', wholeJpeg(sof(5, 7)).subarray(0, 2 + 13)],
    [
      'a segment longer than the bytes',
      Buffer.concat([Buffer.from([0xff, 0xd8]), sof(5, 7).subarray(0, 8)]),
    ],
    [
      'EOI before the scan',
      Buffer.concat([Buffer.from([0xff, 0xd8]), sof(5, 7), Buffer.from([0xff, 0xd9])]),
    ],
    ['not a JPEG', PNG],
  ])('%s: undefined', (_, bytes) => {
    expect(jpegHeader(bytes)).toBeUndefined();
  });

  it('takes an IFD0 offset or entry count past the block as doubt', () => {
    const block = exif('II', [[ORIENTATION, 3, 1, 6]]);
    const farOffset = Buffer.from(block);
    farOffset.writeUInt32LE(4000, 4 + 6 + 4); // IFD0 offset, after "Exif\0\0" and II*\0
    const manyEntries = Buffer.from(block);
    manyEntries.writeUInt16LE(999, 4 + 6 + 8);
    expect(jpegHeader(wholeJpeg(farOffset, sof(5, 7)))).toBeUndefined();
    expect(jpegHeader(wholeJpeg(manyEntries, sof(5, 7)))).toBeUndefined();
  });

  it('never throws on random bytes after a JPEG start', () => {
    for (let i = 0; i < 2000; i++) {
      const tail = Array.from({ length: i % 96 }, (_, j) => (i * 31 + j * 7) & 0xff);
      const bytes = Buffer.from([0xff, 0xd8, 0xff, [0xe1, 0xc0, 0xda, 0xfe][i % 4]!, ...tail]);
      expect(() => jpegHeader(bytes)).not.toThrow();
    }
  });

  // What crew reads itself must be what libvips reads: real encoders' JPEGs, against sharp.
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'agrees with sharp on a JPEG of EXIF orientation %d',
    async (n) => {
      const bytes = await sharp(await realJpeg(48, 32))
        .withMetadata({ orientation: n })
        .jpeg()
        .toBuffer();
      const meta = await sharp(bytes).metadata();
      expect(meta.orientation).toBe(n);
      expect(jpegHeader(bytes)).toEqual({ width: meta.width, height: meta.height, orientation: n });
    },
  );

  // Where libvips' reading is its own (9, a LONG, two blocks), crew must ask it, not guess.
  it.each([
    ['orientation 9', [exif('II', [[ORIENTATION, 3, 1, 9]])]],
    ['orientation 6 as a LONG', [exif('II', [[ORIENTATION, 4, 1, 6]])]],
    [
      'two EXIF blocks, 1 then 6',
      [exif('II', [[ORIENTATION, 3, 1, 1]]), exif('MM', [[ORIENTATION, 3, 1, 6]])],
    ],
  ])('leaves a real JPEG with %s to sharp', async (_, blocks) => {
    const plain = await realJpeg(48, 32);
    const bytes = Buffer.concat([plain.subarray(0, 2), ...blocks, plain.subarray(2)]);
    expect((await sharp(bytes).metadata()).width).toBe(48); // sharp reads it
    expect(jpegHeader(bytes)).toBeUndefined();
  });

  it.each([
    ['plain', () => realJpeg(64, 40)],
    ['CMYK', () => cmykJpeg(64, 40)],
    ['with EXIF and an ICC profile', () => jpegWithMetadata(64, 40)],
    [
      'progressive',
      async () =>
        sharp(await realJpeg(64, 40))
          .jpeg({ progressive: true })
          .toBuffer(),
    ],
    [
      'a sample (ImageMagick)',
      () => Promise.resolve(readFileSync(join(repoRoot, 'samples/images/rose.jpg'))),
    ],
  ])('agrees with sharp on a %s JPEG', async (_, make) => {
    const bytes = await make();
    const meta = await sharp(bytes).metadata();
    expect(jpegHeader(bytes)).toEqual({
      width: meta.width,
      height: meta.height,
      orientation: meta.orientation ?? 1,
    });
  });
});
