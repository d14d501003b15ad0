// Stands in for sharp's `dist/sharp.mjs` in the bundle (see scripts/build.ts), which loads
// sharp's native addon. sharp's own tries a list of paths relative to the module and then
// searches node_modules: in the single binary that is a search of directories above crew's
// cache for a `.node` file nobody checked. Here the binary loads only the addon it carries,
// from its checked cache (src/sea/native.ts); `node bin/crew.js` loads it from node_modules
// as sharp would.
import { createRequire } from 'node:module';
import { seaAddon } from '../../src/sea/native.ts';

/** sharp's native binding, for `platform` as sharp names it (`linux-x64`, `darwin-arm64`...). */
export function loadSharpAddon(platform: string): unknown {
  const require = createRequire(import.meta.url);
  let addon: { _isUsingX64V2?: () => boolean };
  try {
    addon = require(seaAddon() ?? `@img/sharp-${platform}/sharp.node`) as typeof addon;
  } catch (error) {
    throw new Error(`cannot load sharp (libvips) for ${platform}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (platform.endsWith('-x64') && addon._isUsingX64V2?.() === false) {
    throw new Error('resizing needs a CPU with the x86-64-v2 instructions (SSE4.2, POPCNT)');
  }
  return addon;
}
