/**
 * download-csv against hostile servers on 127.0.0.1: host A and a "host B" on another port
 * (another origin). Credentials must not follow a redirect to B, --per-host is counted in
 * open sockets on the server, a 429 slows the whole run, a trickle ends, huge values are cut.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCrew } from '../helpers/cli.ts';
import { PNG } from '../helpers/image-server.ts';

interface Hit {
  readonly path: string;
  readonly at: number;
  readonly headers: IncomingHttpHeaders;
}

/** A server that records every request and its open sockets at most. */
interface Host {
  readonly url: string;
  readonly hits: Hit[];
  /** Open sockets now and at most since `reset`. */
  readonly sockets: { open: number; max: number };
  reset(): Promise<void>;
  close(): Promise<void>;
}

type Handler = (path: string, req: Hit, res: ServerResponse) => void;

async function startHost(handle: Handler): Promise<Host> {
  const hits: Hit[] = [];
  const sockets = { open: 0, max: 0 };
  const server: Server = createServer((req, res) => {
    const hit = { path: req.url ?? '/', at: Date.now(), headers: req.headers };
    hits.push(hit);
    handle(hit.path, hit, res);
  });
  server.on('connection', (socket) => {
    sockets.open++;
    sockets.max = Math.max(sockets.max, sockets.open);
    socket.on('close', () => sockets.open--);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    sockets,
    reset: async () => {
      hits.length = 0;
      server.closeAllConnections();
      while (sockets.open > 0) await sleep(10);
      sockets.max = 0;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const png = (res: ServerResponse, tail = ''): void => {
  const body = Buffer.concat([PNG, Buffer.from(tail)]);
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
  res.end(body);
};

let a: Host;
let b: Host;
let dir: string;
let slowDownsSent: number[] = [];
const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
const basic = `Basic ${Buffer.from('ann:s3cret').toString('base64')}`;

beforeAll(async () => {
  b = await startHost((path, _hit, res) => png(res, path));
  a = await startHost((path, hit, res) => {
    if (path.startsWith('/to-b/')) return res.writeHead(302, { location: `${b.url}/b` }).end();
    if (path === '/to-a-again') return res.writeHead(302, { location: '/same' }).end();
    if (path === '/to-metadata') {
      return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    }
    if (path === '/private') {
      if (hit.headers.authorization !== basic) return res.writeHead(401).end('who are you');
      return png(res, 'private');
    }
    if (path.startsWith('/hold/')) return void setTimeout(() => png(res, path), 100);
    if (path.startsWith('/busy/')) {
      // The first request is told to wait a second; everything after is served.
      if (slowDownsSent.length > 0) return void setTimeout(() => png(res, path), 50);
      slowDownsSent.push(Date.now());
      return res.writeHead(429, { 'retry-after': '1' }).end('slow down');
    }
    if (path.startsWith('/always-429/')) {
      slowDownsSent.push(Date.now());
      return res.writeHead(429, { 'retry-after': '0' }).end('slow down');
    }
    if (path === '/trickle') {
      // 1 byte every 100 ms: each byte resets a stall timer, only a deadline ends it.
      const body = Buffer.concat([PNG, Buffer.alloc(300)]);
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= body.length) return clearInterval(timer);
        res.write(body.subarray(sent, ++sent));
      }, 100);
      return;
    }
    if (path === '/gzip') {
      const body = gzipSync(PNG);
      res.writeHead(200, {
        'content-type': 'image/png',
        'content-encoding': 'gzip',
        'content-length': body.length,
      });
      return res.end(body);
    }
    png(res, path);
  });
});
afterAll(async () => {
  await a.close();
  await b.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-network-'));
  await a.reset();
  await b.reset();
  slowDownsSent = [];
  return () => rm(dir, { recursive: true, force: true });
});

async function download(csv: string, args: string[] = []) {
  await writeFile(join(dir, 'list.csv'), csv);
  return runCrew(['download-csv', 'list.csv', '--backoff', '0.05', '--timeout', '5', ...args], {
    cwd: dir,
    env,
  });
}
const manifestText = (): Promise<string> =>
  readFile(join(dir, 'images', 'crew-manifest.jsonl'), 'utf8');
const lines = async (): Promise<{ row: number; url: string; name: string; error: string }[]> =>
  (await manifestText())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { row: number; url: string; name: string; error: string })
    .sort((x, y) => x.row - y.row);

describe('download-csv credentials', () => {
  const secrets = ['-H', 'Authorization: Bearer t0ken', '-H', 'Cookie: session=c00kie'];

  it('drops Authorization and Cookie when a redirect leaves the origin, keeps them on it', async () => {
    const run = await download(`x,${a.url}/to-b/1\ny,${a.url}/same\n`, secrets);
    expect(run.code).toBe(0);
    expect(a.hits.every((h) => h.headers.authorization === 'Bearer t0ken')).toBe(true);
    expect(a.hits.every((h) => h.headers.cookie === 'session=c00kie')).toBe(true);
    expect(b.hits).toHaveLength(1);
    expect(b.hits[0]!.headers.authorization).toBeUndefined();
    expect(b.hits[0]!.headers.cookie).toBeUndefined();
    expect(b.hits[0]!.headers['user-agent']).toMatch(/Mozilla/);
  });

  it('sends them on with --location-trusted', async () => {
    const run = await download(`x,${a.url}/to-b/1\n`, [...secrets, '--location-trusted']);
    expect(run.code).toBe(0);
    expect(b.hits[0]!.headers.authorization).toBe('Bearer t0ken');
    expect(b.hits[0]!.headers.cookie).toBe('session=c00kie');
  });

  it('uses user:pass@ as Basic auth on its origin only, and never writes the password', async () => {
    const u = a.url.replace('http://', 'http://ann:s3cret@');
    const run = await download(`ok,${u}/private\naway,${u}/to-b/2\nother,${u}/other\n`, ['--json']);
    const missing = a.hits.find((h) => h.path === '/other');
    expect(a.hits.find((h) => h.path === '/private')!.headers.authorization).toBe(basic);
    expect(missing!.headers.authorization).toBe(basic);
    expect(b.hits).toHaveLength(1);
    expect(b.hits[0]!.headers.authorization).toBeUndefined();
    expect(run.code).toBe(0);
    const manifest = await manifestText();
    expect(manifest).not.toContain('s3cret');
    expect(run.stdout + run.stderr).not.toContain('s3cret');
    expect((await lines())[0]!.url).toBe(`${a.url.replace('http://', 'http://ann:***@')}/private`);
    // A re-run finds the rows done by their recorded (redacted) URL.
    const again = await download(`ok,${u}/private\naway,${u}/to-b/2\nother,${u}/other\n`, [
      '--json',
    ]);
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: 3 });
  });

  it('prints no password in the text summary of a failed row', async () => {
    const u = a.url.replace('http://', 'http://ann:s3cret@');
    const run = await download(`x,${u}/to-metadata\n`);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('ann:***@');
    expect(run.stdout + run.stderr + (await manifestText())).not.toContain('s3cret');
  });
});

describe('download-csv --per-host', () => {
  const rows = (n: number): string =>
    Array.from({ length: n }, (_, i) => `r${i},${a.url}/hold/${i}`).join('\n');

  it.each([
    [1, 4],
    [3, 2],
  ])('--per-host %i with %i workers opens that many sockets at most', async (perHost, workers) => {
    const run = await download(rows(12), [
      '--json',
      '--per-host',
      String(perHost),
      '-w',
      String(workers),
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: 12 });
    expect(a.sockets.max).toBeLessThanOrEqual(perHost);
    expect(a.sockets.max).toBeGreaterThan(0);
  });

  it('a 429 with Retry-After holds back every request to that host, then all finish', async () => {
    const csv = Array.from({ length: 12 }, (_, i) => `r${i},${a.url}/busy/${i}`).join('\n');
    // One at a time, in two workers: nothing else is on its way when the 429 goes out.
    const run = await download(csv, ['--json', '--per-host', '1', '-w', '2']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: 12 });
    const sent = slowDownsSent[0]!;
    const during = a.hits.filter((h) => h.at > sent && h.at < sent + 950);
    expect(during).toEqual([]);
    expect(a.hits.length).toBe(13);
  });

  it('a host that keeps answering 429 gets a few requests, not retries times every row', async () => {
    const csv = Array.from({ length: 20 }, (_, i) => `r${i},${a.url}/always-429/${i}`).join('\n');
    const run = await download(csv, ['--json', '--per-host', '4', '--retries', '2']);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as { failed: number; failures: { error: string }[] };
    expect(summary.failed).toBe(20);
    expect(summary.failures.every((f) => f.error.startsWith('HTTP 429'))).toBe(true);
    expect(summary.failures.some((f) => /asked to slow down 3 times in a row/.test(f.error))).toBe(
      true,
    );
    // The first 4 in flight, then one probe per back-off: 4 + 2.
    expect(a.hits.length).toBeLessThanOrEqual(6);
  });
});

/** A port on 127.0.0.1 that nothing listens on: every connection to it is refused. */
async function closedPort(): Promise<number> {
  const server = createTcpServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('download-csv dead hosts', () => {
  it('gives up on a host that refuses every connection; the other host is not held back', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const csv = Array.from({ length: 120 }, (_, i) =>
      i % 10 === 0 ? `ok${i},${a.url}/img/${i}.png` : `dead${i},${dead}/img/${i}.png`,
    ).join('\n');
    // The default retries: before, each dead row slept through three back-offs.
    const run = await download(csv, ['--json']);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as {
      ok: number;
      failed: number;
      failures: { error: string; count: number }[];
    };
    expect(summary.ok).toBe(12);
    expect(summary.failed).toBe(108);
    const rows = await lines();
    expect(rows.length).toBe(120);
    const dead_ = rows.filter((r) => r.url.startsWith(dead));
    expect(dead_.every((r) => r.error.startsWith('connection refused'))).toBe(true);
    // Most were never sent: far fewer connections than 108 rows x 4 attempts.
    const unsent = dead_.filter((r) =>
      r.error.endsWith('connections in a row failed; gave up on the host for 30 s'),
    );
    expect(unsent.length).toBeGreaterThan(108 - 24);
    expect(a.hits.length).toBe(12);
  });
});

describe('download-csv limits', () => {
  it('--max-time ends a body that trickles in, however steadily', async () => {
    const started = Date.now();
    const run = await download(`x,${a.url}/trickle\n`, ['--json', '--max-time', '2']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      failures: [{ error: 'took longer than --max-time (2 s)' }],
    });
    expect(Date.now() - started).toBeLessThan(20_000); // the whole body would take 37 s
    expect(a.hits).toHaveLength(1); // not retried: a trickle does not get faster
  });

  it('fails a URL over 8 KB without a request, and caps what it prints and stores', async () => {
    const long = `${a.url}/img/${'a'.repeat(20_000)}`;
    const name = 'n'.repeat(100_000);
    const run = await download(`${name},${long}\nshort,${a.url}/fine\n`);
    expect(run.code).toBe(1);
    expect(a.hits.map((h) => h.path)).toEqual(['/fine']);
    expect(run.stdout).toContain('URL longer than 8192 bytes: 1 row');
    expect(run.stdout.length).toBeLessThan(2000);
    const [first] = await lines();
    expect(first!.error).toBe('URL longer than 8192 bytes');
    expect(first!.url.length).toBeLessThan(8300);
    expect(first!.name.length).toBeLessThan(1100);
  });

  it('refuses a redirect to a link-local (cloud metadata) address', async () => {
    const run = await download(`x,${a.url}/to-metadata\n`, ['--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      failures: [{ error: 'redirect to a link-local address (169.254.169.254) refused' }],
    });
  });

  it('fails a body declared over --max-bytes, and the rest of the run goes on', async () => {
    const run = await download(`x,${a.url}/img/big\ny,${a.url}/img/b\n`, [
      '--json',
      '--max-bytes',
      '10',
    ]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ failed: 2 });
    expect((await lines()).map((l) => l.error)).toEqual([
      `too big: ${PNG.length + '/img/big'.length} bytes (limit 10)`,
      `too big: ${PNG.length + '/img/b'.length} bytes (limit 10)`,
    ]);
  });

  it('does not save a gzip-encoded body as if it were the image', async () => {
    const run = await download(`x,${a.url}/gzip\n`, ['--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      failures: [{ error: 'compressed body (Content-Encoding: gzip) not saved' }],
    });
  });
});
