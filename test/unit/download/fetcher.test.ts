import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Fetcher } from '../../../src/download/fetcher.ts';
import { downloadConfig, loopbackWithoutProxy } from '../../helpers/download-config.ts';
import { PNG, startImageServer, type ImageServer } from '../../helpers/image-server.ts';
import { localPools } from '../../helpers/pools.ts';

let server: ImageServer;
let dir: string;
let temp: string;
beforeAll(async () => {
  loopbackWithoutProxy();
  server = await startImageServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-fetcher-'));
  temp = join(dir, '.crew-aabbccdd');
  await mkdir(temp);
  server.hits.clear();
  return () => rm(dir, { recursive: true, force: true });
});

describe('Fetcher (inline runtime)', () => {
  const into = (name: string, ext: string | null = null, folder = dir) => ({
    tempFolder: temp,
    place: { folder, stem: name, ext },
  });

  it('downloads a body to the temp folder, gives it its final name, and counts requests', async () => {
    const fetcher = new Fetcher(downloadConfig('-', dir), localPools, new AbortController().signal);
    try {
      const outcome = await fetcher.fetch(`${server.url}/png`, into('a'));
      expect(outcome).toMatchObject({ ok: true, status: 200, bytes: PNG.length, ext: 'png' });
      expect(outcome).toMatchObject({ placed: 'a.png' });
      expect(await readFile(join(dir, 'a.png'))).toEqual(PNG);
      expect((await readdir(dir)).sort()).toEqual(['.crew-aabbccdd', 'a.png']);
      expect(await readdir(temp)).toEqual([]);
      expect(fetcher.requests).toBe(1);
      const forced = await fetcher.fetch(`${server.url}/png`, into('b', 'img'));
      expect(forced).toMatchObject({ ok: true, placed: 'b.img' });
      const unplaced = await fetcher.fetch(`${server.url}/png`, { tempFolder: temp, place: null });
      expect(unplaced).toMatchObject({ ok: true, ext: 'png' });
      const left = (unplaced as { temp: string }).temp;
      expect(left.startsWith(`${temp}/`)).toBe(true);
      expect(await readFile(left)).toEqual(PNG);
    } finally {
      await fetcher.destroy();
    }
  });

  it('never replaces what holds the name, and keeps a failed placement as a value', async () => {
    await mkdir(join(dir, 'e.png')); // a directory where the file should go
    const fetcher = new Fetcher(downloadConfig('-', dir), localPools, new AbortController().signal);
    try {
      const moved = await fetcher.fetch(`${server.url}/png`, into('e'));
      expect(moved).toMatchObject({ ok: true, placed: 'e-2.png' });
      const gone = join(dir, 'gone');
      const outcome = await fetcher.fetch(`${server.url}/png`, into('f', null, gone));
      expect(outcome).toMatchObject({ ok: true, writeError: { output: true } });
      expect(outcome).not.toHaveProperty('placed');
      expect((await readdir(dir)).sort()).toEqual(['.crew-aabbccdd', 'e-2.png', 'e.png']);
      expect(await readdir(temp)).toEqual([]);
    } finally {
      await fetcher.destroy();
    }
  });

  it('returns a failed download as an outcome and leaves no temp file', async () => {
    const fetcher = new Fetcher(downloadConfig('-', dir), localPools, new AbortController().signal);
    try {
      const outcome = await fetcher.fetch(`${server.url}/404`, into('b'));
      expect(outcome).toEqual({ ok: false, status: 404, error: 'HTTP 404', attempts: 1 });
      expect(await readdir(temp)).toEqual([]);
    } finally {
      await fetcher.destroy();
    }
  });

  it('sends the configured headers', async () => {
    const config = downloadConfig('-', dir);
    const fetcher = new Fetcher(config, localPools, new AbortController().signal);
    try {
      await fetcher.fetch(`${server.url}/browser-only`, into('c'));
      expect(server.agents.get('/browser-only')).toBe('crew-test');
    } finally {
      await fetcher.destroy();
    }
  });

  it('fails a fetch in flight when the run is aborted', async () => {
    const controller = new AbortController();
    const fetcher = new Fetcher(downloadConfig('-', dir), localPools, controller.signal);
    try {
      const fetching = fetcher.fetch(`${server.url}/slow`, into('d'));
      setTimeout(() => controller.abort(new Error('stop')), 100);
      await expect(fetching).rejects.toThrow('stop');
    } finally {
      await fetcher.destroy();
    }
  });
});
