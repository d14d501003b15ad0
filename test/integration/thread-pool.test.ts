import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadPoolSize } from '../../src/pool/runtime.ts';
import { collect, spawnCrew, untilCatches } from '../helpers/cli.ts';

// A server that takes requests and never answers: the run is then surely under way (its
// list read, its worker fetching) while the test looks at its threads.
let server: Server;
let url: string;
let arrived: () => Promise<void>;
let dir: string;
beforeAll(async () => {
  let notify = (): void => undefined;
  arrived = () => new Promise<void>((resolve) => (notify = resolve));
  server = createServer(() => notify());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'crew-uv-'));
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

/** The threads of libuv's pool in process `pid`, by the name libuv gives them. */
const poolThreads = (pid: number): number =>
  readdirSync(`/proc/${pid}/task`).filter(
    (task) => readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim() === 'libuv-worker',
  ).length;

async function threadsOfARun(env: Record<string, string | undefined>): Promise<number> {
  const list = join(dir, 'list.csv');
  await writeFile(list, `${url}/a.png\n${url}/b.png\n`);
  const request = arrived();
  const crew = spawnCrew(['download-csv', list, '-o', join(dir, 'out'), '--retries', '0'], {
    env,
  });
  const done = collect(crew);
  await request;
  const threads = poolThreads(crew.pid!);
  await untilCatches(crew.pid!, 'SIGINT');
  crew.kill('SIGINT');
  expect((await done).code).toBe(130);
  await rm(join(dir, 'out'), { recursive: true, force: true });
  return threads;
}

describe("libuv's thread pool", () => {
  // sharp's images, file writes and DNS lookups of every worker thread share it: 4 threads
  // (libuv's default) let a download on 16 cores resize only 4 images at once.
  it('has the cores and three more threads, whatever the cores', async () => {
    expect(await threadsOfARun({ UV_THREADPOOL_SIZE: undefined })).toBe(
      threadPoolSize(availableParallelism()),
    );
  });

  it('keeps the size the user set', async () => {
    expect(await threadsOfARun({ UV_THREADPOOL_SIZE: '2' })).toBe(2);
  });
});
