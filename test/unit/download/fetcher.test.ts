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
  it('downloads a body to a fresh temp file, names no file, and counts requests', async () => {
    const fetcher = new Fetcher(downloadConfig('-', dir), localPools, new AbortController().signal);
    try {
      const outcome = await fetcher.fetch(`${server.url}/png`, { tempFolder: temp });
      expect(outcome).toMatchObject({ ok: true, status: 200, bytes: PNG.length, ext: 'png' });
      const left = (outcome as { temp: string }).temp;
      expect(left.startsWith(`${temp}/`)).toBe(true);
      expect(await readFile(left)).toEqual(PNG);
      // The worker names nothing: the run does, in the turn it queues the row's line.
      expect(await readdir(dir)).toEqual(['.crew-aabbccdd']);
      await fetcher.fetch(`${server.url}/png`, { tempFolder: temp });
      expect(fetcher.requests).toBe(2);
      expect(await readdir(temp)).toHaveLength(2);
    } finally {
      await fetcher.destroy();
    }
  });

  it('returns a failed download as an outcome and leaves no temp file', async () => {
    const fetcher = new Fetcher(downloadConfig('-', dir), localPools, new AbortController().signal);
    try {
      const outcome = await fetcher.fetch(`${server.url}/404`, { tempFolder: temp });
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
      await fetcher.fetch(`${server.url}/browser-only`, { tempFolder: temp });
      expect(server.agents.get('/browser-only')).toBe('crew-test');
    } finally {
      await fetcher.destroy();
    }
  });

  it('fails a fetch in flight when the run is aborted', async () => {
    const controller = new AbortController();
    const fetcher = new Fetcher(downloadConfig('-', dir), localPools, controller.signal);
    try {
      const fetching = fetcher.fetch(`${server.url}/slow`, { tempFolder: temp });
      setTimeout(() => controller.abort(new Error('stop')), 100);
      await expect(fetching).rejects.toThrow('stop');
    } finally {
      await fetcher.destroy();
    }
  });
});
