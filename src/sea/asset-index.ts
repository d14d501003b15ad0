/**
 * The index the build writes beside the files the single binary carries (scripts/
 * build-binary.ts): what the loader writes into its cache directory at every start, and what
 * is written there only when a run needs it (sharp's addon and libvips, native.ts).
 */
import { getAsset, getRawAsset } from 'node:sea';
import type { Assets } from './cache-dir.ts';

/** Every asset's name and sha256, the version, and the cache dir name. */
export interface AssetIndex {
  readonly version: string;
  readonly dir: string;
  /** The bundle: written and checked at every start. */
  readonly files: Record<string, string>;
  /** Native code, written and checked by the thread about to load it (native.ts). */
  readonly native?: {
    readonly files: Record<string, string>;
    /** The `.node` file to load; it finds the libraries beside it by its RPATH. */
    readonly addon: string;
  };
}

/** The environment variable that hands this build's checked cache dir to threads and forks. */
export const SEA_DIR_VARIABLE = 'CREW_SEA_DIR';

/** The index carried in this binary. Only inside the single binary. */
export const readIndex = (): AssetIndex => JSON.parse(getAsset('index.json', 'utf8')) as AssetIndex;

/** Some of the binary's files (the keys of `files`), read from the binary as asked. */
export const assetsOf = (index: AssetIndex, files: Record<string, string>): Assets => ({
  dir: index.dir,
  names: Object.keys(files),
  bytes: (name) => new Uint8Array(getRawAsset(name)),
});
