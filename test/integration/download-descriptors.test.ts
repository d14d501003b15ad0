/**
 * download-csv with fewer file descriptors than it asks to use: `-c 100` under `ulimit -n
 * 64`. Every row used to fail for good with EMFILE, each naming its own temp file; now what
 * is in flight falls until the descriptors suffice, and every row is downloaded.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, crewCommand } from '../helpers/cli.ts';
import { PNG } from '../helpers/image-server.ts';

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  // Each answer waits 50 ms, so that a hundred requests are in flight at once.
  server = createServer((req, res) => {
    const body = Buffer.concat([PNG, Buffer.from(req.url ?? '')]);
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
      res.end(body);
    }, 50);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'crew-descriptors-'));
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
  await rm(dir, { recursive: true, force: true });
});

/** Runs crew under `ulimit -n <limit>` (soft and hard), as a shell would. */
function crewWithDescriptors(limit: number, args: readonly string[]) {
  const [command, prefix] = crewCommand();
  const child = spawn(
    'sh',
    ['-c', `ulimit -n ${limit} && exec "$@"`, 'sh', command, ...prefix, ...args],
    { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env } },
  );
  return collect(child, { timeoutMs: 120_000 });
}

describe('download-csv out of file descriptors', () => {
  it('lowers what is in flight under ulimit -n 64 with -c 100, and downloads every row', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `r${i},${base}/img/${i}.png`);
    await writeFile(join(dir, 'list.csv'), `${rows.join('\n')}\n`);
    const args = ['download-csv', 'list.csv', '-c', '100', '--per-host', '100', '--json'];
    const run = await crewWithDescriptors(64, args);
    expect(run.stderr).not.toMatch(/EMFILE|too many open files/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 300, ok: 300, failed: 0 });
    const lines = (await readFile(join(dir, 'images', 'crew-manifest.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: string; file: string });
    expect(lines).toHaveLength(300);
    expect(lines.every((line) => line.status === 'ok')).toBe(true);
    const sample = await readFile(join(dir, 'images', 'r7.png'));
    expect(sample).toEqual(Buffer.concat([PNG, Buffer.from('/img/7.png')]));
  }, 150_000);
});
