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
  for (let at = resolve(path); ;) {
    try {
      mkdirSync(at);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // An existing folder (or a link to one) is fine; anything else in the way is not.
      if (code === 'EEXIST' && statSync(at).isDirectory()) break;
      const parent = dirname(at);
      if (code !== 'ENOENT' || parent === at) throw error;
      missing.push(at);
      at = parent;
    }
  }
  // Their parents exist now: an ENOENT here is final (a folder that cannot hold children).
  for (const folder of missing.reverse()) mkdirSync(folder);
}
