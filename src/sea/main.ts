/**
 * The single binary's entry (Node SEA). Inside a SEA no file of ours exists on disk and
 * `require` reaches only built-ins, but tinypool loads its entries and our worker module
 * from disk and forks the binary itself for child processes. So this loader writes the
 * bundle (carried as SEA assets) into a private, versioned, checked cache directory
 * (cache-dir.ts), then runs the CLI from there; a child forked by tinypool checks that
 * directory again and runs the entry it was asked for.
 */
import { enableCompileCache, createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { assetsOf, readIndex, SEA_DIR_VARIABLE as MARKER } from './asset-index.ts';
import { prepareCache, verifyCache, type Assets } from './cache-dir.ts';
import type { CacheEnv } from './cache-rules.ts';

/** The bundle's files: sharp's native ones are left for the run that needs them (native.ts). */
function assets(): Assets {
  const index = readIndex();
  return assetsOf(index, index.files);
}

function cacheEnv(): CacheEnv {
  const env = process.env;
  let home = env['HOME'];
  if (home === undefined) {
    try {
      home = userInfo().homedir;
    } catch {
      // no entry in the user database: no home cache
    }
  }
  return { xdgCacheHome: env['XDG_CACHE_HOME'], home, tmpdir: env['TMPDIR'] };
}

/** Expected failures of the loader: one line (or a short list) on stderr, exit 1, no stack. */
function fail(error: unknown): void {
  const message = (error as Error).message;
  process.stderr.write(`${message.startsWith('crew:') ? '' : 'crew: '}${message}\n`);
  process.exitCode = 1;
}

// A Ctrl-C while the cache is checked and the CLI loads is kept for main() (see bin/crew.js).
const early: NodeJS.Signals[] = [];
const hold = (signal: NodeJS.Signals): void => void early.push(signal);

function start(): void {
  const forkedDir = process.env[MARKER];
  if (forkedDir && process.env['TINYPOOL_WORKER_ID'] && process.send) {
    // A child process tinypool forked from this binary: be its process entry, not the CLI.
    try {
      verifyCache(forkedDir, assets());
    } catch (error) {
      fail(error);
      process.disconnect?.();
      return;
    }
    createRequire(join(forkedDir, 'cli.js'))(join(forkedDir, 'entry', 'process.js'));
    return;
  }
  process.on('SIGINT', hold).on('SIGTERM', hold).on('SIGHUP', hold);
  let dir: string;
  try {
    dir = prepareCache(assets(), cacheEnv());
  } catch (error) {
    fail(error);
    return;
  }
  process.env[MARKER] = dir;
  try {
    const cache = join(dir, '.compile-cache');
    enableCompileCache(cache);
    // Worker threads do not inherit the compile cache, but enable it at start-up from this
    // variable: without it each worker compiled undici and the task code anew (~40 ms).
    process.env['NODE_COMPILE_CACHE'] = cache;
  } catch {
    // a cache that cannot be written only costs start-up time
  }
  const cli = createRequire(join(dir, 'cli.js'))(join(dir, 'cli.js')) as {
    main(argv: readonly string[], early: readonly NodeJS.Signals[]): Promise<number>;
  };
  // main() puts its own listeners in place before it first awaits; only then is hold taken
  // off. The other way round, the signals had no listener for a moment, Node stopped
  // watching them, and one that came during the synchronous load above was lost.
  const code = cli.main(process.argv.slice(2), early);
  process.off('SIGINT', hold).off('SIGTERM', hold).off('SIGHUP', hold);
  void code.then((exit) => {
    process.exitCode = exit;
  });
}

start();
