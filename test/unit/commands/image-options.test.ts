import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { toDownloadConfig } from '../../../src/commands/download-csv/options.ts';
import { UsageError } from '../../../src/errors.ts';

const resizeOf = (args: Record<string, unknown>) =>
  toDownloadConfig({ csv: 'a.csv', ...args }).fetch.resize;

describe('the image options of download-csv', () => {
  it('keeps files as served by default: no image step at all', () => {
    expect(resizeOf({})).toBeUndefined();
    expect('resize' in toDownloadConfig({ csv: 'a.csv' }).fetch).toBe(false);
  });

  it("defaults to img2dataset's: 256, jpg at 95, metadata stripped", () => {
    expect(resizeOf({ resizeMode: 'border' })).toEqual({
      mode: 'border',
      width: 256,
      height: 256,
      onlyIfBigger: false,
      format: 'jpg',
      quality: 95,
      skipReencode: false,
      keepMetadata: false,
      minImageSize: 0,
      maxImageArea: 0,
      maxAspectRatio: 0,
      jobs: expect.any(Number) as number,
    });
  });

  it.each([
    ['512', { width: 512, height: 512 }],
    ['320x200', { width: 320, height: 200 }],
    [' 64 X 32 ', { width: 64, height: 32 }],
  ])('--image-size %s', (imageSize, size) => {
    expect(resizeOf({ resizeMode: 'keep_ratio', imageSize })).toMatchObject(size);
  });

  it.each(['0', '-5', '12.5', '100x', 'x100', '20000', 'big'])(
    'refuses --image-size %s',
    (imageSize) => {
      expect(() => resizeOf({ resizeMode: 'keep_ratio', imageSize })).toThrow(
        /--image-size must be N or WxH/,
      );
    },
  );

  it('a quality per format: png is a compression level from 0 to 9', () => {
    expect(resizeOf({ resizeMode: 'border', encodeFormat: 'png' })).toMatchObject({ quality: 6 });
    expect(resizeOf({ resizeMode: 'border', encodeFormat: 'webp' })).toMatchObject({
      quality: 95,
    });
    expect(
      resizeOf({ resizeMode: 'border', encodeFormat: 'png', encodeQuality: '9' }),
    ).toMatchObject({ quality: 9 });
    expect(() =>
      resizeOf({ resizeMode: 'border', encodeFormat: 'png', encodeQuality: '95' }),
    ).toThrow(/--encode-quality must be a whole number from 0 to 9/);
    expect(() => resizeOf({ resizeMode: 'border', encodeQuality: '0' })).toThrow(/from 1 to 100/);
  });

  it('filters alone read sizes but keep files as served', () => {
    expect(
      resizeOf({ minImageSize: '64', maxImageArea: '1000000', maxAspectRatio: '2.5' }),
    ).toMatchObject({ mode: 'no', minImageSize: 64, maxImageArea: 1_000_000, maxAspectRatio: 2.5 });
  });

  it.each([
    [{ maxAspectRatio: '0.5' }, /--max-aspect-ratio must be a number from 1/],
    [{ maxAspectRatio: 'wide' }, /--max-aspect-ratio/],
    [{ minImageSize: '-1' }, /--min-image-size must be a whole number/],
    [{ maxImageArea: '0' }, /--max-image-area must be a whole number from 1/],
  ])('refuses %j', (args, message) => {
    expect(() => resizeOf(args)).toThrow(message);
  });

  it.each([
    [{ encodeFormat: 'png' }, '--encode-format'],
    [{ imageSize: '128' }, '--image-size'],
    [{ keepMetadata: true }, '--keep-metadata'],
    [{ skipReencode: true }, '--skip-reencode'],
  ])('an encoding option without a resize mode is a usage error: %j', (args, flag) => {
    const attempt = () => resizeOf(args);
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(`${flag} applies to resized images: add --resize-mode`);
  });

  it('--ext cannot rename resized images', () => {
    expect(() => resizeOf({ resizeMode: 'border', ext: 'png' })).toThrow(
      /--ext cannot name resized images/,
    );
    expect(resizeOf({ minImageSize: '10', ext: 'png' })).toMatchObject({ mode: 'no' });
  });

  it("gives each download worker its share of the cores for sharp's images", () => {
    const cores = availableParallelism();
    expect(resizeOf({ resizeMode: 'border', workers: 1 })?.jobs).toBe(cores + 2);
    expect(resizeOf({ resizeMode: 'border', workers: cores * 2 })?.jobs).toBe(1);
    expect(resizeOf({ resizeMode: 'border', runtime: 'inline' })?.jobs).toBe(cores + 2);
  });
});
