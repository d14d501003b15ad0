import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/cli.ts';
import { imageSize } from '../../../src/download/image-size.ts';
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
