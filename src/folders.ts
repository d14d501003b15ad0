/**
 * Folders made with their missing parents, one level at a time. Node's own `recursive`
 * mkdir never returns when a folder on the way exists but cannot hold a child, as anything
 * under /proc: its mkdir answers ENOENT, which Node takes for a missing parent, makes the
 * parent (it exists), and tries again, for ever, at full CPU, deaf to Ctrl-C and SIGTERM
 * (`crew download-csv list.csv -o /proc/x`). Here each folder is tried at most twice.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Makes folder `path` and the folders above it that are missing; throws as mkdir does. */
export function makeFolders(path: string): void {
  const missing: string[] = [];
  let at = resolve(path);
  for (let why = makeOne(at); why !== undefined; why = makeOne(at)) {
    if (dirname(at) === at) throw why;
    missing.push(at);
    at = dirname(at);
  }
  // Their parents exist now: an ENOENT here is final (a folder that cannot hold children).
  for (const folder of missing.reverse()) {
    const why = makeOne(folder);
    if (why !== undefined) throw why;
  }
}

/**
 * Makes one folder; undefined when it is there now (made, or already a folder: another run
 * may make the same parents at the same time), else the ENOENT that says its parent is not.
 */
function makeOne(folder: string): NodeJS.ErrnoException | undefined {
  try {
    mkdirSync(folder);
    return undefined;
  } catch (error) {
    const why = error as NodeJS.ErrnoException;
    // An existing folder (or a link to one) is fine; anything else in the way is not.
    if (why.code === 'EEXIST' && statSync(folder).isDirectory()) return undefined;
    if (why.code === 'ENOENT') return why;
    throw error;
  }
}
