/**
 * The single binary's rules for where its cache may live and which directories it trusts,
 * apart from the I/O that applies them (cache-dir.ts). Another local user must not be able to
 * change what the binary loads: so every directory on the cache path is one that only we or
 * root can change.
 */
import { isAbsolute, join } from 'node:path';

/** A place to try for the cache: `<base>/<name>`, crew creating `<name>` itself. */
export interface CacheRoot {
  readonly base: string;
  readonly name: string;
}

/** What the binary reads from its environment to place the cache. */
export interface CacheEnv {
  readonly xdgCacheHome?: string | undefined;
  /** $HOME, or the home directory in the user database when $HOME is unset. */
  readonly home?: string | undefined;
  readonly tmpdir?: string | undefined;
}

/**
 * The cache roots to try, best first: $XDG_CACHE_HOME/crew, ~/.cache/crew, then
 * $TMPDIR/crew-<uid> (or /tmp). As the XDG spec says, a relative (or empty) path is ignored:
 * it would put the cache wherever the command happens to run.
 */
export function cacheRoots(env: CacheEnv, uid: number): CacheRoot[] {
  const usable = (path: string | undefined): path is string =>
    path !== undefined && isAbsolute(path);
  const roots: CacheRoot[] = [];
  if (usable(env.xdgCacheHome)) roots.push({ base: env.xdgCacheHome, name: 'crew' });
  if (usable(env.home)) roots.push({ base: join(env.home, '.cache'), name: 'crew' });
  roots.push({ base: usable(env.tmpdir) ? env.tmpdir : '/tmp', name: `crew-${uid}` });
  const seen = new Set<string>();
  return roots.filter((root) => {
    const key = join(root.base, root.name);
    return !seen.has(key) && (seen.add(key), true);
  });
}

/** The facts about one directory on the path that decide whether it can be trusted. */
export interface DirFacts {
  readonly uid: number;
  readonly mode: number;
  readonly isDirectory: boolean;
  readonly isSymbolicLink: boolean;
}

const STICKY = 0o1000;
const GROUP_OR_OTHER_WRITE = 0o022;

/**
 * Why a directory cannot be trusted, or undefined when it can. Above the cache (`ours`
 * false) a directory must belong to us or root and be writable by no one else unless it is
 * sticky like /tmp (there others may add entries but not rename or remove ours). The
 * directories crew makes for itself (`ours` true) must be ours and private outright: nobody
 * else may add a file to them.
 */
export function untrustedBecause(facts: DirFacts, uid: number, ours: boolean): string | undefined {
  if (facts.isSymbolicLink) return 'is a symbolic link';
  if (!facts.isDirectory) return 'is not a directory';
  if (facts.uid !== uid && (ours || facts.uid !== 0)) {
    return `belongs to another user (uid ${facts.uid})`;
  }
  if ((facts.mode & GROUP_OR_OTHER_WRITE) !== 0 && (ours || (facts.mode & STICKY) === 0)) {
    return 'is writable by other users';
  }
  return undefined;
}

/** Facts about a file crew wrote into its cache. */
export interface FileFacts {
  readonly uid: number;
  readonly mode: number;
  readonly isFile: boolean;
  readonly links: number;
}

/** A cached file is only usable when it is ours alone: a plain file, one link, no write for others. */
export function privateFile(facts: FileFacts, uid: number): boolean {
  return (
    facts.isFile &&
    facts.uid === uid &&
    facts.links === 1 &&
    (facts.mode & GROUP_OR_OTHER_WRITE) === 0
  );
}

/** Every directory from the root down to an absolute, normalised path: `/`, `/a`, `/a/b`. */
export function pathDirs(path: string): string[] {
  const dirs = ['/'];
  let current = '';
  for (const part of path.split('/')) {
    if (part === '') continue;
    current += `/${part}`;
    dirs.push(current);
  }
  return dirs;
}
