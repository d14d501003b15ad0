/**
 * download-csv --cacert against an HTTPS server on 127.0.0.1 whose certificate a private CA
 * (made by the test) signed: untrusted without the flag, trusted with it in worker threads
 * and processes, and for robots.txt; a file that is not a CA is a usage error naming it.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makePrivateCa } from '../helpers/certificates.ts';
import { runCrew } from '../helpers/cli.ts';
import { PNG } from '../helpers/image-server.ts';

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
let certs: string;
let server: Server;
let origin: string;
let dir: string;

beforeAll(async () => {
  certs = await mkdtemp(join(tmpdir(), 'crew-ca-'));
  makePrivateCa(certs);
  server = createServer(
    {
      key: await readFile(join(certs, 'server.key')),
      cert: await readFile(join(certs, 'server.crt')),
    },
    (req, res) => {
      if (req.url === '/robots.txt') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('User-agent: *\nDisallow: /b.png\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
      res.end(PNG);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await rm(certs, { recursive: true, force: true });
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-cacert-'));
  await writeFile(join(dir, 'list.csv'), `a,${origin}/a.png\nb,${origin}/b.png\n`);
  return () => rm(dir, { recursive: true, force: true });
});

const download = (args: string[] = []) =>
  runCrew(['download-csv', 'list.csv', '--json', ...args], { cwd: dir, env });

describe('download-csv --cacert', () => {
  it('fails rows whose certificate no trusted CA signed, without the flag', async () => {
    const run = await download();
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as { failures: { error: string }[] };
    expect(result.failures.map((f) => f.error)).toEqual([
      'TLS error (UNABLE_TO_VERIFY_LEAF_SIGNATURE): no CA crew trusts signed it (--cacert adds one)',
      'TLS error (UNABLE_TO_VERIFY_LEAF_SIGNATURE): no CA crew trusts signed it (--cacert adds one)',
    ]);
  });

  it.each(['thread', 'process', 'inline'])(
    'trusts the CA it names in %s workers, besides the system CAs',
    async (runtime) => {
      const run = await download(['--cacert', join(certs, 'ca.crt'), '--runtime', runtime]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: 2, failed: 0 });
      expect(await readFile(join(dir, 'images', 'b.png'))).toEqual(PNG);
    },
  );

  it('reads robots.txt through the CA it names too (--robots-txt)', async () => {
    const run = await download(['--cacert', join(certs, 'ca.crt'), '--robots-txt']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: 1, failed: 0, optedOut: 1 });
  });

  it.each([
    ['missing.pem', /--cacert missing\.pem: .*no such file/i],
    ['list.csv', /--cacert list\.csv: holds no PEM certificate/],
    ['broken.pem', /--cacert broken\.pem: certificate 1 is not a valid PEM certificate/],
    ['big.pem', /--cacert big\.pem: holds more than 64 KiB/],
  ])('refuses %s as a usage error naming it, before any request', async (file, message) => {
    await writeFile(
      join(dir, 'broken.pem'),
      '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
    );
    await writeFile(
      join(dir, 'big.pem'),
      `${(await readFile(join(certs, 'ca.crt'), 'utf8')).repeat(200)}`,
    );
    const run = await download(['--cacert', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('prints a hostile file name escaped', async () => {
    const run = await download(['--cacert', 'evil\u001b[31m.pem']);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('\u001b');
  });
});
