import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HELD_BYTES } from '../../../src/download/body-file.ts';
import { cannotSucceed, fetchOnce } from '../../../src/download/fetch.ts';
import { makeTempFolder } from '../../../src/download/store.ts';
import { downloadConfig, loopbackWithoutProxy } from '../../helpers/download-config.ts';
import { PNG, startImageServer, type ImageServer } from '../../helpers/image-server.ts';

const failure = (code: string | undefined, onCause = false): Error =>
  onCause
    ? new Error('fetch failed', { cause: Object.assign(new Error(code), { code }) })
    : Object.assign(new Error(code), { code });

describe('cannotSucceed', () => {
  it.each([
    ['CERT_HAS_EXPIRED', true],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', true],
    ['SELF_SIGNED_CERT_IN_CHAIN', true],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', true],
    ['ERR_TLS_CERT_ALTNAME_INVALID', true],
    ['UND_ERR_HEADERS_OVERFLOW', true],
    // Worth another attempt: the network, a handshake that took too long, a reset.
    ['ERR_TLS_HANDSHAKE_TIMEOUT', false],
    ['ECONNRESET', false],
    ['UND_ERR_SOCKET', false],
    ['UND_ERR_HEADERS_TIMEOUT', false],
    [undefined, false],
  ])('%s -> %s', (code, final) => {
    expect(cannotSucceed(failure(code))).toBe(final);
    expect(cannotSucceed(failure(code, true))).toBe(final);
  });
});

describe('fetchOnce with bodyInMemory', () => {
  let server: ImageServer;
  let out: string;
  beforeAll(async () => {
    loopbackWithoutProxy();
    server = await startImageServer();
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'crew-fetch-'));
    return () => rm(out, { recursive: true, force: true });
  });

  const fetchInto = async (path: string, tempFolder: string) => {
    const { fetch } = downloadConfig('-', out);
    const options = { ...fetch, maxBytes: 4 << 20, perHost: 4 };
    return fetchOnce({
      url: `${server.url}${path}`,
      tempFolder,
      bodyInMemory: true,
      headers: options.headers,
      visited: [],
      options,
    });
  };

  it('hands back a small body itself, in an ArrayBuffer of its own, and makes no file', async () => {
    const temp = await makeTempFolder(out, '0123456789abcdef');
    const result = await fetchInto('/img/small', temp);
    const served = Buffer.concat([PNG, Buffer.from('/img/small')]);
    expect(result).toMatchObject({ kind: 'ok', bytes: served.length });
    const body = (result as { body: Uint8Array }).body;
    expect(Buffer.from(body)).toEqual(served);
    expect(body.byteOffset).toBe(0);
    expect(body.buffer.byteLength).toBe(served.length);
    expect((result as { sha256: string }).sha256).toBe(
      createHash('sha256').update(served).digest('hex'),
    );
    expect(await readdir(temp)).toEqual([]);
  });

  it('leaves a body over HELD_BYTES in its temp file', async () => {
    const temp = await makeTempFolder(out, 'fedcba9876543210');
    const kib = HELD_BYTES / 1024 + 100;
    const result = await fetchInto(`/sized/${kib}/big`, temp);
    expect(result).toMatchObject({ kind: 'ok', bytes: kib * 1024 });
    expect(result).not.toHaveProperty('body');
    const file = (result as { temp: string }).temp;
    expect(await readdir(temp)).toEqual([basename(file)]);
    expect((await readFile(file)).length).toBe(kib * 1024);
  });
});
