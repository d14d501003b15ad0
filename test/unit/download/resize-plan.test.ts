import { describe, expect, it } from 'vitest';
import {
  imageJobs,
  filteredBecause,
  planImage,
  resizeFor,
  type ImageFacts,
} from '../../../src/download/resize-plan.ts';
import { resizeOptions } from '../../helpers/resize-options.ts';

const options = resizeOptions;

const facts = (width: number, height: number, more: Partial<ImageFacts> = {}): ImageFacts => ({
  width,
  height,
  format: 'jpeg',
  turned: false,
  hasAlpha: false,
  ...more,
});

describe('resizeFor: the box and fit of each mode', () => {
  it.each([
    ['keep_ratio', 'outside'],
    ['keep_ratio_largest', 'inside'],
    ['center_crop', 'cover'],
    ['border', 'contain'],
  ] as const)('%s resizes with sharp fit %s', (mode, fit) => {
    expect(resizeFor(options({ mode }), { width: 1600, height: 1200 })).toEqual({
      width: 256,
      height: 256,
      fit,
    });
  });

  it('no resize mode never resizes', () => {
    expect(resizeFor(options({ mode: 'no' }), { width: 1600, height: 1200 })).toBeNull();
  });

  it.each([
    // mode, image, resized when asked only to shrink?
    ['keep_ratio', [300, 200], false], // the smaller side (200) is under 256
    ['keep_ratio', [400, 300], true],
    ['center_crop', [300, 200], false],
    ['keep_ratio_largest', [300, 200], true], // the larger side (300) is over 256
    ['keep_ratio_largest', [256, 100], false],
    ['border', [200, 100], false], // fits: neither scaled nor padded
    ['border', [257, 10], true],
  ] as const)('--resize-only-if-bigger, %s of %j: resized %s', (mode, [width, height], resized) => {
    const resize = resizeFor(options({ mode, onlyIfBigger: true }), { width, height });
    expect(resize !== null).toBe(resized);
  });

  it.each([
    ['keep_ratio', [200, 100]],
    ['border', [100, 100]],
    ['center_crop', [100, 300]],
  ] as const)('without it, %s of %j scales up', (mode, [width, height]) => {
    expect(resizeFor(options({ mode }), { width, height })).not.toBeNull();
  });

  it.each([
    ['keep_ratio', [256, 400]],
    ['keep_ratio_largest', [100, 256]],
    ['center_crop', [256, 256]],
    ['border', [256, 256]],
  ] as const)('an image the mode leaves at its size needs no resize: %s of %j', (mode, size) => {
    const [width, height] = size;
    expect(resizeFor(options({ mode }), { width, height })).toBeNull();
  });

  it('a WxH box: border pads to it, keep_ratio covers it', () => {
    const box = { width: 320, height: 200 };
    expect(resizeFor(options({ ...box, mode: 'border' }), { width: 100, height: 100 })).toEqual({
      ...box,
      fit: 'contain',
    });
    // 640x400 is exactly twice the box: keep_ratio halves it.
    expect(
      resizeFor(options({ ...box, mode: 'keep_ratio', onlyIfBigger: true }), {
        width: 640,
        height: 400,
      }),
    ).toEqual({ ...box, fit: 'outside' });
  });
});

describe('filteredBecause: the filters, on the image as shown', () => {
  it.each([
    [{ minImageSize: 100 }, [99, 500], 'smaller than --min-image-size 100'],
    [{ minImageSize: 100 }, [100, 100], undefined],
    [{ maxImageArea: 10_000 }, [101, 100], 'area over --max-image-area 10000'],
    [{ maxImageArea: 10_000 }, [100, 100], undefined],
    [{ maxAspectRatio: 2 }, [201, 100], 'aspect ratio over --max-aspect-ratio 2'],
    [{ maxAspectRatio: 2 }, [100, 201], 'aspect ratio over --max-aspect-ratio 2'],
    [{ maxAspectRatio: 2 }, [200, 100], undefined],
    [{}, [1, 100_000], undefined],
  ] as const)('%j with %j: %s', (filters, [width, height], reason) => {
    expect(filteredBecause(options(filters), { width, height })).toBe(reason);
  });
});

describe('planImage', () => {
  it('filters before anything else', () => {
    expect(planImage(options({ minImageSize: 300 }), facts(200, 400))).toEqual({
      kind: 'filtered',
      reason: 'smaller than --min-image-size 300',
    });
  });

  it('keeps the bytes with no resize mode (only filters asked for)', () => {
    expect(planImage(options({ mode: 'no', minImageSize: 10 }), facts(20, 20))).toEqual({
      kind: 'keep',
    });
  });

  it('encodes a resized image, on white when it has alpha and becomes a jpg', () => {
    expect(planImage(options(), facts(1600, 1200, { hasAlpha: true }))).toEqual({
      kind: 'encode',
      resize: { width: 256, height: 256, fit: 'contain' },
      flatten: true,
    });
    expect(planImage(options({ format: 'png' }), facts(1600, 1200, { hasAlpha: true }))).toEqual({
      kind: 'encode',
      resize: { width: 256, height: 256, fit: 'contain' },
      flatten: false,
    });
  });

  it('re-encodes an image that needs no resize, unless --skip-reencode and the format fits', () => {
    const small = options({ onlyIfBigger: true });
    const encode = { kind: 'encode', resize: null, flatten: false };
    expect(planImage(small, facts(100, 80))).toEqual(encode);
    const skip = options({ onlyIfBigger: true, skipReencode: true });
    expect(planImage(skip, facts(100, 80))).toEqual({ kind: 'keep' });
    expect(planImage(skip, facts(100, 80, { format: 'png' }))).toEqual(encode);
    // Its EXIF orientation must be applied: that takes new pixels.
    expect(planImage(skip, facts(100, 80, { turned: true }))).toEqual(encode);
    expect(planImage(options({ skipReencode: true }), facts(1600, 1200)).kind).toBe('encode');
  });
});

describe('imageJobs: images in sharp at once, per download worker', () => {
  it.each([
    [2, 1, 4],
    [2, 2, 2],
    [2, 3, 1],
    [1, 1, 3],
    [8, 7, 1],
    [8, 1, 10],
    [8, 4, 2],
    [8, 3, 3],
    [200, 1, 64],
    [4, 0, 6],
  ])('%i cores, %i workers: %i each', (cores, lanes, jobs) => {
    expect(imageJobs(cores, lanes)).toBe(jobs);
  });
});
