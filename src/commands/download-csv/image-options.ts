/**
 * `crew download-csv`'s image options: resize and re-encode every image on the pool's
 * workers, and filter out images by size (the image step: src/download/resize.ts). Their
 * names and defaults are img2dataset's, so a dataset builder's habits carry over.
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../../errors.ts';
import { wholeNumber } from '../../config.ts';
import {
  defaultQuality,
  ENCODE_FORMATS,
  imageJobs,
  MAX_IMAGE_SIDE,
  RESIZE_MODES,
  type ResizeOptions,
} from '../../download/resize-plan.ts';
import { withDefaults, type ArgsOf, type OptionTable } from '../../option-table.ts';

const IMAGES = 'Images:';

/** Every image option, its default and help written once. */
export const imageOptions = {
  'resize-mode': {
    group: IMAGES,
    type: 'string',
    choices: RESIZE_MODES,
    default: 'no',
    describe:
      'Resize every image: keep_ratio (smaller side to --image-size), keep_ratio_largest ' +
      '(larger side), center_crop (then the middle square), border (larger side, padded ' +
      'white to the square); no keeps files as served',
    requiresArg: true,
  },
  'image-size': {
    group: IMAGES,
    type: 'string',
    default: '256',
    describe: 'The size to resize to: N (a square) or WxH',
    requiresArg: true,
  },
  'resize-only-if-bigger': {
    group: IMAGES,
    type: 'boolean',
    default: false,
    describe: 'Only shrink: an image that fits is left at its size',
  },
  'encode-format': {
    group: IMAGES,
    type: 'string',
    choices: ENCODE_FORMATS,
    default: 'jpg',
    describe: 'The format resized images are saved in (and their extension)',
    requiresArg: true,
  },
  'encode-quality': {
    group: IMAGES,
    type: 'string',
    describe: 'Quality from 1 to 100 for jpg and webp; for png, compression from 0 to 9',
    defaultDescription: '95, png 6',
    requiresArg: true,
  },
  'skip-reencode': {
    group: IMAGES,
    type: 'boolean',
    default: false,
    describe: 'Keep the served bytes of an image that needs no change and is in that format',
  },
  'keep-metadata': {
    group: IMAGES,
    type: 'boolean',
    default: false,
    describe: 'Keep EXIF, ICC and XMP metadata in resized images (stripped by default)',
  },
  'min-image-size': {
    group: IMAGES,
    type: 'string',
    describe: 'Filter out images whose smaller side is under N pixels',
    requiresArg: true,
  },
  'max-image-area': {
    group: IMAGES,
    type: 'string',
    describe: 'Filter out images of more than N pixels',
    requiresArg: true,
  },
  'max-aspect-ratio': {
    group: IMAGES,
    type: 'string',
    describe: 'Filter out images whose longer side is over R times the shorter',
    requiresArg: true,
  },
} as const satisfies OptionTable;

export type ImageArgs = ArgsOf<typeof imageOptions>;

/** Options that only mean something when images are re-encoded. */
const ENCODING_FLAGS = [
  ['imageSize', '--image-size'],
  ['resizeOnlyIfBigger', '--resize-only-if-bigger'],
  ['encodeFormat', '--encode-format'],
  ['encodeQuality', '--encode-quality'],
  ['skipReencode', '--skip-reencode'],
  ['keepMetadata', '--keep-metadata'],
] as const;

/**
 * The image step a run asks for, or undefined when files are kept as served (no resize mode,
 * no filter). `lanes` is how many download workers share the machine's cores: each gets its
 * share of images in sharp at once.
 */
export function toResizeOptions(given: ImageArgs, lanes: number): ResizeOptions | undefined {
  const args = withDefaults(imageOptions, given);
  const filters = {
    minImageSize: optionalWhole('--min-image-size', args.minImageSize, 1, MAX_IMAGE_SIDE),
    maxImageArea: optionalWhole('--max-image-area', args.maxImageArea, 1, Number.MAX_SAFE_INTEGER),
    maxAspectRatio: aspectRatio(args.maxAspectRatio),
  };
  const mode = args.resizeMode;
  if (mode === 'no') {
    const flag = ENCODING_FLAGS.find(([key]) => given[key] !== undefined && given[key] !== false);
    if (flag) {
      throw new UsageError(
        `${flag[1]} applies to resized images: add --resize-mode (keep_ratio, keep_ratio_largest, center_crop or border)`,
      );
    }
    if (Object.values(filters).every((value) => value === 0)) return undefined;
  }
  const format = args.encodeFormat;
  return {
    mode,
    ...imageSize(args.imageSize),
    onlyIfBigger: args.resizeOnlyIfBigger,
    format,
    quality:
      args.encodeQuality === undefined
        ? defaultQuality(format)
        : format === 'png'
          ? wholeNumber('--encode-quality', args.encodeQuality, 0, 9)
          : wholeNumber('--encode-quality', args.encodeQuality, 1, 100),
    skipReencode: args.skipReencode,
    keepMetadata: args.keepMetadata,
    ...filters,
    jobs: imageJobs(availableParallelism(), lanes),
  };
}

/** `--image-size`: N for a square, or WxH. */
function imageSize(text: string): { width: number; height: number } {
  const match = /^\s*(\d+)\s*(?:[x×]\s*(\d+)\s*)?$/i.exec(text);
  const width = Number(match?.[1]);
  const height = match?.[2] === undefined ? width : Number(match[2]);
  const fits = (n: number): boolean => Number.isSafeInteger(n) && n >= 1 && n <= MAX_IMAGE_SIDE;
  if (!match || !fits(width) || !fits(height)) {
    throw new UsageError(
      `--image-size must be N or WxH, each from 1 to ${MAX_IMAGE_SIDE}; got "${text}"`,
    );
  }
  return { width, height };
}

/** A filter's whole number, 0 when not given. */
const optionalWhole = (flag: string, text: string | undefined, min: number, max: number) =>
  text === undefined ? 0 : wholeNumber(flag, text, min, max);

/** `--max-aspect-ratio`: a number of at least 1 (a square's), 0 when not given. */
function aspectRatio(text: string | undefined): number {
  if (text === undefined) return 0;
  const ratio = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!(ratio >= 1 && ratio <= 1e6)) {
    throw new UsageError(`--max-aspect-ratio must be a number from 1 (a square) up; got "${text}"`);
  }
  return ratio;
}
