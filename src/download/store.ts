/**
 * The output directory's files: a run's temp folder (bodies arrive there), the step that
 * gives a whole body its final name without ever replacing a file that is already there
 * (but crew's own, named by a killed run and never recorded), and the clean-up of what a
 * killed run left behind (the lock that keeps two runs out of one directory is lock.ts's).
 * Which names are tried, and where, is layout.ts's to say.
 *
 * Temp folders outlive a run only when the run never reached its end (kill -9, a crash), and
 * such a run leaves its lock behind. So --out is searched for leftovers only when a dead
 * run's lock is taken over: listing a finished million-row job's directory took 0.7 s and
 * 160 MB on every re-run, to find nothing.
 */
import {
  constants,
  copyFileSync,
  linkSync,
  lstatSync,
  renameSync,
  writevSync,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, opendir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MAX_NAME_TRIES, OLD_TEMP_FILE, TEMP_FOLDER, tempFolderName } from './layout.ts';
import { isLockDebris, removeIfDead } from './lock.ts';
import { fileName, suffixed } from './names.ts';

/** Random bytes drawn 4 KiB at a time: one system call per 512 temp names, not per name. */
let entropy = Buffer.alloc(0);
let drawn = 0;

/** A fresh, unguessable path for a body in `folder` (a run's temp folder). */
export function newTempFile(folder: string): string {
  if (drawn + 8 > entropy.length) {
    entropy = randomBytes(4096);
    drawn = 0;
  }
  const name = entropy.toString('hex', drawn, drawn + 8);
  drawn += 8;
  return join(folder, `${name}.part`);
}

/**
 * Creates run `runId`'s temp folder in `out`: mode 0700, and never one that exists already
 * (mkdir does not follow a link planted at the name). Returns its path.
 */
export async function makeTempFolder(out: string, runId: string): Promise<string> {
  const folder = join(out, tempFolderName(runId));
  await mkdir(folder, { mode: 0o700 });
  return folder;
}

/** What `removeLeftovers` found in `out`. */
export interface Leftovers {
  /** Temp folders (and older crew's temp files) removed. */
  readonly removed: number;
  /**
   * The files (`fileKey`) a killed run had named and still held a temp link to: placed, and
   * maybe never recorded (see placeFile). Only this user's files.
   */
  readonly named: ReadonlySet<string>;
}

/** A file's identity: how a temp link left behind finds the named file it is one with. */
export const fileKey = (info: Pick<Stats, 'dev' | 'ino'>): string => `${info.dev}:${info.ino}`;

/**
 * Removes the temp folders (and older crew's temp files) that killed runs left in `out`, and
 * says which named files their temp links point to. The directory is read as a stream, so
 * a million files cost no more memory than a few. `rm` removes a link planted at such a
 * name, never what it points to. Only this user's entries go: in a shared --out, another
 * user's folder under such a name is not crew's to empty (as root, rm would). Files of a
 * lock attempt whose process died go too (a live run's are kept).
 */
export async function removeLeftovers(out: string): Promise<Leftovers> {
  const leftovers: string[] = [];
  const debris: string[] = [];
  const named = new Set<string>();
  for await (const entry of await opendir(out, { bufferSize: 1024 })) {
    if (TEMP_FOLDER.test(entry.name) || OLD_TEMP_FILE.test(entry.name)) {
      const info = await ours(join(out, entry.name));
      if (info === undefined) continue;
      leftovers.push(entry.name);
      if (info.isDirectory()) await linksIn(join(out, entry.name), named);
    } else if (isLockDebris(entry.name)) debris.push(entry.name);
  }
  await Promise.all(leftovers.map((name) => rm(join(out, name), { recursive: true, force: true })));
  await Promise.all(debris.map((name) => removeIfDead(join(out, name)).catch(() => undefined)));
  return { removed: leftovers.length, named };
}

/** Adds to `named` this user's files in `folder` that have another link (a name in --out). */
async function linksIn(folder: string, named: Set<string>): Promise<void> {
  for await (const entry of await opendir(folder, { bufferSize: 1024 })) {
    const info = await ours(join(folder, entry.name));
    if (info?.isFile() && info.nlink > 1) named.add(fileKey(info));
  }
}

/** The entry at `path` (not followed), when it belongs to this process's user. */
async function ours(path: string): Promise<Stats | undefined> {
  const uid = process.getuid?.();
  const info = await lstat(path).catch(() => undefined);
  return info !== undefined && (uid === undefined || info.uid === uid) ? info : undefined;
}

/** Codes of a file system that cannot make hard links (FAT, some network and FUSE mounts). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK', 'ENOSYS']);

/**
 * Says whether the file at a taken name (its lstat) is crew's own, left named but never
 * recorded by a killed run: then it is replaced instead of skipped (see Output).
 */
export type Reclaim = (name: string, info: Stats) => boolean;

/**
 * Gives the whole body in `temp` its final name in `folder`: `stem` with `ext`, else the
 * first of `stem-2`, `stem-3`... that no file, link or folder holds yet, or that holds a file
 * `reclaim` says is crew's own. Returns the name. A hard link is made (it fails when the
 * name exists, where a rename would replace what is there: a user's own file, another run's,
 * or a link planted in a shared folder); where the file system has no hard links, an
 * exclusive copy instead. `temp` stays: the caller removes it once the row's manifest line is
 * written, so a run killed before that leaves a second link to the file in its temp folder,
 * and the next run (removeLeftovers) knows the file for one that no line may record.
 * Synchronous: a few quick system calls on the caller's own thread, not round trips through
 * libuv's thread pool. Throws what the folder says when it takes no file at all.
 */
export function placeFile(
  temp: string,
  folder: string,
  stem: string,
  ext: string,
  reclaim?: Reclaim,
): string {
  for (let tries = 0, n = 0; tries < MAX_NAME_TRIES; tries++, n = n === 0 ? 2 : n + 1) {
    const name = fileName(n === 0 ? stem : suffixed(stem, n), ext);
    const path = join(folder, name);
    try {
      linkOrCopy(temp, path);
      return name;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
    if (reclaim === undefined) continue;
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (info?.isFile() && reclaim(name, info)) {
      // A second link renamed over it: `temp` keeps its own until the line is written.
      const again = newTempFile(dirname(temp));
      linkOrCopy(temp, again);
      renameSync(again, path);
      return name;
    }
  }
  throw Object.assign(new Error(`${MAX_NAME_TRIES} names for "${stem}" are taken`), {
    code: 'EEXIST',
  });
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    if (!NO_LINKS.has((error as { code?: string }).code ?? '')) throw error;
    // COPYFILE_EXCL creates `to` exclusively: a link planted there is not followed.
    copyFileSync(from, to, constants.COPYFILE_EXCL);
  }
}

/**
 * Size of a regular file at `path` (not following a symlink), or undefined. Synchronous: a
 * re-run asks this of every finished row, and one lstat takes microseconds where a trip
 * through libuv's thread pool took ~20 (a re-run of 100,000 rows spent 2 s of its 3 there).
 */
export function fileSize(path: string): number | undefined {
  try {
    const info = lstatSync(path, { throwIfNoEntry: false });
    return info?.isFile() ? info.size : undefined;
  } catch {
    return undefined; // not there for us to see (EACCES, ENOTDIR, ...): fetch it again
  }
}

/**
 * Writes all of `chunks`, in order, at the file's position: one writev each time, no copy
 * into one buffer. A write may store fewer bytes than asked (a file-size limit, a disk that
 * fills up): the rest is written again, and a write that stores nothing at all fails as the
 * disk being full, so a short file is never taken whole.
 */
export async function writeAll(file: FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
  for (let left = unwritten(chunks, 0); left.length > 0;) {
    const { bytesWritten } = await file.writev(left);
    left = unwritten(left, stored(bytesWritten));
  }
}

/** writeAll on a descriptor, synchronously: for a small body, one call and no round trip. */
export function writeAllSync(fd: number, chunks: readonly Uint8Array[]): void {
  for (let left = unwritten(chunks, 0); left.length > 0;) {
    left = unwritten(left, stored(writevSync(fd, left)));
  }
}

const stored = (bytesWritten: number): number => {
  if (bytesWritten > 0) return bytesWritten;
  throw Object.assign(new Error('no space left on device (a write stored nothing)'), {
    code: 'ENOSPC',
  });
};

/** What is left of `chunks` once `written` bytes of them went out, empty chunks dropped. */
export function unwritten(chunks: readonly Uint8Array[], written: number): Uint8Array[] {
  const left: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (written >= chunk.length) written -= chunk.length;
    else {
      left.push(written === 0 ? chunk : chunk.subarray(written));
      written = 0;
    }
  }
  return left;
}
