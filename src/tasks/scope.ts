/**
 * What a queue worker's operator allows its tasks to touch: the folders they may write in
 * (`crew worker --allow-dir`) and, if limited, the ones they may read (`--allow-read`). A
 * task's input names paths; a worker takes it only when each path, with every link on the
 * way resolved, lies inside one of those folders.
 */
import { realpathSync } from 'node:fs';

export interface WorkerScope {
  /** Folders (real paths) tasks may write in; none: no task that writes is taken. */
  readonly writable: readonly string[];
  /** Folders (real paths) tasks may read; undefined: any the worker's user can. */
  readonly readable: readonly string[] | undefined;
}

/**
 * Whether `path` (a string, or the bytes of a name that is not UTF-8), which must exist,
 * lies inside one of `folders` once every link on its way is resolved. Links that change
 * after the check are the operator's to prevent: folders only the worker's user can write.
 */
export function isInside(path: string | Uint8Array, folders: readonly string[]): boolean {
  let real: Buffer;
  try {
    real = realpathSync(typeof path === 'string' ? path : Buffer.from(path), {
      encoding: 'buffer',
    });
  } catch {
    return false;
  }
  return folders.some((folder) => {
    const root = Buffer.from(folder === '/' ? '' : folder);
    return (
      real.equals(root) ||
      (real.length > root.length &&
        real.subarray(0, root.length).equals(root) &&
        real[root.length] === 0x2f)
    );
  });
}

/** Each of `folders` as its real path (the operator's --allow-dir, --allow-read). */
export const realFolders = (folders: readonly string[]): string[] =>
  folders.map((folder) => realpathSync(folder));
