/**
 * The output directory: temporary names for bodies in flight, the rename that makes a file
 * final, and the clean-up of what a killed run left behind.
 */
import { copyFile, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const TEMP = /^\.crew-[0-9a-z]+-\d+\.part$/;

/** A temp path in `out` for download number `n` of run `runId` (hidden, never a final name). */
export const tempPath = (out: string, runId: string, n: number): string =>
  join(out, `.crew-${runId}-${n}.part`);

/** Creates `out` and removes temp files an earlier, killed run left; returns how many. */
export async function prepareOut(out: string, runId?: string): Promise<number> {
  await mkdir(out, { recursive: true });
  const leftovers = (await readdir(out)).filter(
    (name) => TEMP.test(name) && (runId === undefined || name.startsWith(`.crew-${runId}-`)),
  );
  await Promise.all(leftovers.map((name) => rm(join(out, name), { force: true })));
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

/** A second row with the same URL gets its own copy, made via a temp name like any other. */
export async function publishCopy(
  out: string,
  source: string,
  temp: string,
  name: string,
): Promise<void> {
  await copyFile(source, temp);
  await publish(out, temp, name);
}

/** Size of a regular file at `path` (not following a symlink), or undefined. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await lstat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}
