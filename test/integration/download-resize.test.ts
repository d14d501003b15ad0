/**
 * download-csv --resize-mode: images served from 127.0.0.1 are resized and re-encoded on the
 * pool's workers before they get their names; hostile images fail their own rows (or resize
 * correctly) without taking a worker down; filters end rows as `filtered`, not failed.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrew } from '../helpers/cli.ts';
import {
  animatedGif,
  cmykJpeg,
  jpeg,
  png,
  png16,
  pngBomb,
  rotatedJpeg,
  svg,
  truncatedJpeg,
} from '../helpers/images.ts';

interface Line {
  row: number;
  name: string;
  file: string | null;
  status: string;
  bytes: number;
  sha256?: string;
  error: string | null;
  originalWidth?: number;
  originalHeight?: number;
  width?: number;
  height?: number;
}

// No proxy may stand between crew and the loopback server.
const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };

let server: Server;
let base = '';
const hits = new Map<string, number>();
let dir = '';

beforeAll(async () => {
  const images: Record<string, [Buffer, string]> = {
    '/photo': [await jpeg(1600, 1200), 'image/jpeg'],
    '/portrait': [await jpeg(900, 1600), 'image/jpeg'],
    '/rotated': [await rotatedJpeg(400, 200), 'image/jpeg'],
    '/tiny': [await png(40, 30), 'image/png'],
    '/bomb': [pngBomb(50_000), 'image/png'],
    '/truncated': [await truncatedJpeg(), 'image/jpeg'],
    '/cmyk': [await cmykJpeg(600, 400), 'image/jpeg'],
    '/png16': [await png16(600, 400), 'image/png'],
    '/animated': [await animatedGif(64, 48), 'image/gif'],
    '/drawing': [svg(300, 150), 'image/svg+xml'],
    '/page': [Buffer.from('<!doctype html><p>no image here</p>'), 'text/html'],
  };
  server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    const image = images[req.url ?? ''];
    if (!image) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': image[1], 'content-length': image[0].length });
    res.end(image[0]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'crew-resize-'));
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

async function download(names: readonly string[], args: readonly string[], out: string) {
  const csv = `name,url\n${names.map((name) => `${name},${base}/${name}`).join('\n')}\n`;
  await writeFile(join(dir, 'list.csv'), csv);
  const run = await runCrew(['download-csv', join(dir, 'list.csv'), '-o', out, '--json', ...args], {
    env,
  });
  const manifest = await readFile(join(out, 'crew-manifest.jsonl'), 'utf8').catch(() => '');
  const lines = manifest
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Line);
  return { run, lines, byName: new Map(lines.map((line) => [line.name, line])) };
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const sizeOf = async (file: string) => {
  const meta = await sharp(await readFile(file)).metadata();
  return [meta.format, meta.width, meta.height];
};

describe('download-csv --resize-mode', () => {
  it('resizes every kind of image on the workers, and fails only the unreadable ones', async () => {
    const out = join(dir, 'all');
    const names = [
      'photo',
      'portrait',
      'rotated',
      'tiny',
      'bomb',
      'truncated',
      'cmyk',
      'png16',
      'animated',
      'drawing',
      'page',
    ];
    const { run, lines, byName } = await download(
      names,
      ['--resize-mode', 'border', '--min-image-size', '32', '--runtime', 'process'],
      out,
    );
    expect(run.stderr).not.toMatch(/crash|exited|SIGSEGV|SIGABRT/i);
    expect(run.code).toBe(1); // the bomb, the truncated JPEG and the page failed
    expect(lines).toHaveLength(names.length);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ total: 11, ok: 7, failed: 3, filtered: 1, images: 7 });
    for (const name of ['photo', 'portrait', 'rotated', 'cmyk', 'png16', 'animated', 'drawing']) {
      const line = byName.get(name)!;
      expect(line).toMatchObject({ status: 'ok', file: `${name}.jpg`, width: 256, height: 256 });
      expect(await sizeOf(join(out, `${name}.jpg`))).toEqual(['jpeg', 256, 256]);
      // bytes and sha256 are the saved file's, not the served body's.
      const saved = await readFile(join(out, `${name}.jpg`));
      expect([line.bytes, line.sha256]).toEqual([saved.length, sha256(saved)]);
    }
    expect(byName.get('photo')).toMatchObject({ originalWidth: 1600, originalHeight: 1200 });
    expect(byName.get('rotated')).toMatchObject({ originalWidth: 200, originalHeight: 400 });
    expect(byName.get('drawing')).toMatchObject({ originalWidth: 300, originalHeight: 150 });
    expect(byName.get('tiny')).toMatchObject({
      status: 'filtered',
      file: null,
      error: 'smaller than --min-image-size 32',
      originalWidth: 40,
      originalHeight: 30,
    });
    expect(byName.get('bomb')).toMatchObject({
      status: 'failed',
      file: null,
      error: 'image has more than 50000000 pixels (the limit crew decodes)',
    });
    expect(byName.get('truncated')).toMatchObject({ status: 'failed', file: null });
    expect(byName.get('truncated')?.error).toMatch(/^cannot read the image: /);
    // Sniffed before the image step, as without it (its body was never written).
    expect(byName.get('page')).toMatchObject({ status: 'failed', file: null });
    expect(byName.get('page')?.error).toMatch(/^not an image: /);
    // An image's failure is final: the same bytes would come again.
    expect([hits.get('/truncated'), hits.get('/bomb'), hits.get('/tiny')]).toEqual([1, 1, 1]);
    // Only finished files under final names; no temp folder left.
    expect((await readdir(out)).sort()).toEqual(
      [
        ...names
          .filter((n) => !['tiny', 'bomb', 'truncated', 'page'].includes(n))
          .map((n) => `${n}.jpg`),
      ]
        .concat('crew-manifest.jsonl')
        .sort(),
    );
  });

  it('keeps the ratio on the thread workers, and a re-run skips what is done', async () => {
    const out = join(dir, 'ratio');
    const args = [
      '--resize-mode',
      'keep_ratio_largest',
      '--image-size',
      '200',
      '--encode-format',
      'webp',
    ];
    const first = await download(['photo', 'portrait'], args, out);
    expect(first.run.code).toBe(0);
    expect(first.byName.get('photo')).toMatchObject({
      file: 'photo.webp',
      width: 200,
      height: 150,
    });
    expect(first.byName.get('portrait')).toMatchObject({
      file: 'portrait.webp',
      width: 113,
      height: 200,
    });
    expect(await sizeOf(join(out, 'portrait.webp'))).toEqual(['webp', 113, 200]);
    const before = hits.get('/photo');
    const again = await download(['photo', 'portrait'], args, out);
    expect(JSON.parse(again.run.stdout)).toMatchObject({ ok: 0, skipped: 2 });
    expect(hits.get('/photo')).toBe(before);
  });

  it('exits 0 when rows were only filtered, and says so in the summary', async () => {
    const out = join(dir, 'filtered');
    const filter = ['--max-aspect-ratio', '1.5'];
    const { run, byName } = await download(['photo', 'portrait'], filter, out);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: 1, failed: 0, filtered: 1 });
    // No resize mode: the photo's bytes are kept as served (4:3 passes), its sizes recorded.
    expect(byName.get('photo')).toMatchObject({ status: 'ok', file: 'photo.jpg', width: 1600 });
    const kept = await readFile(join(out, 'photo.jpg'));
    expect(byName.get('photo')?.sha256).toBe(sha256(kept));
    expect(kept.equals(await jpeg(1600, 1200))).toBe(true);
    expect(byName.get('portrait')).toMatchObject({
      status: 'filtered',
      error: 'aspect ratio over --max-aspect-ratio 1.5',
    });
    const list = join(dir, 'list.csv');
    const text = await runCrew(
      ['download-csv', list, '-o', join(dir, 'filtered-text'), ...filter],
      {
        env,
      },
    );
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^images\s+1 saved \(0 resized\)/m);
    expect(text.stdout).toMatch(/^filtered\s+1 /m);
  });

  it('refuses an encoding option without a resize mode (exit 2)', async () => {
    const run = await runCrew(['download-csv', 'x.csv', '--encode-format', 'png'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--encode-format applies to resized images: add --resize-mode/);
  });
});
