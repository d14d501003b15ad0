/**
 * sharp's native code inside the single binary. The addon (`.node`) and libvips (a shared
 * library it links to) are carried as assets like the bundle, but are 20 MB that only a
 * resizing run needs: so they are not written at start-up but here, by the thread (or forked
 * child) about to load them, into the same checked cache directory, with the same checks and
 * repair (cache-dir.ts). Their layout there is the one of node_modules/@img that the addon's
 * RPATH (`$ORIGIN/../../sharp-libvips-linux-x64/lib`) expects, so the loader finds libvips
 * beside it and nowhere else.
 */
import { join } from 'node:path';
import { isSea } from 'node:sea';
import { assetsOf, readIndex, SEA_DIR_VARIABLE } from './asset-index.ts';
import { prepareLazyFiles } from './cache-dir.ts';

/**
 * The path of sharp's addon in the binary's cache dir, written or repaired and checked just
 * now; undefined outside the single binary (sharp comes from node_modules there).
 */
export function seaAddon(): string | undefined {
  if (!isSea()) return undefined;
  const index = readIndex();
  if (index.native === undefined) throw new Error('this build of crew carries no sharp');
  const dir = process.env[SEA_DIR_VARIABLE];
  if (dir === undefined) throw new Error(`${SEA_DIR_VARIABLE} is not set: crew did not start`);
  prepareLazyFiles(dir, assetsOf(index, index.native.files));
  return join(dir, index.native.addon);
}
