import type { ResizeOptions } from '../../src/download/resize-plan.ts';

/** The image step's options as `--resize-mode border` makes them, with `more` changed. */
export const resizeOptions = (more: Partial<ResizeOptions> = {}): ResizeOptions => ({
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
  jobs: 1,
  ...more,
});
