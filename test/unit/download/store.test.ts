import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  fileSize,
  prepareOut,
  publish,
  publishCopy,
  tempPath,
} from '../../../src/download/store.ts';

let dir: string;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-store-'));
  out = join(dir, 'out');
  return () => rm(dir, { recursive: true, force: true });
});

describe('store', () => {
  it('names temp files hidden, per run and download, inside the output directory', () => {
    expect(tempPath(out, 'ab12', 7)).toBe(join(out, '.crew-ab12-7.part'));
  });

  it('creates the output directory (and its parents)', async () => {
    expect(await prepareOut(join(out, 'a', 'b'))).toBe(0);
    expect((await lstat(join(out, 'a', 'b'))).isDirectory()).toBe(true);
  });

  it('removes temp files left behind: all of them, or one run’s', async () => {
    await mkdir(out);
    const names = [
      '.crew-aa-0.part',
      '.crew-aa-1.part',
      '.crew-bb-0.part',
      '.crew-x.part',
      'a.png',
      '.crew-aa-1.part.png',
    ];
    for (const name of names) await writeFile(join(out, name), 'x');
    expect(await prepareOut(out, 'aa')).toBe(2);
    expect((await readdir(out)).sort()).toEqual([
      '.crew-aa-1.part.png',
      '.crew-bb-0.part',
      '.crew-x.part',
      'a.png',
    ]);
    expect(await prepareOut(out)).toBe(1);
    expect((await readdir(out)).sort()).toEqual(['.crew-aa-1.part.png', '.crew-x.part', 'a.png']);
  });

  it('publishes by rename, replacing a symlink at the final name instead of following it', async () => {
    await mkdir(out);
    await writeFile(join(dir, 'outside.txt'), 'keep me');
    await symlink(join(dir, 'outside.txt'), join(out, 'cat.png'));
    const temp = tempPath(out, 'aa', 0);
    await writeFile(temp, 'png bytes');
    expect(await publish(out, temp, 'cat.png')).toBe(join(out, 'cat.png'));
    expect(await readFile(join(dir, 'outside.txt'), 'utf8')).toBe('keep me');
    expect((await lstat(join(out, 'cat.png'))).isSymbolicLink()).toBe(false);
    expect(await readFile(join(out, 'cat.png'), 'utf8')).toBe('png bytes');
    expect(await readdir(out)).toEqual(['cat.png']);
  });

  it('copies a published file to another name by way of a temp file', async () => {
    await mkdir(out);
    await writeFile(join(out, 'cat.png'), 'png bytes');
    await publishCopy(out, join(out, 'cat.png'), tempPath(out, 'aa', 1), 'cat-2.png');
    expect(await readFile(join(out, 'cat-2.png'), 'utf8')).toBe('png bytes');
    expect((await readdir(out)).sort()).toEqual(['cat-2.png', 'cat.png']);
  });

  it('sizes regular files only', async () => {
    await mkdir(join(out, 'sub'), { recursive: true });
    await writeFile(join(out, 'a.png'), 'abcd');
    await symlink(join(out, 'a.png'), join(out, 'link.png'));
    expect(await fileSize(join(out, 'a.png'))).toBe(4);
    expect(await fileSize(join(out, 'link.png'))).toBeUndefined();
    expect(await fileSize(join(out, 'sub'))).toBeUndefined();
    expect(await fileSize(join(out, 'missing.png'))).toBeUndefined();
  });
});
