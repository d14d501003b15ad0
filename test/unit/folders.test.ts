import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolders } from '../../src/folders.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';

const temp = tempDirs();

describe('makeFolders', () => {
  it('makes a folder and the missing ones above it, and takes one that is there', () => {
    const root = temp.make('crew-folders-');
    const deep = join(root, 'a', 'b', 'c');
    makeFolders(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeFolders(deep);
    makeFolders(join(root, 'a'));
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'link'));
    makeFolders(join(root, 'link', 'inside'));
    expect(statSync(join(root, 'real', 'inside')).isDirectory()).toBe(true);
  });

  it('throws for a file or a dangling link in the way', () => {
    const root = temp.make('crew-folders-');
    writeFileSync(join(root, 'file'), '');
    expect(() => makeFolders(join(root, 'file'))).toThrow(/EEXIST/);
    expect(() => makeFolders(join(root, 'file', 'sub'))).toThrow(/ENOTDIR/);
    symlinkSync(join(root, 'nowhere'), join(root, 'dangling'));
    expect(() => makeFolders(join(root, 'dangling', 'sub'))).toThrow(/ENOENT/);
    expect(existsSync(join(root, 'nowhere'))).toBe(false);
  });

  it('shares the folders above with other processes making them at the same time', async () => {
    const root = temp.make('crew-folders-');
    const module = new URL('../../src/folders.ts', import.meta.url).href;
    // Six processes start together, each making 300 deep folders whose parents they share.
    const start = Date.now() + 1500;
    const script = (i: number): string =>
      `const { makeFolders } = await import(${JSON.stringify(module)});
       while (Date.now() < ${start});
       for (let k = 0; k < 300; k++) makeFolders(${JSON.stringify(root)} + '/' + k + '/a/b/${i}');`;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(i)]),
      ),
    );
    expect(readdirSync(join(root, '299', 'a', 'b')).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  // Node's recursive mkdir never returns for these (it spins on ENOENT, then EEXIST).
  it.each(['/proc/crew-x', '/proc/self/crew-x/y', '/proc/self/fd/crew-x'])(
    'throws at once under /proc: %s',
    (path) => {
      expect(() => makeFolders(path)).toThrow(/ENOENT/);
    },
  );
});
