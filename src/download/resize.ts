/**
 * The image step, in a download worker: a whole body (in memory when it was small enough to
 * be held, else read from its temp file) has its header asked what to do (resize-plan.ts),
 * and is then filtered out, kept as served, or resized and encoded by sharp (libvips) into a
 * fresh temp file that takes the body's place. The manifest's bytes and sha256 are those of
 * the file saved, so they are measured here, of what is written. Every
 * failure of the image is a value with a reason, never a throw: a hostile image fails its own
 * row and nothing else. Only the disk's failures (writing the new file) are thrown.
 *
 * sharp does its work on libuv's thread pool (4 threads a process), the pool that also runs
 * the downloads' file writes: so a worker has at most `jobs` images in sharp at once, and
 * each is one libvips thread (`sharp.concurrency(1)`): images in parallel, one per core, made
 * a loop of 1600x1200 JPEGs faster than libvips' threads inside each image (see BENCHMARKS.md).
 */
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { Metadata, Sharp } from 'sharp';
import type sharpModuleType from 'sharp';
import { jpegHeader } from './image-size.ts';
import { capText } from './limits.ts';
import {
  IMAGE_TIMEOUT_SECONDS,
  MAX_INPUT_PIXELS,
  planImage,
  type ImageFacts,
  type ImagePlan,
  type ResizeOptions,
  type Size,
} from './resize-plan.ts';
import { newTempFile } from './store.ts';

/** The sizes the manifest records for an image: as served (oriented) and as saved. */
export interface ImageSizes {
  readonly originalWidth: number;
  readonly originalHeight: number;
  /** Absent for an image that was not saved (filtered out). */
  readonly width?: number;
  readonly height?: number;
}

/** A body after the image step. */
export type Reshaped =
  /** In its file, `temp` (a new one when it was encoded), named with `ext`. */
  | {
      readonly kind: 'saved';
      readonly temp: string;
      readonly ext: string;
      readonly bytes: number;
      readonly sha256: string;
      readonly image: ImageSizes;
    }
  /** Not kept (its file removed): outside a filter, or not an image sharp can use. */
  | {
      readonly kind: 'rejected';
      readonly filtered: boolean;
      readonly reason: string;
      readonly image?: ImageSizes;
    };

/**
 * A body that arrived whole: its temp file, or the body itself when it is small enough to be
 * `held` in memory (then nothing is at `temp` yet), and the extension its content says.
 */
export interface Body {
  readonly temp: string;
  readonly held?: Buffer;
  readonly ext: string;
}

type SharpModule = typeof sharpModuleType;
let loading: Promise<SharpModule> | undefined;

/** sharp, loaded on a worker's first image (a run that does not resize never loads it). */
function sharpModule(): Promise<SharpModule> {
  loading ??= import('sharp').then(({ default: sharp }) => {
    sharp.cache(false); // each image is seen once: libvips' operation cache only holds memory
    sharp.concurrency(1);
    return sharp;
  });
  return loading;
}

/** Images in sharp now, and the resizes waiting for one of them to end. */
let running = 0;
const waiting: (() => void)[] = [];

async function turn(limit: number): Promise<() => void> {
  while (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

/**
 * Runs the image step on `body` (see the module's comment); removes its file unless it is
 * kept. Throws only what writing the new file throws (the disk's errors).
 */
export async function reshape(
  body: Body,
  options: ResizeOptions,
  tempFolder: string,
): Promise<Reshaped> {
  const done = await turn(options.jobs);
  let outcome: Reshaped | undefined;
  try {
    outcome = await reshapeNow(body, options, tempFolder);
    return outcome;
  } finally {
    done();
    // A held body has no file here unless it was kept (then it is the outcome's).
    if (body.held === undefined && (outcome?.kind !== 'saved' || outcome.temp !== body.temp)) {
      await rm(body.temp, { force: true });
    }
  }
}

async function reshapeNow(
  body: Body,
  options: ResizeOptions,
  tempFolder: string,
): Promise<Reshaped> {
  let sharp: SharpModule;
  try {
    sharp = await sharpModule();
  } catch (error) {
    return rejected(false, (error as Error).message);
  }
  // From memory, not the path: an SVG's links then resolve to nothing, where from a file
  // librsvg would read the files beside it (the other bodies of this run).
  const input = body.held ?? (await readFile(body.temp));
  const image = sharp(input, {
    limitInputPixels: MAX_INPUT_PIXELS,
    // A cut-off image fails; a JPEG with a warning (stray bytes) is kept, as browsers show it.
    failOn: 'truncated',
    autoOrient: true,
  });
  let facts: ImageFacts;
  try {
    facts = jpegFacts(input) ?? factsOf(await image.metadata());
  } catch (error) {
    return rejected(false, imageError(error));
  }
  const original = { originalWidth: facts.width, originalHeight: facts.height };
  const plan = planImage(options, facts);
  if (plan.kind === 'filtered') return rejected(true, plan.reason, original);
  if (plan.kind === 'keep') {
    const image = { ...original, width: facts.width, height: facts.height };
    // A held body was never written: its temp path is free, and now gets the served bytes.
    if (body.held !== undefined) await writeNew(body.temp, input);
    return { kind: 'saved', temp: body.temp, ext: body.ext, ...bytesAndHash(input), image };
  }
  let output: { data: Buffer; info: Size };
  try {
    output = await pipeline(image, plan, options).toBuffer({ resolveWithObject: true });
  } catch (error) {
    return rejected(false, imageError(error), original);
  }
  const temp = newTempFile(tempFolder);
  await writeNew(temp, output.data);
  return {
    kind: 'saved',
    temp,
    ext: options.format,
    ...bytesAndHash(output.data),
    image: { ...original, width: output.info.width, height: output.info.height },
  };
}

/**
 * Writes `bytes` to a new file at `path` ('wx': never one that is there); a part written
 * before a failure (a full disk) is removed, but not a file that was there before (EEXIST).
 */
async function writeNew(path: string, bytes: Buffer): Promise<void> {
  try {
    await writeFile(path, bytes, { flag: 'wx' });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') await rm(path, { force: true });
    throw error;
  }
}

/** The size and sha256 of a saved file's bytes, for the manifest. */
const bytesAndHash = (bytes: Buffer): { bytes: number; sha256: string } => ({
  bytes: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex'),
});

/**
 * What planImage needs, from a JPEG's own header when it leaves no doubt (image-size.ts):
 * sharp's `metadata()` has libvips open the image once more than the resize does, ~0.5 ms of
 * CPU an image; without it 1,000 photos resized with 3% less CPU and time (8 runs).
 */
function jpegFacts(input: Buffer): ImageFacts | undefined {
  const header = jpegHeader(input);
  if (header === undefined) return undefined;
  const { width, height, orientation } = header;
  // 5-8 turn the image a quarter: it is shown with its sides swapped.
  const swapped = orientation >= 5;
  return {
    width: swapped ? height : width,
    height: swapped ? width : height,
    format: 'jpeg',
    turned: orientation > 1,
    hasAlpha: false,
  };
}

/** What planImage needs of sharp's metadata. */
function factsOf(meta: Metadata): ImageFacts {
  const { width, height } = meta.autoOrient;
  if (!(width > 0 && height > 0)) throw new Error('image has no size');
  return {
    width,
    height,
    format: meta.format,
    turned: (meta.orientation ?? 1) > 1,
    hasAlpha: meta.hasAlpha,
  };
}

/** The sharp pipeline for an `encode` plan: orient (an input option), resize, encode. */
export function pipeline(
  image: Sharp,
  plan: Extract<ImagePlan, { kind: 'encode' }>,
  options: ResizeOptions,
): Sharp {
  const white = { r: 255, g: 255, b: 255, alpha: 1 };
  let out = image.timeout({ seconds: IMAGE_TIMEOUT_SECONDS });
  if (plan.resize) out = out.resize({ ...plan.resize, position: 'centre', background: white });
  if (plan.flatten) out = out.flatten({ background: white });
  if (options.keepMetadata) out = out.keepMetadata();
  switch (options.format) {
    case 'jpg':
      return out.jpeg({ quality: options.quality });
    case 'png':
      return out.png({ compressionLevel: options.quality });
    case 'webp':
      return out.webp({ quality: options.quality });
  }
}

const rejected = (filtered: boolean, reason: string, image?: ImageSizes): Reshaped => ({
  kind: 'rejected',
  filtered,
  reason: capText(reason),
  ...(image ? { image } : {}),
});

/** sharp's words for an image it cannot use, on one line, said the same for every row. */
function imageError(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  if (/exceeds pixel limit/i.test(message)) {
    return `image has more than ${MAX_INPUT_PIXELS} pixels (the limit crew decodes)`;
  }
  if (/timeout/i.test(message)) return `image took over ${IMAGE_TIMEOUT_SECONDS} s to resize`;
  const line = message.split('\n').find((l) => l.trim() !== '') ?? 'unknown error';
  return `cannot read the image: ${line.trim()}`;
}
