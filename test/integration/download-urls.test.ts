/**
 * download-csv and the URLs of a CSV as users write them: credentials in every spelling
 * (an e-mail address as the user name, a bare token), which are sent but never written,
 * and one URL written in several ways, which is fetched once.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCrew } from '../helpers/cli.ts';
import { PNG } from '../helpers/image-server.ts';

interface Line {
  readonly row: number;
  readonly url: string;
  readonly status: string;
  readonly file: string | null;
  readonly error: string | null;
}

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
const basic = (pair: string): string => `Basic ${Buffer.from(pair).toString('base64')}`;

let server: Server;
let port: number;
/** Paths requested, in order, with the Authorization each carried. */
const requests: { path: string; authorization: string | undefined }[] = [];
let dir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, authorization: req.headers.authorization });
    const wanted: Record<string, string> = {
      '/mail': basic('me@example.com:hunter2'),
      '/token': basic('s3cr3tT0ken:'),
    };
    const expected = wanted[path.split('?')[0]!];
    if (expected !== undefined && req.headers.authorization !== expected) {
      return void res.writeHead(401).end('who are you');
    }
    if (path.startsWith('/missing')) return void res.writeHead(404).end('not here');
    const body = Buffer.concat([PNG, Buffer.from(path)]);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-urls-'));
  requests.length = 0;
  return () => rm(dir, { recursive: true, force: true });
});

async function download(csv: string, args: readonly string[] = []) {
  await writeFile(join(dir, 'list.csv'), csv);
  return runCrew(['download-csv', 'list.csv', '--backoff', '0.05', ...args], { cwd: dir, env });
}
const manifestText = (): Promise<string> =>
  readFile(join(dir, 'images', 'crew-manifest.jsonl'), 'utf8');
async function lines(): Promise<Line[]> {
  return (await manifestText())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line)
    .sort((x, y) => x.row - y.row);
}

describe('download-csv credentials in the URL', () => {
  it('sends an e-mail user name and its password as Basic auth, and never writes the password', async () => {
    const url = `http://me@example.com:hunter2@127.0.0.1:${port}/mail`;
    const csv = `ok,${url}\nlost,${url.replace('/mail', '/missing')}\n`;
    const run = await download(csv, ['--json']);
    expect(requests.find((r) => r.path === '/mail')?.authorization).toBe(
      basic('me@example.com:hunter2'),
    );
    expect(run.code).toBe(1);
    expect((await lines()).map((l) => [l.status, l.url])).toEqual([
      ['ok', `http://me@example.com:***@127.0.0.1:${port}/mail`],
      ['failed', `http://me@example.com:***@127.0.0.1:${port}/missing`],
    ]);
    expect(run.stdout).toContain(`http://me@example.com:***@127.0.0.1:${port}/missing`);
    expect(run.stdout + run.stderr + (await manifestText())).not.toContain('hunter2');
    // A re-run finds the finished row by its recorded URL, and tries the failed one again.
    const again = await download(csv, ['--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: 1, failed: 1 });
    expect(again.stdout + again.stderr + (await manifestText())).not.toContain('hunter2');
  });

  it('hides a user name that stands alone (a token) in the manifest and the summary', async () => {
    const token = `http://s3cr3tT0ken@127.0.0.1:${port}`;
    const run = await download(`ok,${token}/token\nlost,${token}/missing\n`);
    expect(requests.find((r) => r.path === '/token')?.authorization).toBe(basic('s3cr3tT0ken:'));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`http://***@127.0.0.1:${port}/missing`);
    expect((await lines()).map((l) => l.url)).toEqual([
      `http://***@127.0.0.1:${port}/token`,
      `http://***@127.0.0.1:${port}/missing`,
    ]);
    expect(run.stdout + run.stderr + (await manifestText())).not.toContain('s3cr3tT0ken');
    const again = await download(`ok,${token}/token\nlost,${token}/missing\n`, ['--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: 1, failed: 1 });
    expect(again.stdout).not.toContain('s3cr3tT0ken');
  });
});

describe('download-csv one fetch per URL', () => {
  it('fetches URLs written differently but the same once; the manifest keeps each as written', async () => {
    const written = [
      `http://127.0.0.1:${port}/same.png`,
      `HTTP://127.0.0.1:${port}/same.png`,
      `hTtP://127.0.0.1:${port}/x/../same.png#top`,
    ];
    const csv = written.map((url, i) => `r${i},${url}`).join('\n');
    const run = await download(csv, ['--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: 3, requests: 1 });
    expect(requests.map((r) => r.path)).toEqual(['/same.png']);
    const rows = await lines();
    expect(rows.map((l) => [l.url, l.file])).toEqual([
      [written[0], 'r0.png'],
      [written[1], 'r1.png'],
      [written[2], 'r2.png'],
    ]);
    // A re-run matches every row by the URL it wrote.
    const again = await download(csv, ['--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: 3, requests: 0 });
  });
});
