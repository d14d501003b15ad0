import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BROWSER_USER_AGENT,
  toDownloadConfig,
} from '../../../src/commands/download-csv/options.ts';
import {
  downloadJson,
  formatDownload,
  progressText,
  runDownload,
} from '../../../src/commands/download-csv/run.ts';
import { InputError } from '../../../src/download/errors.ts';
import { exitCodeFor, UsageError } from '../../../src/errors.ts';
import { downloadConfig } from '../../helpers/download-config.ts';
import { localPools } from '../../helpers/pools.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-command-'));
  return () => rm(dir, { recursive: true, force: true });
});

// The download stages throw their own errors; the command says what they mean to a user.
describe('download-csv maps input errors to usage errors (exit 2)', () => {
  it.each([
    ['no such file', undefined, 'nope.csv', /^cannot read .*nope\.csv: no such file$/],
    [
      'a column that is not there',
      'name,url\ncat,http://127.0.0.1:9/a\n',
      'list.csv',
      /^--url-column "photo" is not a column; the header has: name, url$/,
    ],
  ])('%s', async (_, text, file, message) => {
    if (text !== undefined) await writeFile(join(dir, file), text);
    const config = downloadConfig(join(dir, file), join(dir, 'out'), { urlColumn: 'photo' });
    const error: unknown = await runDownload(
      config,
      localPools,
      new AbortController().signal,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).cause).toBeInstanceOf(InputError);
    expect(exitCodeFor(error)).toBe(2);
  });
});

describe('the defaults, each written once in its option', () => {
  it('reach the config when no flag is given', () => {
    expect(toDownloadConfig({ csv: 'a.csv' })).toMatchObject({
      ...{ out: 'images', csvHeader: 'auto', encoding: 'auto', concurrency: 16, perHost: 16 },
      ...{ urlColumn: undefined, nameColumn: undefined, ext: undefined, force: false },
      fetch: {
        ...{ retries: 3, timeoutMs: 30_000, maxTimeMs: 120_000, maxBytes: 50 * 2 ** 20 },
        ...{ backoffMs: 500, locationTrusted: false, anyType: false },
        headers: { 'user-agent': BROWSER_USER_AGENT },
      },
    });
  });

  it('give way to the flags given', () => {
    const config = toDownloadConfig({ csv: 'a.csv', out: 'pics', concurrency: '4', retries: '0' });
    expect(config).toMatchObject({ out: 'pics', concurrency: 4, fetch: { retries: 0 } });
  });
});

describe('--encoding', () => {
  it.each([
    [undefined, 'auto'],
    ['gb18030', 'gb18030'],
    ['Shift_JIS', 'Shift_JIS'],
    ['latin1', 'latin1'],
  ])('%s -> %s', (encoding, expected) => {
    expect(toDownloadConfig({ csv: 'list.csv', encoding }).encoding).toBe(expected);
  });

  it('refuses a label TextDecoder does not know, as a usage error', () => {
    expect(() => toDownloadConfig({ csv: 'list.csv', encoding: 'klingon' })).toThrow(
      /--encoding "klingon" is not an encoding crew knows/,
    );
  });
});

describe('progressText', () => {
  const at = { done: 0, read: 0, failed: 0, bytes: 0, elapsedMs: 0, fraction: undefined };
  it.each([
    ['nothing yet, stdin', at, '0 of 0+ rows (0/s), 0.0 MB (0.0 MB/s), 0 failed'],
    [
      'halfway through a file',
      { ...at, done: 500, read: 520, failed: 3, bytes: 10e6, elapsedMs: 2000, fraction: 0.5 },
      '500 of 520+ rows (250/s), 10.0 MB (5.0 MB/s), 3 failed, ETA 2 s',
    ],
    [
      'the file read to its end: the total is known, no ETA at 1',
      { ...at, done: 900, read: 1000, bytes: 1e6, elapsedMs: 4000, fraction: 1 },
      '900 of 1000 rows (225/s), 1.0 MB (0.3 MB/s), 0 failed',
    ],
  ])('%s', (_, progress, text) => {
    expect(progressText(progress)).toBe(text);
  });
});

describe('the summary', () => {
  const result = (cleaned: number) => ({
    ...{ total: 3, ok: 3, failed: 0, skipped: 0, bytes: 30, ms: 12, requests: 3 },
    ...{ failures: [], out: 'images', cleaned, warnings: [] },
  });

  it.each([
    [0, undefined],
    [1, '1 temp file a killed run left'],
    [3, '3 temp files a killed run left'],
  ])('says how many temp files of a killed run were removed (%i)', (cleaned, line) => {
    const text = formatDownload(result(cleaned));
    if (line === undefined) expect(text).not.toMatch(/cleaned/);
    else expect(text).toMatch(new RegExp(`cleaned\\s+${line}`));
    expect(downloadJson(result(cleaned))).toMatchObject({ cleaned });
  });
});

describe('--workers', () => {
  // The parent works the whole run (CSV, names, manifest): it keeps a core for itself.
  it('defaults to one fewer than the cores, at least one; an explicit count wins', () => {
    expect(toDownloadConfig({ csv: 'a.csv' }).workers).toBe(
      Math.max(1, availableParallelism() - 1),
    );
    expect(toDownloadConfig({ csv: 'a.csv', workers: 3 }).workers).toBe(3);
  });
});

describe('stack traces in download workers', () => {
  // A worker's failures come back as reasons; stacks cost each refused connection three.
  it.each([
    ['off by default', {}, false],
    ['kept with --debug', { debug: true }, true],
    ['kept inline, where the worker is crew itself', { runtime: 'inline' }, true],
  ] as const)('%s', (_, args, stacks) => {
    expect(toDownloadConfig({ csv: 'a.csv', ...args }).fetch.stacks).toBe(stacks);
  });
});
