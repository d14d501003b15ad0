/**
 * Where `--html FILE` is written: a temporary file beside FILE, made before the scan (so a
 * path that cannot be written fails at once, not after an hour of counting), filled and
 * renamed into place at the end. Renaming replaces whatever is at FILE, a symlink included,
 * without following it; a report cut short never sits under FILE's name.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
  const temp = join(dir, `.${basename(path)}.crew-${randomBytes(6).toString('hex')}`);
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
