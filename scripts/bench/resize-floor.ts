/**
 * The floor of the `resize` bench: a plain loop of sharp over image files already on disk,
 * the same work crew's image step does to each (read, orient, `border` into the box, encode,
 * write), with no network, no manifest, no pool. Run as its own process:
 *   node scripts/bench/resize-floor.ts <from> <to> <size> <quality> <libvips threads> <images at once>
 * `libvips threads` is sharp.concurrency (threads inside one image); `images at once` is how
 * many images are in sharp together, each on libuv's thread pool: the two ways to use cores.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

const [from = '', to = '', size, quality, threads, atOnce] = process.argv.slice(2);
if (atOnce === undefined) {
  process.stderr.write('usage: resize-floor.ts <from> <to> <size> <quality> <threads> <at once>\n');
  process.exit(2);
}
sharp.cache(false);
sharp.concurrency(Number(threads));
const box = Number(size);
const white = { r: 255, g: 255, b: 255, alpha: 1 };
const files = (await readdir(from)).filter((f) => f.endsWith('.jpg')).sort();
let next = 0;
await Promise.all(
  Array.from({ length: Number(atOnce) }, async () => {
    while (next < files.length) {
      const file = files[next++]!;
      const output = await sharp(await readFile(join(from, file)), {
        limitInputPixels: 50_000_000,
        failOn: 'truncated',
        autoOrient: true,
      })
        .resize({ width: box, height: box, fit: 'contain', position: 'centre', background: white })
        .jpeg({ quality: Number(quality) })
        .toBuffer();
      await writeFile(join(to, file), output);
    }
  }),
);
process.stdout.write(`${JSON.stringify({ images: files.length })}\n`);
