/**
 * Where `--html FILE` is written: a temporary file beside FILE, made before the scan (so a
 * path that cannot be written fails at once, not after an hour of counting), filled and
 * renamed into place at the end. Renaming replaces whatever is at FILE, a symlink included,
 * without following it; a report cut short never sits under FILE's name.
 *
 * The temporary name carries its run's pid and start time, `.FILE.crew-<pid>-<start>-<hex>`,
 * so that what a killed run (kill -9) left is removed by the next run for the same FILE: a
 * regular file of ours under exactly such a name, whose process is gone, and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, opendir, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isRunning, startOf } from '../../process-start.ts';

/** A report's file, open until it is committed or discarded. */
export interface ReportFile {
  /** The path the report will have. */
  readonly path: string;
  /** Writes `text` to the temporary file and renames it to `path`. */
  commit(text: string): Promise<void>;
  /** Removes the temporary file, if it is still there; safe to call after commit. */
  discard(): Promise<void>;
}

/** Why a report's path cannot take it, in words (its system error as the cause). */
export class ReportPathError extends Error {
  override name = 'ReportPathError';
}

/** System errors a report's path meets, in plain words. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such directory',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'the disk is full (no space left on the device)',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  ENAMETOOLONG: 'file name too long',
};

/**
 * Opens a temporary file beside `path` (in its directory: a rename never crosses file
 * systems), hidden by a leading dot so a directory being scanned does not list it.
 * Throws ReportPathError when `path` is a directory or its directory cannot take a file.
 */
export async function openReportFile(path: string): Promise<ReportFile> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new ReportPathError('is a directory');
  const dir = dirname(path);
  await removeDeadTemps(dir, basename(path));
  const temp = join(dir, tempName(basename(path), process.pid, startOf(process.pid)));
  let handle: FileHandle;
  try {
    // wx: O_EXCL, so a file (or a symlink) already at that name is never opened.
    handle = await open(temp, 'wx', 0o666);
  } catch (error) {
    throw new ReportPathError(`cannot write a file in ${dir}: ${reasonOf(error)}`, {
      cause: error,
    });
  }
  let isOpen = true;
  const close = async (): Promise<void> => {
    if (!isOpen) return;
    isOpen = false;
    await handle.close();
  };
  let placed = false;
  return {
    path,
    async commit(text) {
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
        await close();
        await rename(temp, path);
      } catch (error) {
        // The caller's discard removes the temp file; FILE keeps what it held.
        throw new ReportPathError(`cannot write it: ${reasonOf(error)}`, { cause: error });
      }
      placed = true;
    },
    async discard() {
      await close().catch(() => undefined);
      if (!placed) await rm(temp, { force: true });
    },
  };
}

/** A system error in the words REASONS has for it, or its own message. */
function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return REASONS[code] ?? (error as Error).message;
}

/**
 * The temporary name for a report called `base` by process `pid`: with its start time where
 * the system says (then a later run can tell the process is gone), else a random one only.
 */
export function tempName(base: string, pid: number, started: string | undefined): string {
  const hex = randomBytes(6).toString('hex');
  return started === undefined ? `.${base}.crew-${hex}` : `.${base}.crew-${pid}-${started}-${hex}`;
}

/** The run that made temporary file `name` for a report called `base`, if it is one. */
export function tempOwner(
  name: string,
  base: string,
): { readonly pid: number; readonly started: string } | undefined {
  const prefix = `.${base}.crew-`;
  if (!name.startsWith(prefix)) return undefined;
  const match = /^([1-9]\d{0,9})-(\d{1,20})-[0-9a-f]{12}$/.exec(name.slice(prefix.length));
  return match ? { pid: Number(match[1]), started: match[2]! } : undefined;
}

/**
 * Removes what killed runs left for a report called `base` in `dir`: entries named as
 * `tempName` makes them whose process is gone, and only regular files of this user with one
 * link (lstat: a symlink planted under such a name is never followed, nor removed). Best
 * effort: a file that cannot be removed stays, and the run goes on.
 */
async function removeDeadTemps(dir: string, base: string): Promise<void> {
  const uid = process.getuid?.();
  let entries;
  try {
    entries = await opendir(dir, { bufferSize: 256 });
  } catch {
    return; // the open below says why the directory cannot take a report
  }
  for await (const entry of entries) {
    const owner = tempOwner(entry.name, base);
    if (!owner || isRunning(owner.pid, owner.started)) continue;
    const path = join(dir, entry.name);
    const info = await lstat(path).catch(() => undefined);
    if (!info?.isFile() || info.nlink !== 1 || (uid !== undefined && info.uid !== uid)) continue;
    await unlink(path).catch(() => undefined);
  }
}
