/**
 * download-csv over HTTPS against a real HTTP/2 server on 127.0.0.1 (node:http2, HTTP/1.1
 * allowed), its self-signed certificate trusted through NODE_EXTRA_CA_CERTS as a private
 * CA's would be: the HTTP version each flag gets, and the flow-control windows crew asks for
 * over HTTP/2 as the server saw them.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCertificates } from '../helpers/certificates.ts';
import { runCrew } from '../helpers/cli.ts';
import { PNG, startImageServer, type ImageServer } from '../helpers/image-server.ts';

/** What the server saw of one request. */
interface Seen {
  readonly version: string;
  /** The client's SETTINGS_INITIAL_WINDOW_SIZE (HTTP/2 only). */
  readonly streamWindow?: number | undefined;
  /** What the client lets the server send on the connection before it reads (HTTP/2). */
  readonly connectionWindow?: number | undefined;
}

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
let certs: string;
let server: Http2SecureServer;
let origin: string;
let plain: ImageServer;
const seen: Seen[] = [];
let dir: string;

beforeAll(async () => {
  certs = await mkdtemp(join(tmpdir(), 'crew-tls-'));
  // Its self-signed certificate, trusted as a private CA would be.
  makeCertificates(certs);
  server = createSecureServer(
    {
      key: await readFile(join(certs, 'self-signed.key')),
      cert: await readFile(join(certs, 'self-signed.crt')),
      allowHTTP1: true,
    },
    (req, res) => {
      const session = req.stream?.session;
      seen.push({
        version: req.httpVersion,
        streamWindow: session?.remoteSettings.initialWindowSize,
        connectionWindow: session?.state.remoteWindowSize,
      });
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
      res.end(PNG);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  plain = await startImageServer();
});

afterAll(async () => {
  server.close();
  await plain.close();
  await rm(certs, { recursive: true, force: true });
});

beforeEach(async () => {
  seen.length = 0;
  dir = await mkdtemp(join(tmpdir(), 'crew-http-version-'));
  return () => rm(dir, { recursive: true, force: true });
});

/** Rows a, b and c; `path` makes each one's URL path on `base`. */
async function download(
  base: string,
  args: string[] = [],
  path = (name: string) => `/${name}.png`,
) {
  const csv = ['a', 'b', 'c'].map((name) => `${name},${base}${path(name)}`).join('\n');
  await writeFile(join(dir, 'list.csv'), `${csv}\n`);
  return runCrew(['download-csv', 'list.csv', '--quiet', ...args], {
    cwd: dir,
    env: { ...env, NODE_EXTRA_CA_CERTS: join(certs, 'self-signed.crt') },
  });
}

describe('download-csv --http1.1 / --http2', () => {
  it('uses HTTP/2 by default where the server chooses it, with windows for long fat pipes', async () => {
    const run = await download(origin);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await readFile(join(dir, 'images', 'b.png'))).toEqual(PNG);
    expect(seen).toHaveLength(3);
    for (const request of seen) {
      expect(request.version).toBe('2.0');
      // 8 MiB a stream and 32 MiB a connection; undici's own are 256 and 512 KiB.
      expect(request.streamWindow).toBe(8 * 1024 * 1024);
      expect(request.connectionWindow).toBeGreaterThanOrEqual(31 * 1024 * 1024);
    }
  });

  it('--http1.1 offers HTTP/1.1 alone', async () => {
    const run = await download(origin, ['--http1.1']);
    expect(run.code).toBe(0);
    expect(seen.map((s) => s.version)).toEqual(['1.1', '1.1', '1.1']);
  });

  it('--http2 asks for HTTP/2', async () => {
    const run = await download(origin, ['--http2']);
    expect(run.code).toBe(0);
    expect(seen.map((s) => s.version)).toEqual(['2.0', '2.0', '2.0']);
  });

  it('--http2 against a plain http:// server stays on HTTP/1.1 and works', async () => {
    const run = await download(plain.url, ['--http2'], (name) => `/png?${name}`);
    expect(run.code).toBe(0);
    expect(await readFile(join(dir, 'images', 'c.png'))).toEqual(PNG);
  });

  it('refuses both at once as a usage error', async () => {
    const run = await download(origin, ['--http1.1', '--http2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/http1\.1 and http2 are mutually exclusive/);
    expect(seen).toEqual([]);
  });
});
