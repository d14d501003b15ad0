import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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

  // Node's recursive mkdir never returns for these (it spins on ENOENT, then EEXIST).
  it.each(['/proc/crew-x', '/proc/self/crew-x/y', '/proc/self/fd/crew-x'])(
    'throws at once under /proc: %s',
    (path) => {
      expect(() => makeFolders(path)).toThrow(/ENOENT/);
    },
  );
});
