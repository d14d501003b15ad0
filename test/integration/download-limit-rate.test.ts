/**
 * download-csv --limit-rate against a server on 127.0.0.1 that would send 2 MiB in a few
 * milliseconds: at 1M a second the run cannot take less than about 2 s, one worker or two
 * sharing the rate. A lower bound only: how fast it goes otherwise is the benchmarks' job.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCrew } from '../helpers/cli.ts';
import { PNG } from '../helpers/image-server.ts';

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
const MiB = 1024 * 1024;
let server: Server;
let origin: string;
/** When the server saw the run's first request. */
let firstRequest: number | undefined;
let dir: string;

/** A PNG signature and header, then zeros: `bytes` long in all. */
const image = (bytes: number): Buffer => Buffer.concat([PNG, Buffer.alloc(bytes - PNG.length)]);
const bodies: Record<string, Buffer> = { '/2m.png': image(2 * MiB), '/1m.png': image(MiB) };

beforeAll(async () => {
  server = createServer((req, res) => {
    firstRequest ??= performance.now();
    const body = bodies[(req.url ?? '').replace(/\?.*/, '')];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => void server.close());

beforeEach(async () => {
  firstRequest = undefined;
  dir = await mkdtemp(join(tmpdir(), 'crew-limit-rate-'));
  return () => rm(dir, { recursive: true, force: true });
});

describe('download-csv --limit-rate', () => {
  it.each([
    ['one worker, one 2 MiB body', ['-w', '1'], ['a,/2m.png']],
    ['two workers sharing the rate, 2 x 1 MiB', ['-w', '2'], ['a,/1m.png?a', 'b,/1m.png?b']],
  ])('holds 2 MiB at 1M a second to ~2 s: %s', async (_, args, rows) => {
    const csv = rows.map((row) => row.replace(',', `,${origin}`)).join('\n');
    await writeFile(join(dir, 'list.csv'), `${csv}\n`);
    const run = await runCrew(['download-csv', 'list.csv', '--limit-rate', '1M', ...args], {
      cwd: dir,
      env,
    });
    const took = performance.now() - firstRequest!;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // 2 MiB at 1 MiB/s is 2 s; a burst of 100 ms (a worker's share) may go at once.
    expect(took).toBeGreaterThanOrEqual(1500);
    const saved = await readFile(join(dir, 'images', rows.length === 1 ? 'a.png' : 'b.png'));
    expect(saved.length).toBe(rows.length === 1 ? 2 * MiB : MiB);
  });

  it('refuses a rate that is not a size, as a usage error', async () => {
    await writeFile(join(dir, 'list.csv'), `a,${origin}/1m.png\n`);
    const run = await runCrew(['download-csv', 'list.csv', '--limit-rate', 'fast'], {
      cwd: dir,
      env,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--limit-rate must be a size such as 500K or 2M/);
    expect(firstRequest).toBeUndefined();
  });
});
