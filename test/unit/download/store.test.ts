import { closeSync, openSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  fileSize,
  publish,
  publishCopy,
  removeLeftovers,
  tempPath,
  unwritten,
  writeAll,
  writeAllSync,
} from '../../../src/download/store.ts';

let dir: string;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-store-'));
  out = join(dir, 'out');
  return () => rm(dir, { recursive: true, force: true });
});

describe('store', () => {
  it('names temp files hidden, per run, unguessable, inside the output directory', () => {
    const names = new Set(Array.from({ length: 1000 }, () => tempPath(out, 'ab12')));
    expect(names.size).toBe(1000);
    for (const name of names) expect(name).toMatch(/\/\.crew-ab12-[0-9a-f]{16}\.part$/);
  });

  it('removes the temp files of any run, and nothing else', async () => {
    await mkdir(out);
    const names = [
      '.crew-aa-0f.part',
      '.crew-aa-1e.part',
      '.crew-bb-0d.part',
      '.crew-x.part',
      'a.png',
      '.crew-aa-1e.part.png',
    ];
    for (const name of names) await writeFile(join(out, name), 'x');
    expect(await removeLeftovers(out)).toBe(3);
    expect((await readdir(out)).sort()).toEqual(['.crew-aa-1e.part.png', '.crew-x.part', 'a.png']);
  });

  it('finds leftovers among thousands of files, read as a stream', async () => {
    await mkdir(out);
    const leftovers = new Set([17, 1500, 2999]);
    const names = Array.from({ length: 3000 }, (_, i) =>
      leftovers.has(i) ? `.crew-dead-${i}.part` : `${i}.png`,
    );
    await Promise.all(names.map((name) => writeFile(join(out, name), '')));
    expect(await removeLeftovers(out)).toBe(3);
    expect((await readdir(out)).length).toBe(2997);
  });

  it('publishes by rename, replacing a symlink at the final name instead of following it', async () => {
    await mkdir(out);
    await writeFile(join(dir, 'outside.txt'), 'keep me');
    await symlink(join(dir, 'outside.txt'), join(out, 'cat.png'));
    const temp = tempPath(out, 'aa');
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
    await publishCopy(out, join(out, 'cat.png'), tempPath(out, 'aa'), 'cat-2.png');
    expect(await readFile(join(out, 'cat-2.png'), 'utf8')).toBe('png bytes');
    expect((await readdir(out)).sort()).toEqual(['cat-2.png', 'cat.png']);
  });

  it('never copies through a link planted at the temp name', async () => {
    await mkdir(out);
    await writeFile(join(out, 'cat.png'), 'png bytes');
    await writeFile(join(dir, 'victim'), 'keep me');
    const temp = tempPath(out, 'aa');
    await symlink(join(dir, 'victim'), temp);
    await expect(publishCopy(out, join(out, 'cat.png'), temp, 'cat-2.png')).rejects.toThrow(
      /EEXIST/,
    );
    expect(await readFile(join(dir, 'victim'), 'utf8')).toBe('keep me');
  });

  it('writes every chunk whole and in order, async or not', async () => {
    const chunks = [Buffer.alloc(100_000, 7), Buffer.alloc(0), Buffer.from('tail')];
    const path = join(dir, 'async');
    const file = await open(path, 'w');
    try {
      await writeAll(file, chunks);
    } finally {
      await file.close();
    }
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true);
    const fd = openSync(join(dir, 'sync'), 'w');
    try {
      writeAllSync(fd, chunks);
    } finally {
      closeSync(fd);
    }
    expect((await readFile(join(dir, 'sync'))).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('fails a write to a full device as ENOSPC, not as a short file', async () => {
    const file = await open('/dev/full', 'w');
    try {
      await expect(writeAll(file, [Buffer.alloc(10)])).rejects.toMatchObject({ code: 'ENOSPC' });
    } finally {
      await file.close();
    }
  });

  it.each([
    ['nothing written', ['ab', 'cd'], 0, ['ab', 'cd']],
    ['part of the first chunk', ['ab', 'cd'], 1, ['b', 'cd']],
    ['the first chunk exactly', ['ab', 'cd'], 2, ['cd']],
    ['into the second chunk', ['ab', 'cd'], 3, ['d']],
    ['everything', ['ab', 'cd'], 4, []],
    ['empty chunks dropped', ['', 'ab', '', 'c'], 0, ['ab', 'c']],
    ['empty chunks after a partial one', ['ab', '', 'c'], 1, ['b', 'c']],
  ])('after a short write, what is left: %s', (_, chunks, written, left) => {
    const rest = unwritten(
      chunks.map((c) => Buffer.from(c)),
      written,
    );
    expect(rest.map((c) => Buffer.from(c).toString())).toEqual(left);
  });

  it('sizes regular files only', async () => {
    await mkdir(join(out, 'sub'), { recursive: true });
    await writeFile(join(out, 'a.png'), 'abcd');
    await symlink(join(out, 'a.png'), join(out, 'link.png'));
    expect(fileSize(join(out, 'a.png'))).toBe(4);
    expect(fileSize(join(out, 'link.png'))).toBeUndefined();
    expect(fileSize(join(out, 'sub'))).toBeUndefined();
    expect(fileSize(join(out, 'missing.png'))).toBeUndefined();
  });
});
