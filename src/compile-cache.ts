/**
 * Where `node bin/crew.js` keeps V8's compile cache. Node's default place is one folder in
 * the temp dir for every user, and Node runs what it finds there as compiled code: another
 * local user could make it first and fill it. So crew keeps a folder of this user's own
 * there, under the single binary's rules for its cache (sea/cache-rules.ts): every folder
 * from `/` down belongs to us or root and no one else may write it (unless sticky, as
 * /tmp), and ours is private. None when the temp dir is relative (the cache would land in
 * the current folder) or the folder cannot be made: Node's own mkdir -p never returns under
 * /proc. A bundle entry of its own, loaded before the CLI, so the CLI's code is cached.
 */
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { checkDir, makeDir } from './sea/cache-dir.ts';
import { pathDirs } from './sea/cache-rules.ts';

/** The compile cache's folder, made if need be; undefined when there is to be none. */
export function privateCompileCache(): string | undefined {
  const uid = process.getuid?.();
  const base = tmpdir();
  if (uid === undefined || !isAbsolute(base)) return undefined;
  try {
    const real = realpathSync.native(base);
    const cache = join(real, `crew-compile-cache-${uid}`);
    makeDir(cache);
    for (const dir of pathDirs(real)) checkDir(dir, uid, false);
    checkDir(cache, uid, true);
    return cache;
  } catch {
    return undefined; // no cache costs start-up time only
  }
}
