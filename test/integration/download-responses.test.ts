/**
 * download-csv against answers a well-behaved server never gives, from a raw socket on
 * 127.0.0.1: an interim 100 nobody asked for, bodies that are not images whatever their
 * Content-Type says, a Content-Encoding sent twice, headers too big to read, and TLS
 * certificates that cannot be trusted. What can never succeed fails at once, with a reason.
 */
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCertificates } from '../helpers/certificates.ts';
import { runCrew } from '../helpers/cli.ts';
import { PNG } from '../helpers/image-server.ts';
import { rawResponse, startRawServer, type RawServer } from '../helpers/raw-server.ts';

interface Line {
  readonly row: number;
  readonly url: string;
  readonly status: string;
  readonly file: string | null;
  readonly http: number | null;
  readonly bytes: number;
  readonly attempts: number;
  readonly error: string | null;
}

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
const png = (): Buffer =>
  rawResponse('200 OK', [
    ['Content-Type', 'image/png'],
    ['Content-Length', PNG.length],
  ]);

let raw: RawServer;
let dir: string;

beforeAll(async () => {
  raw = await startRawServer((path) => {
    if (path.startsWith('/continue/')) {
      // An interim 100 Continue that no Expect asked for, then the real answer.
      return Buffer.concat([Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'), png(), PNG]);
    }
    if (path === '/empty') {
      return rawResponse('200 OK', [
        ['Content-Type', 'image/png'],
        ['Content-Length', 0],
      ]);
    }
    if (path === '/encoded-twice') {
      const gzipped = gzipSync(PNG);
      return rawResponse(
        '200 OK',
        [
          ['Content-Type', 'image/png'],
          ['Content-Encoding', 'identity'],
          ['Content-Encoding', 'gzip'],
          ['Content-Length', gzipped.length],
        ],
        gzipped,
      );
    }
    if (path === '/bom-html') {
      const page = Buffer.from('\ufeff<!DOCTYPE html><html><body>Not found</body></html>');
      return rawResponse(
        '200 OK',
        [
          ['Content-Type', 'image/png'],
          ['Content-Length', page.length],
        ],
        page,
      );
    }
    if (path === '/huge-headers') {
      // 64 KiB of headers: past what undici reads, on every attempt alike.
      const many = Array.from(
        { length: 64 },
        (_, i) => [`X-Filler-${i}`, 'x'.repeat(1024)] as const,
      );
      return rawResponse('200 OK', [...many, ['Content-Length', 0]]);
    }
    return rawResponse('404 Not Found', [['Content-Length', 0]]);
  });
});
afterAll(() => raw.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-responses-'));
  raw.requests.length = 0;
  return () => rm(dir, { recursive: true, force: true });
});

async function download(csv: string, args: readonly string[] = []) {
  await writeFile(join(dir, 'list.csv'), csv);
  return runCrew(['download-csv', 'list.csv', '--backoff', '0.05', '--json', ...args], {
    cwd: dir,
    env,
  });
}

async function lines(): Promise<Line[]> {
  const text = await readFile(join(dir, 'images', 'crew-manifest.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line)
    .sort((x, y) => x.row - y.row);
}

describe('download-csv and interim responses', () => {
  it('passes over a 100 Continue nobody asked for, and keeps the connection', async () => {
    // One connection for both: the second request goes out on the socket the first used.
    const before = raw.connections();
    const run = await download(`a,${raw.url}/continue/a\nb,${raw.url}/continue/b\n`, [
      '--per-host',
      '1',
      '-w',
      '1',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: 2, failed: 0 });
    expect((await lines()).map((l) => [l.status, l.http, l.attempts])).toEqual([
      ['ok', 200, 1],
      ['ok', 200, 1],
    ]);
    expect(await readFile(join(dir, 'images', 'a.png'))).toEqual(PNG);
    expect(raw.requests).toEqual(['/continue/a', '/continue/b']);
    expect(raw.connections() - before).toBe(1);
  });
});

describe('download-csv and bodies that are not images', () => {
  it('fails a 0-byte body, a body encoded twice and a BOM-led HTML page, all sent as PNG', async () => {
    const csv = `empty,${raw.url}/empty\ntwice,${raw.url}/encoded-twice\nbom,${raw.url}/bom-html\n`;
    const run = await download(csv);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: 0, failed: 3 });
    expect((await lines()).map((l) => [l.status, l.error, l.attempts])).toEqual([
      ['failed', 'not an image: an empty body (sent as image/png)', 1],
      ['failed', 'compressed body (Content-Encoding: gzip) not saved', 1],
      ['failed', 'not an image: text/html (sent as image/png)', 1],
    ]);
    // Nothing was kept under an image's name, and no temp file is left.
    expect(await readdir(join(dir, 'images'))).toEqual(['crew-manifest.jsonl']);
  });

  it('keeps them with --any-type, but never a body still compressed', async () => {
    const csv = `empty,${raw.url}/empty\ntwice,${raw.url}/encoded-twice\nbom,${raw.url}/bom-html\n`;
    const run = await download(csv, ['--any-type']);
    expect(run.code).toBe(1);
    expect((await lines()).map((l) => [l.status, l.file])).toEqual([
      ['ok', 'empty.png'],
      ['failed', null],
      ['ok', 'bom.html'],
    ]);
  });
});

describe('download-csv and failures no attempt can get past', () => {
  it('fails headers too big to read at once, without retrying', async () => {
    const run = await download(`big,${raw.url}/huge-headers\n`, ['--retries', '3']);
    expect(run.code).toBe(1);
    expect((await lines()).map((l) => [l.error, l.attempts])).toEqual([
      ['response headers too big', 1],
    ]);
    expect(raw.requests).toEqual(['/huge-headers']);
  });

  let keys: string;
  beforeAll(async () => {
    keys = await mkdtemp(join(tmpdir(), 'crew-keys-'));
    makeCertificates(keys);
    return () => rm(keys, { recursive: true, force: true });
  });

  /** An HTTPS server on 127.0.0.1 with the certificate `name`, counting its connections. */
  async function httpsServer(name: string) {
    const server: HttpsServer = createHttpsServer(
      {
        key: await readFile(join(keys, `${name}.key`)),
        cert: await readFile(join(keys, `${name}.crt`)),
      },
      (_, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG),
    );
    let connections = 0;
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return {
      url: `https://127.0.0.1:${port}`,
      connections: () => connections,
      close: async () => {
        server.closeAllConnections();
        server.close();
        await once(server, 'close');
      },
    };
  }

  it.each([
    ['self-signed', 'TLS error (DEPTH_ZERO_SELF_SIGNED_CERT)'],
    ['expired', 'TLS error (CERT_HAS_EXPIRED)'],
  ])('fails at once, without retrying, on a certificate that is %s', async (name, error) => {
    const server = await httpsServer(name);
    try {
      const run = await download(`a,${server.url}/a.png\n`, ['--retries', '3']);
      expect(run.code).toBe(1);
      expect((await lines()).map((l) => [l.error, l.attempts])).toEqual([[error, 1]]);
      expect(server.connections()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
