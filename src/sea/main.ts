/**
 * The single binary's entry (Node SEA). Inside a SEA no file of ours exists on disk and
 * `require` reaches only built-ins, but tinypool loads its entries and our worker module
 * from disk and forks the binary itself for child processes. So this loader writes the
 * bundle (carried as SEA assets) into a private, versioned, hash-checked cache directory,
 * then runs the CLI from there; a child forked by tinypool runs the entry it was asked for.
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, enableCompileCache } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getAsset, getRawAsset } from 'node:sea';

/** Written at build time: every asset's name and sha256, the version, and the cache dir name. */
interface AssetIndex {
  readonly version: string;
  /** `<version>-<hash of every file's sha256>`: a new build never reuses an old dir. */
  readonly dir: string;
  readonly files: Record<string, string>;
}

const MARKER = 'CREW_SEA_DIR';

function text(name: string): string {
  return Buffer.from(getAsset(name)).toString('utf8');
}

/**
 * A cached file is intact when it is byte for byte the asset embedded in this binary: a
 * stronger check than comparing hashes, and it spares every start loading node:crypto.
 */
const sameAsAsset = (path: string, name: string): boolean =>
  Buffer.from(getRawAsset(name)).equals(readFileSync(path));

/** Candidate cache roots, best first: XDG, ~/.cache, then the temp dir (per user). */
function roots(): string[] {
  const uid = process.getuid?.() ?? 0;
  const list: string[] = [];
  if (process.env['XDG_CACHE_HOME']) list.push(join(process.env['XDG_CACHE_HOME'], 'crew'));
  try {
    list.push(join(homedir(), '.cache', 'crew'));
  } catch {
    // no home directory at all
  }
  list.push(join(tmpdir(), `crew-${uid}`));
  return list;
}

/** A directory only we can write: ours, not a symlink, no group/other write bits. */
function privateDir(path: string): boolean {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const info = lstatSync(path);
  const uid = process.getuid?.();
  return (
    info.isDirectory() &&
    !info.isSymbolicLink() &&
    (uid === undefined || info.uid === uid) &&
    (info.mode & 0o022) === 0
  );
}

function intact(dir: string, index: AssetIndex): boolean {
  try {
    if (!privateDir(dir)) return false;
    const owner = lstatSync(dir).uid;
    return Object.keys(index.files).every((name) => {
      const path = join(dir, name);
      const info = lstatSync(path);
      return info.isFile() && info.uid === owner && sameAsAsset(path, name);
    });
  } catch {
    return false;
  }
}

/** Writes the assets to a fresh temp dir under `root` and renames it into place. */
function install(root: string, dir: string, index: AssetIndex): void {
  const temp = join(
    root,
    `.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  );
  mkdirSync(temp, { mode: 0o700 });
  try {
    for (const name of Object.keys(index.files)) {
      const path = join(temp, name);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, Buffer.from(getAsset(name)), { mode: 0o600 });
    }
    try {
      renameSync(temp, dir);
    } catch (error) {
      // Another first run won the race (the target exists and is not empty): fine if intact.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** The cache directory holding this build's files, created and verified as needed. */
function cacheDir(index: AssetIndex): string {
  const problems: string[] = [];
  for (const root of roots()) {
    const dir = join(root, index.dir);
    try {
      if (!privateDir(root)) {
        problems.push(`${root} is not private to this user`);
        continue;
      }
      if (intact(dir, index)) return dir;
      // Missing, or tampered with: replace it (two tries, for a racing first run).
      for (let attempt = 0; attempt < 2; attempt++) {
        rmSync(dir, { recursive: true, force: true });
        install(root, dir, index);
        if (intact(dir, index)) return dir;
      }
      problems.push(`${dir} did not verify after writing it`);
    } catch (error) {
      problems.push(`${root}: ${(error as Error).message}`);
    }
  }
  throw new Error(`crew: no usable cache directory for its worker files (${problems.join('; ')})`);
}

function start(): void {
  const forkedEntry = process.env[MARKER];
  if (forkedEntry && process.env['TINYPOOL_WORKER_ID'] && process.send) {
    // A child process tinypool forked from this binary: be its process entry, not the CLI.
    createRequire(join(forkedEntry, 'cli.js'))(join(forkedEntry, 'entry', 'process.js'));
    return;
  }
  const index = JSON.parse(text('index.json')) as AssetIndex;
  let dir: string;
  try {
    dir = cacheDir(index);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  process.env[MARKER] = dir;
  try {
    enableCompileCache(join(dir, '.compile-cache'));
  } catch {
    // a cache that cannot be written only costs start-up time
  }
  const cli = createRequire(join(dir, 'cli.js'))(join(dir, 'cli.js')) as {
    main(argv: readonly string[]): Promise<number>;
  };
  void cli.main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

start();
