/**
 * What the image step does to one downloaded image, decided from its header alone: filter it
 * out, keep its bytes, or resize and encode it (and how). Pure: resize.ts reads the header,
 * asks here, and runs the answer through sharp. The modes and filters are img2dataset's, so
 * a dataset made with either has the same shapes: `keep_ratio` makes the smaller side the
 * target, `center_crop` then crops the middle square, `keep_ratio_largest` makes the larger
 * side the target, and `border` then pads it with white to the square.
 */

export const RESIZE_MODES = [
  'no',
  'keep_ratio',
  'keep_ratio_largest',
  'center_crop',
  'border',
] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

export const ENCODE_FORMATS = ['jpg', 'png', 'webp'] as const;
export type EncodeFormat = (typeof ENCODE_FORMATS)[number];

/** What a run asks of every image (`crew download-csv --resize-mode ...`). */
export interface ResizeOptions {
  readonly mode: ResizeMode;
  /** The target box: `--image-size N` is N by N. */
  readonly width: number;
  readonly height: number;
  /** Only make images smaller: one that fits already is left at its size (not padded either). */
  readonly onlyIfBigger: boolean;
  readonly format: EncodeFormat;
  /** JPEG and WebP quality (1-100); for PNG, the zlib compression level (0-9). */
  readonly quality: number;
  /** Keep the served bytes of an image that needs no change and is in `format` already. */
  readonly skipReencode: boolean;
  /** Keep EXIF, ICC and XMP in the output (stripped by default). */
  readonly keepMetadata: boolean;
  /** Filters: 0 is none. The smallest side, in pixels. */
  readonly minImageSize: number;
  /** Width times height, in pixels. */
  readonly maxImageArea: number;
  /** The longer side over the shorter. */
  readonly maxAspectRatio: number;
  /** Images one worker has in sharp at once (each on one core: see resize.ts). */
  readonly jobs: number;
}

/** The largest --image-size side: a box bigger than any image crew decodes. */
export const MAX_IMAGE_SIDE = 16_384;

/** The most images a worker may have in sharp at once. */
export const MAX_IMAGE_JOBS = 64;

/**
 * Images each of `lanes` download workers has in sharp at once: two more than the cores in
 * all, shared among the workers (at least one each, rounded down). The ones more keep the
 * cores busy while a worker's JavaScript runs between images and an image waits for its
 * turn on libuv's pool: on 2 cores with one worker, 3 at once took 0.89x the time of 2 and 4
 * at once 0.86x (1,000 JPEGs of 1600x1200 to 256 px, 3 runs each, alternated); later 4
 * against 3, 5 runs alternated, 0.94-0.98x the time of each pair, and 6 no faster than 4.
 * libuv's pool is sized to match (threadPoolSize): these and two threads more, for the file
 * writes and DNS lookups.
 */
export const imageJobs = (cores: number, lanes: number): number =>
  Math.min(MAX_IMAGE_JOBS, Math.max(1, Math.floor((cores + 2) / Math.max(1, lanes))));

/** The default quality of each format: img2dataset's 95; PNG's zlib level 6 (its default). */
export const defaultQuality = (format: EncodeFormat): number => (format === 'png' ? 6 : 95);

/**
 * The most pixels crew decodes in one image (sharp's `limitInputPixels`): 50 megapixels, a
 * phone camera's largest photo. It bounds memory: the worst image, an interlaced 16-bit PNG
 * with alpha, is decoded whole at 8 bytes a pixel (400 MB at the limit; a 64-megapixel one
 * peaked at 628 MB); a JPEG or a plain PNG streams through in a few MB. A header declaring
 * more fails its row before any pixel is decoded.
 */
export const MAX_INPUT_PIXELS = 50_000_000;

/** Seconds one image may take in sharp; the worst at the pixel limit took ~8 s here. */
export const IMAGE_TIMEOUT_SECONDS = 60;

/** What the image's header says. */
export interface ImageFacts {
  /** Width and height as shown: after its EXIF orientation. */
  readonly width: number;
  readonly height: number;
  /** The decoder's format name (sharp's: jpeg, png, webp, gif, svg...). */
  readonly format: string;
  /** EXIF orientation 2-8 turns or flips the pixels; 1 or none leaves them. */
  readonly turned: boolean;
  readonly hasAlpha: boolean;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** The box sharp resizes into, and how the image meets it. */
export interface Resize extends Size {
  /** sharp's fit: outside (keep_ratio), cover (center_crop), inside, contain (border). */
  readonly fit: 'outside' | 'cover' | 'inside' | 'contain';
}

export type ImagePlan =
  | { readonly kind: 'filtered'; readonly reason: string }
  /** The served bytes stay: no resize mode, or nothing to change with --skip-reencode. */
  | { readonly kind: 'keep' }
  | {
      readonly kind: 'encode';
      /** null: the size stays (only re-encoded). */
      readonly resize: Resize | null;
      /** JPEG has no alpha: transparent pixels go on white, as img2dataset does. */
      readonly flatten: boolean;
    };

const FIT: Record<Exclude<ResizeMode, 'no'>, Resize['fit']> = {
  keep_ratio: 'outside',
  center_crop: 'cover',
  keep_ratio_largest: 'inside',
  border: 'contain',
};

/** sharp's name for each output format, as the header reports an input in it. */
const SHARP_FORMAT: Record<EncodeFormat, string> = { jpg: 'jpeg', png: 'png', webp: 'webp' };

/** Why `image` is filtered out by the run's filters, or undefined when it passes. */
export function filteredBecause(options: ResizeOptions, image: Size): string | undefined {
  const { width, height } = image;
  if (options.minImageSize > 0 && Math.min(width, height) < options.minImageSize) {
    return `smaller than --min-image-size ${options.minImageSize}`;
  }
  if (options.maxImageArea > 0 && width * height > options.maxImageArea) {
    return `area over --max-image-area ${options.maxImageArea}`;
  }
  const ratio = Math.max(width, height) / Math.min(width, height);
  if (options.maxAspectRatio > 0 && ratio > options.maxAspectRatio) {
    return `aspect ratio over --max-aspect-ratio ${options.maxAspectRatio}`;
  }
  return undefined;
}

/**
 * The resize `image` needs, or null when it keeps its size: with --resize-only-if-bigger,
 * an image that already fits is neither scaled nor cropped nor padded (as img2dataset).
 */
export function resizeFor(options: ResizeOptions, image: Size): Resize | null {
  if (options.mode === 'no') return null;
  const fit = FIT[options.mode];
  const scaleX = options.width / image.width;
  const scaleY = options.height / image.height;
  // outside and cover scale until both sides reach the box; inside and contain until one does.
  const scale =
    fit === 'outside' || fit === 'cover' ? Math.max(scaleX, scaleY) : Math.min(scaleX, scaleY);
  if (options.onlyIfBigger && scale >= 1) return null;
  if (resultOf({ width: options.width, height: options.height, fit }, image, scale).same) {
    return null;
  }
  return { width: options.width, height: options.height, fit };
}

/** The size sharp gives `image` resized into `box`, and whether that is the size it has. */
function resultOf(box: Resize, image: Size, scale: number): Size & { same: boolean } {
  const size =
    box.fit === 'cover' || box.fit === 'contain'
      ? { width: box.width, height: box.height }
      : {
          width: Math.max(1, Math.round(image.width * scale)),
          height: Math.max(1, Math.round(image.height * scale)),
        };
  return { ...size, same: size.width === image.width && size.height === image.height };
}

/** What to do with one image, from its header: filter it, keep it, or encode it. */
export function planImage(options: ResizeOptions, image: ImageFacts): ImagePlan {
  const reason = filteredBecause(options, image);
  if (reason !== undefined) return { kind: 'filtered', reason };
  if (options.mode === 'no') return { kind: 'keep' };
  const resize = resizeFor(options, image);
  const unchanged = resize === null && !image.turned;
  if (options.skipReencode && unchanged && image.format === SHARP_FORMAT[options.format]) {
    return { kind: 'keep' };
  }
  return { kind: 'encode', resize, flatten: options.format === 'jpg' && image.hasAlpha };
}
