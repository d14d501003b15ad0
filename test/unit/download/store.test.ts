import { closeSync, openSync } from 'node:fs';
import {
  chown,
  link,
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
  fileKey,
  fileSize,
  makeTempFolder,
  newTempFile,
  placeFile,
  removeLeftovers,
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
  it("names temp files unguessable, inside the run's temp folder", () => {
    const folder = join(out, '.crew-ab12cd34');
    const names = new Set(Array.from({ length: 1000 }, () => newTempFile(folder)));
    expect(names.size).toBe(1000);
    for (const name of names) expect(name).toMatch(/\/\.crew-ab12cd34\/[0-9a-f]{16}\.part$/);
  });

  it('makes a private temp folder per run, never one that is there already', async () => {
    await mkdir(out);
    const folder = await makeTempFolder(out, 'ab12cd34ab12cd34');
    expect(folder).toBe(join(out, '.crew-ab12cd34ab12cd34'));
    expect((await lstat(folder)).mode & 0o777).toBe(0o700);
    await writeFile(join(dir, 'elsewhere'), '');
    await symlink(dir, join(out, '.crew-0000000000000000'));
    await expect(makeTempFolder(out, '0000000000000000')).rejects.toThrow(/EEXIST/);
    await expect(makeTempFolder(out, 'ab12cd34ab12cd34')).rejects.toThrow(/EEXIST/);
  });

  it('removes the temp folders and old temp files of any run, and nothing else', async () => {
    await mkdir(out);
    for (const folder of ['.crew-aabbccdd', '.crew-0123456789abcdef']) {
      await mkdir(join(out, folder));
      await writeFile(join(out, folder, '0123456789abcdef.part'), 'x');
    }
    const names = [
      '.crew-aa-0f.part',
      '.crew-x.part',
      'a.png',
      '.crew-aa-1e.part.png',
      '.crew-lock',
    ];
    for (const name of names) await writeFile(join(out, name), 'x');
    // A link at a temp folder's name is removed, not followed.
    await mkdir(join(dir, 'victim'));
    await writeFile(join(dir, 'victim', 'keep'), 'x');
    await symlink(join(dir, 'victim'), join(out, '.crew-deadbeefdeadbeef'));
    // Another user's folder under such a name (a shared --out; tests run as root) stays.
    await mkdir(join(out, '.crew-0000000000000001'));
    await writeFile(join(out, '.crew-0000000000000001', 'theirs'), 'x');
    await chown(join(out, '.crew-0000000000000001'), 65534, 65534);
    expect(await removeLeftovers(out)).toEqual({ removed: 4, named: new Set() });
    expect((await readdir(out)).sort()).toEqual([
      '.crew-0000000000000001',
      '.crew-aa-1e.part.png',
      '.crew-lock',
      '.crew-x.part',
      'a.png',
    ]);
    expect(await readdir(join(dir, 'victim'))).toEqual(['keep']);
  });

  it('finds leftovers among thousands of files, read as a stream', async () => {
    await mkdir(out);
    const leftovers = new Set([17, 1500, 2999]);
    const names = Array.from({ length: 3000 }, (_, i) =>
      leftovers.has(i) ? `.crew-dead-${i}.part` : `${i}.png`,
    );
    await Promise.all(names.map((name) => writeFile(join(out, name), '')));
    expect((await removeLeftovers(out)).removed).toBe(3);
    expect((await readdir(out)).length).toBe(2997);
  });

  it('places a body under its name, never replacing a file, link or folder already there', async () => {
    await mkdir(out);
    const temp = join(dir, 'body.part');
    await writeFile(join(dir, 'outside.txt'), 'keep me');
    await symlink(join(dir, 'outside.txt'), join(out, 'cat.png'));
    await writeFile(join(out, 'cat-2.png'), "a user's own file");
    await mkdir(join(out, 'cat-3.png'));
    await writeFile(temp, 'png bytes');
    const offered: string[] = [];
    const reclaim = (name: string): boolean => (offered.push(name), false);
    expect(placeFile(temp, out, 'cat', 'png', reclaim)).toBe('cat-4.png');
    expect(await readFile(join(out, 'cat-4.png'), 'utf8')).toBe('png bytes');
    expect(await readFile(join(dir, 'outside.txt'), 'utf8')).toBe('keep me');
    expect(await readFile(join(out, 'cat-2.png'), 'utf8')).toBe("a user's own file");
    expect((await lstat(join(out, 'cat.png'))).isSymbolicLink()).toBe(true);
    // Only a file is ever offered back, never a link or a folder.
    expect(offered).toEqual(['cat-2.png']);
    // The temp file stays, one with the named file, until the row's line is written.
    expect((await lstat(temp)).nlink).toBe(2);
    await rm(temp);
    await writeFile(temp, 'more');
    expect(placeFile(temp, out, 'dog.png', 'png')).toBe('dog.png');
    await rm(temp);
    await writeFile(temp, 'more');
    expect(placeFile(temp, out, 'dog.png', 'png')).toBe('dog-2.png');
  });

  it("replaces a file only where reclaim says it is crew's own, and keeps the temp link", async () => {
    await mkdir(out);
    await mkdir(join(dir, 'temp'));
    const temp = join(dir, 'temp', '0123456789abcdef.part');
    await writeFile(join(out, 'cat.png'), "a user's own file");
    await writeFile(join(out, 'cat-2.png'), 'left by a killed run');
    const orphan = (await lstat(join(out, 'cat-2.png'))).ino;
    await writeFile(temp, 'png bytes');
    const reclaim = (_: string, info: { ino: number }): boolean => info.ino === orphan;
    expect(placeFile(temp, out, 'cat', 'png', reclaim)).toBe('cat-2.png');
    expect(await readFile(join(out, 'cat-2.png'), 'utf8')).toBe('png bytes');
    expect(await readFile(join(out, 'cat.png'), 'utf8')).toBe("a user's own file");
    expect((await lstat(temp)).ino).toBe((await lstat(join(out, 'cat-2.png'))).ino);
    expect(await readdir(join(dir, 'temp'))).toEqual(['0123456789abcdef.part']);
  });

  it("names the files a killed run's temp links point to: this user's, with a second link", async () => {
    await mkdir(out);
    const left = join(out, '.crew-00000000000000aa');
    await mkdir(left);
    for (const name of ['a', 'b', 'c']) await writeFile(join(left, `${name}.part`), name);
    await link(join(left, 'a.part'), join(out, 'a.png')); // named, its line maybe lost
    await writeFile(join(left, 'd.part'), 'd');
    await link(join(left, 'd.part'), join(out, 'd.png'));
    await chown(join(left, 'd.part'), 65534, 65534); // not this user's (tests run as root)
    const a = await lstat(join(out, 'a.png'));
    expect(await removeLeftovers(out)).toEqual({ removed: 1, named: new Set([fileKey(a)]) });
    expect((await readdir(out)).sort()).toEqual(['a.png', 'd.png']);
  });

  it('fails a placement into a folder it cannot write, keeping the body out of it', async () => {
    const temp = join(dir, 'body.part');
    await writeFile(temp, 'x');
    expect(() => placeFile(temp, join(dir, 'gone'), 'cat', 'png')).toThrow(/ENOENT/);
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
