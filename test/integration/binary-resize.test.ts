/**
 * dist/crew resizes with the sharp it carries: copied alone to an empty directory, with no
 * Node on PATH, it writes sharp's addon and libvips into its checked cache the first time a
 * run resizes (and not before), and rewrites a tampered copy before it is loaded.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, isolatedCopy, pathWithoutNode, removeCopy } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';
import { jpeg } from '../helpers/images.ts';

let binary = '';
let server: Server;
let base = '';

beforeAll(async () => {
  binary = isolatedCopy('dist/crew');
  const photo = await jpeg(1600, 1200);
  server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': photo.length });
    res.end(photo);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  removeCopy(binary);
});

const dirs = tempDirs();
const fresh = (prefix: string): Promise<string> => Promise.resolve(dirs.make(prefix));

/** Runs the binary with no Node reachable, a private cache, and no proxy. */
const run = (args: string[], cache: string, cwd: string) =>
  collect(
    spawn(binary, args, {
      cwd,
      env: {
        PATH: pathWithoutNode,
        NO_COLOR: '1',
        XDG_CACHE_HOME: cache,
        HOME: cache,
        NO_PROXY: '*',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
    { timeoutMs: 40_000 },
  );

/** A CSV of three photos in an empty working directory. */
async function workDir(): Promise<string> {
  const cwd = await fresh('crew-bin-resize-');
  await writeFile(join(cwd, 'list.csv'), `a,${base}/a\nb,${base}/b\nc,${base}/c\n`);
  return cwd;
}

/** The native files of the binary's cache dir, by their path inside it. */
async function nativeFiles(cache: string): Promise<Map<string, string>> {
  const [dir] = await readdir(join(cache, 'crew'));
  const root = join(cache, 'crew', dir!);
  const files = (await readdir(join(root, 'native'), { recursive: true })).filter(
    (f) => f.endsWith('.node') || f.includes('.so'),
  );
  return new Map(
    files.map((f) => [f.endsWith('.node') ? 'addon' : 'libvips', join(root, 'native', f)]),
  );
}

/** The files npm installed, which the binary carries. */
const installed = () => {
  const from = createRequire(import.meta.resolve('sharp'));
  const addonDir = join(dirname(from.resolve('@img/sharp-linux-x64/package')), 'lib');
  return { addonDir, libvips: from.resolve('@img/sharp-libvips-linux-x64/binary') };
};

describe('dist/crew resizing with the sharp it carries', () => {
  it('resizes from an empty directory with no Node on PATH, in threads and processes', async () => {
    const cache = await fresh('crew-xdg-');
    const cwd = await workDir();
    // A run that does not resize leaves sharp's native files unwritten.
    expect((await run(['sum', '1e6'], cache, cwd)).code).toBe(0);
    await expect(nativeFiles(cache)).rejects.toThrow(/ENOENT/);
    for (const runtime of ['thread', 'process']) {
      const out = `out-${runtime}`;
      const args = ['download-csv', 'list.csv', '-o', out, '--json', '--runtime', runtime];
      const result = await run(
        [...args, '--resize-mode', 'center_crop', '--image-size', '96'],
        cache,
        cwd,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: 3, images: 3, resized: 3 });
      for (const name of ['a', 'b', 'c']) {
        const meta = await sharp(await readFile(join(cwd, out, `${name}.jpg`))).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 96, 96]);
      }
    }
    const native = await nativeFiles(cache);
    expect([...native.keys()].sort()).toEqual(['addon', 'libvips']);
    for (const path of native.values()) expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('rewrites a tampered addon and libvips before loading them', async () => {
    const cache = await fresh('crew-xdg-');
    const cwd = await workDir();
    const resize = ['download-csv', 'list.csv', '--json', '--resize-mode', 'border'];
    expect((await run([...resize, '-o', 'first'], cache, cwd)).code).toBe(0);
    const native = await nativeFiles(cache);
    const addon = native.get('addon')!;
    const libvips = native.get('libvips')!;
    const { addonDir, libvips: realLibvips } = installed();
    const realAddon = join(
      addonDir,
      (await readdir(addonDir)).find((f) => f.endsWith('.node'))!,
    );
    // Each swapped for a real library that is not it: loaded as they are, sharp cannot start
    // (no addon registers itself; the addon finds none of libvips' symbols).
    await copyFile(realLibvips, addon);
    await copyFile(realAddon, libvips);
    await chmod(libvips, 0o666); // and made writable by others
    const again = await run([...resize, '-o', 'second', '--runtime', 'process'], cache, cwd);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: 3, images: 3 });
    expect(await readFile(addon)).toEqual(await readFile(realAddon));
    expect(await readFile(libvips)).toEqual(await readFile(realLibvips));
    expect((await stat(libvips)).mode & 0o777).toBe(0o600);
  });
});
