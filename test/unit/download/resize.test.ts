import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reshape, type Reshaped } from '../../../src/download/resize.ts';
import { MAX_INPUT_PIXELS, type ResizeOptions } from '../../../src/download/resize-plan.ts';
import {
  animatedGif,
  cmykJpeg,
  jpeg,
  jpegWithMetadata,
  png,
  png16,
  pngBomb,
  rotatedJpeg,
  svg,
  truncatedJpeg,
} from '../../helpers/images.ts';
import { resizeOptions } from '../../helpers/resize-options.ts';

const options = (more: Partial<ResizeOptions> = {}): ResizeOptions =>
  resizeOptions({ jobs: 2, ...more });

let folder = '';
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'crew-resize-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

let count = 0;
/**
 * Runs the image step on `bytes` as a body that arrived in the temp folder, or (`held`) that
 * is still in memory, its temp path not yet written.
 */
async function step(bytes: Buffer, more: Partial<ResizeOptions> = {}, ext = 'jpg', held = false) {
  const temp = join(folder, `body-${count++}.part`);
  if (!held) await writeFile(temp, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const body = { temp, ext, sha256, ...(held ? { held: bytes } : {}) };
  return { body, shaped: await reshape(body, options(more), folder) };
}

type Saved = Extract<Reshaped, { kind: 'saved' }>;

function saved(shaped: Reshaped): Saved {
  if (shaped.kind !== 'saved') throw new Error(`not saved: ${shaped.reason}`);
  return shaped;
}

/** The saved file's header, and the colour of the pixel at (x, y). */
async function look(file: string, x = 0, y = 0) {
  const bytes = await readFile(file);
  const meta = await sharp(bytes).metadata();
  const { data, info } = await sharp(bytes)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return { meta, bytes, pixel: [data[at]!, data[at + 1]!, data[at + 2]!] };
}

describe('every resize mode, as img2dataset sizes them', () => {
  it.each([
    ['keep_ratio', [1600, 1200], [341, 256]],
    ['keep_ratio', [900, 1600], [256, 455]],
    ['keep_ratio_largest', [1600, 1200], [256, 192]],
    ['keep_ratio_largest', [900, 1600], [144, 256]],
    ['center_crop', [1600, 1200], [256, 256]],
    ['center_crop', [900, 1600], [256, 256]],
    ['border', [1600, 1200], [256, 256]],
    ['border', [90, 160], [256, 256]], // scaled up, then padded
  ] as const)('%s: %j -> %j', async (mode, [w, h], [width, height]) => {
    const { body, shaped } = await step(await jpeg(w, h), { mode });
    const out = saved(shaped);
    expect(out.image).toEqual({ originalWidth: w, originalHeight: h, width, height });
    expect(out.ext).toBe('jpg');
    expect(out.temp).not.toBe(body.temp);
    const { meta, bytes } = await look(out.temp);
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', width, height]);
    expect(out.bytes).toBe(bytes.length);
    expect(out.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    // The served body is gone: only the saved file is left to be named.
    await expect(readFile(body.temp)).rejects.toThrow(/ENOENT/);
  });

  it('border pads with white around the image, in the middle', async () => {
    const { shaped } = await step(await jpeg(1600, 800), { mode: 'border' });
    const out = saved(shaped);
    expect((await look(out.temp, 128, 10)).pixel.every((c) => c > 245)).toBe(true);
    expect((await look(out.temp, 128, 245)).pixel.every((c) => c > 245)).toBe(true);
    expect((await look(out.temp, 128, 128)).pixel.every((c) => c > 245)).toBe(false);
  });

  it('a WxH box, and each encode format with its extension', async () => {
    for (const format of ['jpg', 'png', 'webp'] as const) {
      const { shaped } = await step(await jpeg(1000, 1000), {
        mode: 'center_crop',
        width: 320,
        height: 200,
        format,
        quality: format === 'png' ? 9 : 80,
      });
      const out = saved(shaped);
      expect(out.ext).toBe(format);
      const { meta } = await look(out.temp);
      expect([meta.format, meta.width, meta.height]).toEqual([
        { jpg: 'jpeg', png: 'png', webp: 'webp' }[format],
        320,
        200,
      ]);
    }
  });

  it('--resize-only-if-bigger leaves a small image at its size, re-encoded', async () => {
    const { shaped } = await step(await png(100, 60), { onlyIfBigger: true }, 'png');
    const out = saved(shaped);
    expect(out.image).toEqual({ originalWidth: 100, originalHeight: 60, width: 100, height: 60 });
    expect(out.ext).toBe('jpg');
    expect((await look(out.temp)).meta.format).toBe('jpeg');
  });

  it('--skip-reencode keeps the served bytes of an image that needs nothing', async () => {
    const served = await jpeg(100, 60);
    const { body, shaped } = await step(served, { onlyIfBigger: true, skipReencode: true });
    const out = saved(shaped);
    expect(out.temp).toBe(body.temp);
    expect(await readFile(out.temp)).toEqual(served);
    expect(out.sha256).toBe(body.sha256);
  });

  it('works the same on a body held in memory, and writes a kept one to its temp path', async () => {
    const served = await jpeg(100, 60);
    const first = await step(served, { mode: 'keep_ratio' }, 'jpg', true);
    const resized = saved(first.shaped);
    expect((await look(resized.temp)).meta.height).toBe(256);
    await expect(readFile(first.body.temp)).rejects.toThrow(/ENOENT/);
    const { body, shaped } = await step(
      served,
      { onlyIfBigger: true, skipReencode: true },
      'jpg',
      true,
    );
    const kept = saved(shaped);
    expect(kept.temp).toBe(body.temp);
    expect(await readFile(kept.temp)).toEqual(served);
    expect([kept.bytes, kept.sha256]).toEqual([served.length, body.sha256]);
    const filtered = await step(served, { minImageSize: 100 }, 'jpg', true);
    expect(filtered.shaped).toMatchObject({ kind: 'rejected', filtered: true });
    await expect(readFile(filtered.body.temp)).rejects.toThrow(/ENOENT/);
    const junk = await step(Buffer.from('not an image'), {}, 'jpg', true);
    expect(junk.shaped).toMatchObject({ kind: 'rejected', filtered: false });
    await expect(readFile(junk.body.temp)).rejects.toThrow(/ENOENT/);
  });

  it('never writes a kept held body over a file at its temp path, nor removes it', async () => {
    const served = await jpeg(100, 60);
    const temp = join(folder, `planted-${count++}.part`);
    await writeFile(temp, 'not ours');
    const body = { temp, ext: 'jpg', held: served };
    const keep = options({ onlyIfBigger: true, skipReencode: true });
    await expect(reshape(body, keep, folder)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(temp, 'utf8')).toBe('not ours');
  });

  it('--resize-mode no with a filter keeps the bytes and their extension', async () => {
    const served = await png(300, 200);
    const { body, shaped } = await step(served, { mode: 'no', minImageSize: 100 }, 'png');
    expect(shaped).toMatchObject({ kind: 'saved', temp: body.temp, ext: 'png' });
    expect(saved(shaped).image).toMatchObject({ width: 300, height: 200 });
  });

  it('a transparent PNG goes on white as a jpg, and keeps its alpha as a png', async () => {
    const served = await png(400, 400, true);
    const jpg = saved((await step(served, { mode: 'keep_ratio' }, 'png')).shaped);
    expect((await look(jpg.temp, 10, 128)).pixel).toEqual([255, 255, 255]);
    const asPng = { mode: 'keep_ratio', format: 'png', quality: 6 } as const;
    const kept = saved((await step(served, asPng, 'png')).shaped);
    expect((await look(kept.temp)).meta.hasAlpha).toBe(true);
  });
});

describe('orientation and metadata', () => {
  it('applies the EXIF orientation before resizing, and records the size as shown', async () => {
    // Stored 400x200 with its red corner top-left; orientation 6 shows it 200x400.
    const { shaped } = await step(await rotatedJpeg(400, 200), { mode: 'keep_ratio_largest' });
    const out = saved(shaped);
    expect(out.image).toEqual({
      originalWidth: 200,
      originalHeight: 400,
      width: 128,
      height: 256,
    });
    // Turned a quarter right, the stored top-left corner is at the top right.
    const [r, g, b] = (await look(out.temp, 120, 5)).pixel;
    expect(r).toBeGreaterThan(200);
    expect(g! + b!).toBeLessThan(60);
    expect((await look(out.temp, 5, 5)).pixel[0]).toBeLessThan(60);
    expect((await look(out.temp)).meta.orientation).toBeUndefined();
  });

  it('strips EXIF and ICC unless --keep-metadata', async () => {
    const served = await jpegWithMetadata(600, 400);
    const stripped = (await look(saved((await step(served)).shaped).temp)).meta;
    expect(stripped.exif).toBeUndefined();
    expect(stripped.icc).toBeUndefined();
    const kept = (await look(saved((await step(served, { keepMetadata: true })).shaped).temp)).meta;
    expect(kept.exif?.toString('latin1')).toMatch(/CrewTestCamera/);
    expect(kept.icc).toBeDefined();
  });
});

describe('filters', () => {
  it.each([
    [{ minImageSize: 300 }, 'smaller than --min-image-size 300'],
    [{ maxImageArea: 50_000 }, 'area over --max-image-area 50000'],
    [{ maxAspectRatio: 1.2 }, 'aspect ratio over --max-aspect-ratio 1.2'],
  ])('%j filters a 400x200 image out, with its size', async (filters, reason) => {
    const { body, shaped } = await step(await jpeg(400, 200), filters);
    expect(shaped).toEqual({
      kind: 'rejected',
      filtered: true,
      reason,
      image: { originalWidth: 400, originalHeight: 200 },
    });
    await expect(readFile(body.temp)).rejects.toThrow(/ENOENT/);
  });
});

describe('hostile images: each resizes correctly or fails with a reason', () => {
  // 2.5 gigapixels would be 7.5 GB decoded: sharp refuses it from the header's numbers.
  it('a decompression bomb fails from its header, before any pixel is decoded', async () => {
    const bomb = pngBomb(50_000);
    expect(bomb.length).toBeLessThan(20_000);
    const { body, shaped } = await step(bomb, {}, 'png');
    expect(shaped).toEqual({
      kind: 'rejected',
      filtered: false,
      reason: `image has more than ${MAX_INPUT_PIXELS} pixels (the limit crew decodes)`,
    });
    await expect(readFile(body.temp)).rejects.toThrow(/ENOENT/);
  });

  it('a truncated JPEG fails its row with a reason', async () => {
    const { shaped } = await step(await truncatedJpeg());
    expect(shaped).toMatchObject({ kind: 'rejected', filtered: false });
    expect(shaped.kind === 'rejected' && shaped.reason).toMatch(
      /^cannot read the image: .*(premature end|truncated)/i,
    );
  });

  it('a CMYK JPEG comes out as sRGB', async () => {
    const out = saved((await step(await cmykJpeg(600, 400), { mode: 'keep_ratio' })).shaped);
    const { meta } = await look(out.temp);
    expect([meta.space, meta.channels, meta.width, meta.height]).toEqual(['srgb', 3, 384, 256]);
  });

  it('a 16-bit PNG comes out as an 8-bit image', async () => {
    for (const format of ['jpg', 'png'] as const) {
      const quality = format === 'png' ? 6 : 95;
      const out = saved((await step(await png16(600, 400), { format, quality }, 'png')).shaped);
      const { meta } = await look(out.temp);
      expect([meta.depth, meta.width, meta.height]).toEqual(['uchar', 256, 256]);
    }
  });

  it('an animated GIF gives its first frame', async () => {
    const gif = await animatedGif(64, 48);
    expect((await sharp(gif).metadata()).pages).toBe(3);
    const out = saved((await step(gif, { mode: 'keep_ratio_largest' }, 'gif')).shaped);
    expect(out.image).toEqual({ originalWidth: 64, originalHeight: 48, width: 256, height: 192 });
    const [r, g, b] = (await look(out.temp, 128, 96)).pixel;
    expect(r).toBeGreaterThan(200);
    expect(g! + b!).toBeLessThan(60);
  });

  it('an SVG is drawn and resized; the file beside it that it links to is never read', async () => {
    // From its path, librsvg would draw secret.png (another body of the run) into the corner.
    const drawing = svg(300, 150, 'secret.png');
    const green = { width: 10, height: 10, channels: 3, background: '#00ff00' } as const;
    await writeFile(join(folder, 'secret.png'), await sharp({ create: green }).png().toBuffer());
    const out = saved((await step(drawing, { mode: 'keep_ratio_largest' }, 'svg')).shaped);
    expect(out.image).toEqual({ originalWidth: 300, originalHeight: 150, width: 256, height: 128 });
    // The linked image sits at the top left; it was not drawn: the corner is the rectangle's red.
    const [r, g, b] = (await look(out.temp, 2, 2)).pixel;
    expect([r! > 240, g! < 16, b! < 16]).toEqual([true, true, true]);
  });

  it('bytes that are no image fail with sharp reason', async () => {
    const { shaped } = await step(Buffer.from('<html>not an image</html>'), {}, 'html');
    expect(shaped).toMatchObject({ kind: 'rejected', filtered: false });
    expect(shaped.kind === 'rejected' && shaped.reason).toMatch(/^cannot read the image: /);
  });

  it('an SVG that declares more pixels than the limit fails like a bomb', async () => {
    const { shaped } = await step(svg(100_000, 100_000), {}, 'svg');
    expect(shaped).toMatchObject({ kind: 'rejected', filtered: false });
    expect(shaped.kind === 'rejected' && shaped.reason).toMatch(/more than 50000000 pixels/);
  });

  it('leaves nothing behind in the temp folder but the files it saved', async () => {
    const before = new Set(await readdir(folder));
    const { shaped } = await step(pngBomb(), {}, 'png');
    expect(shaped.kind).toBe('rejected');
    const after = (await readdir(folder)).filter((f) => !before.has(f));
    expect(after).toEqual([]);
  });
});
