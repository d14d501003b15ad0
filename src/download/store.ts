/**
 * The output directory: temporary names for bodies in flight, the rename that makes a file
 * final, and the clean-up of what a killed run left behind (the lock that keeps two runs out
 * of one directory is lock.ts).
 *
 * Temp files outlive a run only when the run never reached its end (kill -9, a crash), and
 * such a run leaves its lock behind. So the directory is searched for leftovers only when a
 * dead run's lock is taken over: listing a finished million-row job's directory took 0.7 s
 * and 160 MB on every re-run, to find nothing.
 */
import { constants, lstatSync, writevSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { copyFile, opendir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isLockDebris, removeIfDead } from './lock.ts';

const TEMP = /^\.crew-[0-9a-f]+-[0-9a-f]+\.part$/;

/** Random bytes drawn 4 KiB at a time: one system call per 512 temp names, not per name. */
let entropy = Buffer.alloc(0);
let drawn = 0;

/**
 * A temp path in `out` for a body of run `runId`: hidden, never a final name, and random,
 * so nobody watching the directory can plant a link at the next one.
 */
export function tempPath(out: string, runId: string): string {
  if (drawn + 8 > entropy.length) {
    entropy = randomBytes(4096);
    drawn = 0;
  }
  const name = entropy.toString('hex', drawn, drawn + 8);
  drawn += 8;
  return join(out, `.crew-${runId}-${name}.part`);
}

/**
 * Removes the temp files in `out` that killed runs left; returns how many. The directory is
 * read as a stream, so a million files cost no more memory than a few. Files of a lock
 * attempt whose process died go too (a live run's are kept).
 */
export async function removeLeftovers(out: string): Promise<number> {
  const leftovers: string[] = [];
  const debris: string[] = [];
  for await (const entry of await opendir(out, { bufferSize: 1024 })) {
    if (TEMP.test(entry.name)) leftovers.push(entry.name);
    else if (isLockDebris(entry.name)) debris.push(entry.name);
  }
  await Promise.all(leftovers.map((name) => rm(join(out, name), { force: true })));
  await Promise.all(debris.map((name) => removeIfDead(join(out, name)).catch(() => undefined)));
  return leftovers.length;
}

/**
 * Moves a finished temp file to its final name in `out`. `name` is a single path segment
 * (names.ts guarantees it), and rename replaces a symlink there rather than following it.
 */
export async function publish(out: string, temp: string, name: string): Promise<string> {
  const target = join(out, name);
  await rename(temp, target);
  return target;
}

/**
 * A second row with the same URL gets its own copy, made at a fresh temp name that must not
 * exist yet (COPYFILE_EXCL creates it exclusively: a link planted there is not followed).
 */
export async function publishCopy(
  out: string,
  source: string,
  temp: string,
  name: string,
): Promise<void> {
  try {
    await copyFile(source, temp, constants.COPYFILE_EXCL);
    await publish(out, temp, name);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
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
