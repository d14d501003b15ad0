/**
 * The single binary's cache directory on disk: chosen, checked, filled and repaired by the
 * rules in cache-rules.ts. Node loads the CLI, its chunks, the task module and tinypool's
 * entries from here by path, now and later in the run (lazy chunks, worker threads, forked
 * children). That is safe only because no other user can change anything on the path: every
 * directory from `/` down is ours or root's and writable by no one else (or sticky), and the
 * files are ours alone. Under that rule a file verified here is the file loaded later; a
 * forked child, which trusts a path handed to it in its environment, checks it all again.
 */
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import {
  cacheRoots,
  pathDirs,
  privateFile,
  untrustedBecause,
  type CacheEnv,
  type CacheRoot,
} from './cache-rules.ts';

/** The files the binary carries: their names (paths inside the cache dir) and bytes. */
export interface Assets {
  /** `<version>-<hash of every file>`: a new build never reuses an old directory. */
  readonly dir: string;
  readonly names: readonly string[];
  bytes(name: string): Uint8Array;
}

/** A directory or file the binary will not use, and why (a sentence without a stack). */
class Refused extends Error {}

const currentUid = (): number => process.getuid?.() ?? 0;

/**
 * The cache directory holding this build's files, created, checked and repaired as needed
 * in the first root that passes; an error naming every root's problem when none does.
 */
export function prepareCache(assets: Assets, env: CacheEnv): string {
  const uid = currentUid();
  const problems: string[] = [];
  for (const root of cacheRoots(env, uid)) {
    try {
      return prepareIn(root, assets, uid);
    } catch (error) {
      problems.push(`${join(root.base, root.name)}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    `crew: found no safe cache directory for the files it runs from:\n  ${problems.join('\n  ')}\n` +
      'Set XDG_CACHE_HOME to a directory that only you (or root) can write.',
  );
}

/**
 * For a child process forked from the binary: `dir` came through the environment, so check
 * the whole path and every file again (nothing is repaired here), before loading from it.
 */
export function verifyCache(dir: string, assets: Assets): void {
  const uid = currentUid();
  checkPath(dir, assets, uid);
  syncFiles(dir, assets, uid, false);
}

/**
 * Files the binary carries but writes only when a run needs them (sharp's native addon and
 * libvips: 20 MB that every start would otherwise compare): `dir` (this build's cache
 * directory, as the loader set it) is checked all the way down as `verifyCache` does, then
 * each file written, or checked and repaired, exactly as the loader treats its own. Called by
 * whichever thread or process is about to load them, just before it does.
 */
export function prepareLazyFiles(dir: string, assets: Assets): void {
  const uid = currentUid();
  checkPath(dir, assets, uid);
  syncFiles(dir, assets, uid, true);
}

/** `dir` is this build's cache directory, where it was made, on a path no one else can change. */
function checkPath(dir: string, assets: Assets, uid: number): void {
  if (!isAbsolute(dir) || basename(dir) !== assets.dir) {
    throw new Refused(`${dir} is not this build's cache directory`);
  }
  if (realpathSync.native(dir) !== dir) throw new Refused(`${dir} has moved`);
  const dirs = pathDirs(dir);
  dirs.forEach((path, i) => checkDir(path, uid, i >= dirs.length - 2));
}

function prepareIn(root: CacheRoot, assets: Assets, uid: number): string {
  const top = join(trustedDir(root.base, uid), root.name);
  makeDir(top);
  checkDir(top, uid, true);
  const dir = join(top, assets.dir);
  if (!statOrUndefined(dir)) install(top, dir, assets);
  checkDir(dir, uid, true);
  syncFiles(dir, assets, uid, true);
  return dir;
}

/**
 * `path`'s real path once every directory on it is trusted, after creating (private) what
 * is missing below its deepest existing ancestor. The path is resolved first and then
 * checked with lstat, so a symbolic link swapped in after resolving is refused.
 */
function trustedDir(path: string, uid: number): string {
  const missing: string[] = [];
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) {
    missing.unshift(basename(existing));
    existing = dirname(existing);
  }
  let real = realpathSync.native(existing);
  for (const dir of pathDirs(real)) checkDir(dir, uid, false);
  for (const name of missing) {
    real = join(real, name);
    makeDir(real);
    checkDir(real, uid, false);
  }
  return real;
}

/** Throws (with the reason) unless directory `path` may be trusted (see untrustedBecause). */
export function checkDir(path: string, uid: number, ours: boolean): void {
  const info = lstatSync(path);
  const why = untrustedBecause(
    {
      uid: info.uid,
      mode: info.mode,
      isDirectory: info.isDirectory(),
      isSymbolicLink: info.isSymbolicLink(),
    },
    uid,
    ours,
  );
  if (why) throw new Refused(`${path} ${why}`);
}

/** Makes directory `path`, private; one that is there already is left for the checks. */
export function makeDir(path: string): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const scratchName = (): string =>
  `.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;

/**
 * Fills a fresh scratch dir and renames it into place: a racing first run sees either no
 * directory or a complete one. If another run got there first, its directory is kept (it is
 * checked like any other) and this run's copy removed: a directory in use is never removed.
 */
function install(top: string, dir: string, assets: Assets): void {
  const scratch = join(top, scratchName());
  mkdirSync(scratch, { mode: 0o700 });
  try {
    for (const name of assets.names) {
      mkdirSync(dirname(join(scratch, name)), { recursive: true, mode: 0o700 });
      writeFileSync(join(scratch, name), assets.bytes(name), { mode: 0o600, flag: 'wx' });
    }
    try {
      renameSync(scratch, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Checks every file (and subdirectory) against the bytes the binary carries. With `repair`, a
 * missing or altered file is rewritten by renaming a fresh copy over it: a concurrent run
 * reading it sees the old or the new file whole, and never a missing one.
 */
function syncFiles(dir: string, assets: Assets, uid: number, repair: boolean): void {
  for (const sub of subdirsOf(assets.names)) {
    if (repair) makeDir(join(dir, sub));
    checkDir(join(dir, sub), uid, true);
  }
  for (const name of assets.names) {
    const path = join(dir, name);
    if (intact(path, assets.bytes(name), uid)) continue;
    if (!repair) throw new Refused(`${path} is not the file this binary carries`);
    const scratch = `${path}${scratchName()}`;
    try {
      writeFileSync(scratch, assets.bytes(name), { mode: 0o600, flag: 'wx' });
      renameSync(scratch, path);
    } finally {
      rmSync(scratch, { force: true });
    }
    if (!intact(path, assets.bytes(name), uid)) {
      throw new Refused(`${path} did not verify after writing it`);
    }
  }
}

/** Every folder the names lie in, parents before children: `a`, `a/b` for `a/b/c.node`. */
function subdirsOf(names: readonly string[]): string[] {
  const subdirs = new Set<string>();
  for (const name of names) {
    const parts = name.split('/').slice(0, -1);
    parts.forEach((_, i) => subdirs.add(parts.slice(0, i + 1).join('/')));
  }
  return [...subdirs].sort((a, b) => a.split('/').length - b.split('/').length);
}

/**
 * Byte for byte the embedded asset, and ours alone: a stronger check than comparing hashes,
 * and it spares every start loading node:crypto.
 */
function intact(path: string, bytes: Uint8Array, uid: number): boolean {
  const info = statOrUndefined(path);
  if (
    !info ||
    !privateFile({ uid: info.uid, mode: info.mode, isFile: info.isFile(), links: info.nlink }, uid)
  ) {
    return false;
  }
  return sameBytes(path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/**
 * Read through one buffer kept for every file: a fresh buffer per file (readFileSync) cost a
 * page fault per 4 KiB of the bundle, at every start of crew and of each of its processes.
 */
let chunk: Buffer | undefined;
const CHUNK_BYTES = 256 * 1024;

/**
 * Whether the file at `path` holds exactly `bytes`. Opened not following a link, and not
 * waiting: a FIFO swapped in after the lstat reads as empty (so not intact) instead of
 * holding the start until someone writes to it.
 */
export function sameBytes(path: string, bytes: Buffer): boolean {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    chunk ??= Buffer.allocUnsafeSlow(CHUNK_BYTES);
    for (let at = 0; ;) {
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (read === 0) return at === bytes.length;
      if (at + read > bytes.length) return false;
      if (!chunk.subarray(0, read).equals(bytes.subarray(at, at + read))) return false;
      at += read;
    }
  } finally {
    closeSync(fd);
  }
}
