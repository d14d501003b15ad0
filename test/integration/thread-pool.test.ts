import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadPoolSize } from '../../src/pool/runtime.ts';
import { collect, spawnCrew, untilCatches } from '../helpers/cli.ts';
import { startRawServer, type RawServer } from '../helpers/raw-server.ts';

// A server that takes requests and never answers: the run is then surely under way (its
// list read, its worker fetching) while the test looks at its threads.
let server: RawServer;
let dir: string;
beforeAll(async () => {
  server = await startRawServer(() => Buffer.alloc(0));
  dir = await mkdtemp(join(tmpdir(), 'crew-uv-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** The threads of libuv's pool in process `pid`, by the name libuv gives them. */
const poolThreads = (pid: number): number =>
  readdirSync(`/proc/${pid}/task`).filter(
    (task) => readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim() === 'libuv-worker',
  ).length;

async function threadsOfARun(env: Record<string, string | undefined>): Promise<number> {
  const list = join(dir, 'list.csv');
  await writeFile(list, `${server.url}/a.png\n${server.url}/b.png\n`);
  const asked = server.requests.length;
  const crew = spawnCrew(['download-csv', list, '-o', join(dir, 'out'), '--retries', '0'], {
    env,
  });
  const done = collect(crew);
  while (server.requests.length === asked) await sleep(20);
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
  it('has the cores and four more threads, whatever the cores', async () => {
    expect(await threadsOfARun({ UV_THREADPOOL_SIZE: undefined })).toBe(
      threadPoolSize(availableParallelism()),
    );
  });

  it('keeps the size the user set', async () => {
    expect(await threadsOfARun({ UV_THREADPOOL_SIZE: '2' })).toBe(2);
  });
});
