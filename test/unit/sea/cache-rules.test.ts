import { describe, expect, it } from 'vitest';
import {
  cacheRoots,
  pathDirs,
  privateFile,
  untrustedBecause,
  type CacheEnv,
  type DirFacts,
} from '../../../src/sea/cache-rules.ts';

describe('cacheRoots', () => {
  const paths = (env: CacheEnv, uid = 1000): string[] =>
    cacheRoots(env, uid).map((r) => `${r.base} ${r.name}`);

  it.each<[string, CacheEnv, string[]]>([
    [
      'XDG, home, then temp',
      { xdgCacheHome: '/x', home: '/home/u', tmpdir: '/t' },
      ['/x crew', '/home/u/.cache crew', '/t crew-1000'],
    ],
    ['no TMPDIR: /tmp', { home: '/home/u' }, ['/home/u/.cache crew', '/tmp crew-1000']],
    [
      'relative paths are ignored (XDG spec), never the cwd',
      { xdgCacheHome: 'cache', home: 'home', tmpdir: 'tmp' },
      ['/tmp crew-1000'],
    ],
    ['empty paths are ignored', { xdgCacheHome: '', home: '', tmpdir: '' }, ['/tmp crew-1000']],
    ['a dot path is relative', { xdgCacheHome: './c', home: '~' }, ['/tmp crew-1000']],
    [
      'XDG the same as ~/.cache: tried once',
      { xdgCacheHome: '/home/u/.cache', home: '/home/u/' },
      ['/home/u/.cache crew', '/tmp crew-1000'],
    ],
  ])('%s', (_name, env, expected) => {
    expect(paths(env)).toEqual(expected);
  });

  it('names the temp dir after the user', () => {
    expect(paths({}, 0)).toEqual(['/tmp crew-0']);
  });
});

describe('untrustedBecause', () => {
  const me = 1000;
  const dir = (uid: number, mode: number, extra: Partial<DirFacts> = {}): DirFacts => ({
    uid,
    mode,
    isDirectory: true,
    isSymbolicLink: false,
    ...extra,
  });
  it.each<[string, DirFacts, boolean, string | undefined]>([
    ['mine, private', dir(me, 0o700), false, undefined],
    ['mine, readable by all', dir(me, 0o755), false, undefined],
    ["root's, like /home", dir(0, 0o755), false, undefined],
    ["root's sticky /tmp", dir(0, 0o1777), false, undefined],
    ['mine, sticky and world-writable', dir(me, 0o1777), false, undefined],
    ["another user's", dir(1001, 0o755), false, 'belongs to another user (uid 1001)'],
    ["another user's sticky dir", dir(1001, 0o1777), false, 'belongs to another user (uid 1001)'],
    ['world-writable, not sticky', dir(0, 0o777), false, 'is writable by other users'],
    ['group-writable', dir(me, 0o770), false, 'is writable by other users'],
    ['other-writable only', dir(me, 0o702), false, 'is writable by other users'],
    ['a symbolic link', dir(me, 0o777, { isSymbolicLink: true }), false, 'is a symbolic link'],
    ['a file', dir(me, 0o600, { isDirectory: false }), false, 'is not a directory'],
    // crew's own directories: ours alone, and no sticky exception
    ['own dir, private', dir(me, 0o700), true, undefined],
    ['own dir of root', dir(0, 0o700), true, 'belongs to another user (uid 0)'],
    ['own dir, sticky and writable', dir(me, 0o1777), true, 'is writable by other users'],
  ])('%s', (_name, facts, ours, why) => {
    expect(untrustedBecause(facts, me, ours)).toBe(why);
  });

  it('root trusts its own directories', () => {
    expect(untrustedBecause(dir(0, 0o700), 0, true)).toBeUndefined();
  });
});

describe('privateFile', () => {
  const file = { uid: 7, mode: 0o100600, isFile: true, links: 1 };
  it.each([
    ['mine, 0600', file, true],
    ['mine, 0644', { ...file, mode: 0o100644 }, true],
    ['group-writable', { ...file, mode: 0o100660 }, false],
    ["another user's", { ...file, uid: 8 }, false],
    ['hard-linked elsewhere', { ...file, links: 2 }, false],
    ['not a file', { ...file, isFile: false }, false],
  ])('%s', (_name, facts, ok) => {
    expect(privateFile(facts, 7)).toBe(ok);
  });
});

describe('pathDirs', () => {
  it.each([
    ['/', ['/']],
    ['/a', ['/', '/a']],
    ['/a/b/c', ['/', '/a', '/a/b', '/a/b/c']],
  ])('%s', (path, dirs) => {
    expect(pathDirs(path)).toEqual(dirs);
  });
});
