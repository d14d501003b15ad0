import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadConfig, DownloadProgress } from '../../../src/download/config.ts';
import { InputError, LayoutError } from '../../../src/download/errors.ts';
import type { ManifestLine } from '../../../src/download/manifest.ts';
import { runDownload } from '../../../src/download/run.ts';
import { Interrupted } from '../../../src/errors.ts';
import { downloadConfig, loopbackWithoutProxy } from '../../helpers/download-config.ts';
import { PNG, startImageServer, type ImageServer } from '../../helpers/image-server.ts';
import { localPools } from '../../helpers/pools.ts';

let server: ImageServer;
let dir: string;
beforeAll(async () => {
  loopbackWithoutProxy();
  server = await startImageServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-run-'));
  server.hits.clear();
  return () => rm(dir, { recursive: true, force: true });
});

const out = (): string => join(dir, 'images');
async function run(csv: string, more: Partial<DownloadConfig> = {}, signal?: AbortSignal) {
  await writeFile(join(dir, 'list.csv'), csv);
  const progress: DownloadProgress[] = [];
  const result = await runDownload(
    downloadConfig(join(dir, 'list.csv'), out(), more),
    localPools,
    signal ?? new AbortController().signal,
    (p) => progress.push(p),
  );
  return { result, progress };
}
const manifest = async (): Promise<ManifestLine[]> =>
  (await readFile(join(out(), 'crew-manifest.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ManifestLine)
    .sort((a, b) => a.row - b.row);
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('runDownload (inline runtime)', () => {
  it('reads, plans, fetches each URL once, publishes every row, and reports', async () => {
    const u = server.url;
    const csv = [
      'id,name,url',
      `1,cat,${u}/img/a`,
      `2,cat,${u}/img/b`,
      `3,twin,${u}/img/a`,
      `4,nourl,`,
      `5,gone,${u}/404`,
      `6,again,${u}/img/a`,
    ].join('\n');
    const { result, progress } = await run(csv);
    expect(result).toMatchObject({ total: 6, ok: 4, failed: 2, skipped: 0, requests: 3 });
    expect(result.failures).toEqual([
      { row: 4, url: '', error: 'no URL in this row' },
      { row: 5, url: `${u}/404`, error: 'HTTP 404' },
    ]);
    expect(result.bytes).toBe(4 * PNG.length + 3 * '/img/a'.length + '/img/b'.length);
    expect(server.hits.get('/img/a')).toBe(1);
    const lines = await manifest();
    expect(lines.map((l) => [l.row, l.status, l.file, l.attempts])).toEqual([
      [1, 'ok', 'cat.png', 1],
      [2, 'ok', 'cat-2.png', 1],
      [3, 'ok', 'twin.png', 0],
      [4, 'failed', null, 0],
      [5, 'failed', null, 1],
      [6, 'ok', 'again.png', 0],
    ]);
    for (const l of lines.filter((l) => l.file)) {
      expect(sha(await readFile(join(out(), l.file!)))).toBe(l.sha256);
    }
    expect((await readdir(out())).sort()).toEqual(
      ['again.png', 'cat-2.png', 'cat.png', 'crew-manifest.jsonl', 'twin.png'].sort(),
    );
    expect(progress).toHaveLength(6);
    expect(progress.at(-1)).toMatchObject({ done: 6, read: 6, failed: 2, fraction: 1 });
  });

  it('resumes: a second run skips what is done and fetches only what failed', async () => {
    const u = server.url;
    const csv = `a,${u}/img/a\nb,${u}/404\n`;
    await run(csv);
    server.hits.clear();
    const { result } = await run(csv);
    expect(result).toMatchObject({ total: 2, ok: 0, skipped: 1, failed: 1, requests: 1 });
    expect(Object.fromEntries(server.hits)).toEqual({ '/404': 1 });
    // Only the row that failed again is written again: a finished row is not.
    expect((await manifest()).map((l) => [l.row, l.status])).toEqual([
      [1, 'ok'],
      [2, 'failed'],
      [2, 'failed'],
    ]);
    const forced = await run(csv, { force: true });
    expect(forced.result).toMatchObject({ ok: 1, skipped: 0, requests: 2 });
  });

  it('names the file by --ext when forced', async () => {
    await run(`a,${server.url}/jpeg\n`, { ext: 'png' });
    expect((await readdir(out())).sort()).toEqual(['a.png', 'crew-manifest.jsonl']);
  });

  it('throws InputError for a CSV it cannot use, LayoutError for columns that do not fit', async () => {
    const missing = runDownload(
      downloadConfig(join(dir, 'nope.csv'), out()),
      localPools,
      new AbortController().signal,
    );
    await expect(missing).rejects.toThrow(InputError);
    await expect(missing).rejects.toThrow(/nope\.csv: no such file/);
    const layout = run(`a,${server.url}/png\n`, { urlColumn: 'photo' });
    await expect(layout).rejects.toThrow(LayoutError);
    await expect(layout).rejects.toThrow(
      /"photo" names a header column, but the CSV has no header/,
    );
  });

  it('on abort: throws Interrupted with what was done, and leaves no temp file', async () => {
    const u = server.url;
    const controller = new AbortController();
    const running = run(
      `a,${u}/png\nb,${u}/slow\n`,
      { fetch: { ...downloadConfig('', '').fetch, timeoutMs: 30_000 } },
      controller.signal,
    );
    for (let i = 0; i < 100 && (server.hits.get('/slow') ?? 0) === 0; i++) await sleep(20);
    await sleep(100);
    controller.abort(new Interrupted('interrupted by SIGINT'));
    await expect(running).rejects.toThrow(
      'interrupted: 1 downloaded, 0 skipped, 0 failed of 2 rows read; run the same command again to finish',
    );
    await expect(running).rejects.toThrow(Interrupted);
    expect((await readdir(out())).sort()).toEqual(['a.png', 'crew-manifest.jsonl']);
    expect((await manifest()).map((l) => l.status)).toEqual(['ok']);
  });
});
