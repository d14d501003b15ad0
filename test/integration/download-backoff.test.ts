/**
 * download-csv with rows waiting out a back-off: they must not hold the places in flight.
 * Half the rows go to a flaky host that answers 503 (the host's back-off) or 500 (each
 * row's own) until the healthy host has served all of its rows, then 200. With few places
 * in flight, the flaky rows asleep used to fill them: the healthy rows behind them were not
 * even read, the flaky host never came back, and its rows failed.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST } from '../../src/download/manifest.ts';
import { runCrew } from '../helpers/cli.ts';
import { PNG } from '../helpers/image-server.ts';

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
const ROWS = 40;
let dir: string;
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const png = (res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
  res.end(PNG);
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-backoff-'));
});

afterEach(async () => {
  for (const server of servers.splice(0)) server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('download-csv rows waiting out a back-off', () => {
  it.each([
    [503, "the host's back-off"],
    [500, "each row's own back-off"],
  ])('do not stall the healthy host (flaky host answers %i: %s)', async (status) => {
    let served = 0;
    const healthy = await listen(createServer((_, res) => (served++, png(res))));
    const flaky = await listen(
      createServer((_, res) => {
        if (served >= ROWS) return png(res);
        res.writeHead(status, { 'retry-after': '1', 'content-length': '4' }).end('busy');
      }),
    );
    const rows = Array.from({ length: ROWS }, (_, i) => [
      `flaky${i},${flaky}/${i}.png`,
      `healthy${i},${healthy}/${i}.png`,
    ]).flat();
    await writeFile(join(dir, 'list.csv'), `${rows.join('\n')}\n`);
    // 16 rows in flight at most (-c 2), far fewer than the flaky rows.
    const run = await runCrew(
      ['download-csv', 'list.csv', '-w', '1', '-c', '2', '--retries', '3', '--backoff', '1'],
      { cwd: dir, env, timeoutMs: 40_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const names = (await readFile(join(dir, 'images', MANIFEST), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { file: string }).file);
    expect(names).toHaveLength(2 * ROWS);
    // Every healthy row finished before the first flaky one.
    const lastHealthy = Math.max(...names.map((n, i) => (n.startsWith('healthy') ? i : -1)));
    const firstFlaky = names.findIndex((n) => n.startsWith('flaky'));
    expect(lastHealthy).toBeLessThan(firstFlaky);
  });
});
