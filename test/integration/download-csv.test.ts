import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collect, repoRoot, runCrew, spawnCrew, type CrewOptions } from '../helpers/cli.ts';
import {
  GIF,
  JPEG,
  PNG,
  WEBP,
  startImageServer,
  type ImageServer,
} from '../helpers/image-server.ts';

interface Summary {
  total: number;
  ok: number;
  failed: number;
  skipped: number;
  bytes: number;
  ms: number;
  failures: { row: number; url: string; error: string }[];
}
interface Line {
  row: number;
  name: string;
  url: string;
  file: string | null;
  status: string;
  http: number | null;
  bytes: number;
  sha256: string | null;
  attempts: number;
  error: string | null;
}

let server: ImageServer;
let dir: string;
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
// No proxy may stand between crew and the loopback server, whatever the machine sets.
const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };

beforeAll(async () => {
  server = await startImageServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-download-'));
  server.hits.clear();
  return () => rm(dir, { recursive: true, force: true });
});

async function download(csv: string, args: string[] = [], options: CrewOptions = {}) {
  await writeFile(join(dir, 'list.csv'), csv);
  const run = await runCrew(
    ['download-csv', 'list.csv', '--json', '--backoff', '0.05', '--timeout', '2', ...args],
    { cwd: dir, env, ...options },
  );
  const summary = run.stdout ? (JSON.parse(run.stdout) as Summary) : undefined;
  return { run, summary };
}
const manifest = async (out = 'images'): Promise<Line[]> =>
  (await readFile(join(dir, out, 'crew-manifest.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line)
    .sort((a, b) => a.row - b.row);
const files = async (out = 'images'): Promise<string[]> => (await readdir(join(dir, out))).sort();

describe('crew download-csv', () => {
  it('downloads mv.csv (no header, id,name,url, a URL three times) with every row its own file', async () => {
    const seed = await readFile(join(repoRoot, 'test/fixtures/mv.csv'), 'utf8');
    const csv = seed.replaceAll('https://images.invalid/', `${server.url}/img/`);
    const { run, summary } = await download(csv);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ total: 51, ok: 51, failed: 0, skipped: 0 });
    const lines = await manifest();
    expect(lines).toHaveLength(51);
    const names = await files();
    expect(names.filter((n) => n.endsWith('.png'))).toHaveLength(51);
    expect(names).toContain('柒十一.png');
    // The repeated URL was fetched once, yet three rows have three files with its bytes.
    const repeated = [...server.hits].filter(([path]) => path.startsWith('/img/'));
    expect(repeated.every(([, n]) => n === 1)).toBe(true);
    expect(repeated).toHaveLength(49);
    const byUrl = new Map<string, Line[]>();
    for (const l of lines) byUrl.set(l.url, [...(byUrl.get(l.url) ?? []), l]);
    const triple = [...byUrl.values()].find((rows) => rows.length === 3)!;
    expect(new Set(triple.map((l) => l.file)).size).toBe(3);
    for (const l of triple) {
      expect(sha(await readFile(join(dir, 'images', l.file!)))).toBe(l.sha256);
    }
    expect(names.some((n) => n.startsWith('.crew-'))).toBe(false);
  });

  it('names files from the content, keeps Unicode, and neutralises dangerous names', async () => {
    const u = server.url;
    const csv = [
      'name,url',
      `cat,${u}/png`,
      `photo,${u}/jpeg`,
      `anim,${u}/gif`,
      `mislabelled,${u}/webp`,
      `../../escape,${u}/img/1`,
      `CON,${u}/img/2`,
      `猫🐱,${u}/img/3`,
      `cat,${u}/img/4`,
      `,${u}/img/fallback-name.png`,
      `${'長'.repeat(100)},${u}/img/5`,
    ].join('\r\n');
    const { run, summary } = await download(`\ufeff${csv}\r\n\r\n`);
    expect(run.code).toBe(0);
    expect(summary?.ok).toBe(10);
    const names = await files();
    expect(names).toEqual(
      expect.arrayContaining([
        'cat.png',
        'photo.jpg',
        'anim.gif',
        'mislabelled.webp',
        '_.._escape.png',
        '_CON.png',
        '猫🐱.png',
        'cat-2.png',
        'fallback-name.png',
      ]),
    );
    const long = names.find((n) => n.startsWith('長'))!;
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(204);
    expect(long).toBe(`${'長'.repeat(66)}.png`);
    expect(await readFile(join(dir, 'images', 'cat.png'))).toEqual(PNG);
    expect(await readFile(join(dir, 'images', 'photo.jpg'))).toEqual(JPEG);
    expect(await readFile(join(dir, 'images', 'anim.gif'))).toEqual(GIF);
    expect(await readFile(join(dir, 'images', 'mislabelled.webp'))).toEqual(WEBP);
    const escaped = await readdir(dir);
    expect(escaped.sort()).toEqual(['images', 'list.csv']);
  });

  it('never writes through, nor replaces, a symlink planted at a final name', async () => {
    await mkdir(join(dir, 'images'));
    await writeFile(join(dir, 'outside.txt'), 'keep me');
    await symlink(join(dir, 'outside.txt'), join(dir, 'images', 'cat.png'));
    const { run } = await download(`cat,${server.url}/png\n`);
    expect(run.code).toBe(0);
    expect(await readFile(join(dir, 'outside.txt'), 'utf8')).toBe('keep me');
    expect((await lstat(join(dir, 'images', 'cat.png'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, 'images', 'cat-2.png'))).toEqual(PNG);
    expect((await manifest())[0]).toMatchObject({ status: 'ok', file: 'cat-2.png' });
  });

  it('forces an extension with --ext, as the tutorial did', async () => {
    const { run } = await download(`a,${server.url}/jpeg\n`, ['--ext', 'png']);
    expect(run.code).toBe(0);
    expect(await files()).toEqual(['a.png', 'crew-manifest.jsonl']);
  });

  it('retries what is worth retrying, fails the rest at once, and reports each reason', async () => {
    const u = server.url;
    const csv = [
      `1,ok,${u}/png`,
      `2,missing,${u}/404`,
      `3,flaky,${u}/500-then-ok`,
      `4,busy,${u}/always-500`,
      `5,throttled,${u}/429`,
      `6,reset,${u}/reset-then-ok`,
      `7,short,${u}/short`,
      `8,slow,${u}/slow`,
      `9,chain,${u}/redirect-1`,
      `10,loop,${u}/loop-a`,
      `11,ftp,${u}/to-ftp`,
      `12,page,${u}/html`,
      `13,huge,${u}/big`,
      `14,picky,${u}/browser-only`,
      `15,nourl,`,
      `16,notweb,ftp://example.invalid/x.png`,
    ].join('\n');
    const { run, summary } = await download(csv, ['--retries', '2', '--max-bytes', '100K']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^crew: 10 of 16 rows failed/);
    expect(summary).toMatchObject({ total: 16, ok: 6, failed: 10 });
    const errors = Object.fromEntries(summary!.failures.map((f) => [f.row, f.error]));
    expect(errors).toEqual({
      2: 'HTTP 404',
      4: 'HTTP 503',
      7: `body shorter than Content-Length (${PNG.length} of ${PNG.length + 100} bytes)`,
      8: 'timed out: the body stalled',
      10: 'redirect loop',
      11: 'redirect to a non-http URL (ftp:)',
      12: 'not an image: text/html',
      13: `too big: ${PNG.length + 200_000} bytes (limit 102400)`,
      15: 'no URL in this row',
      16: 'not an http(s) URL',
    });
    const hits = Object.fromEntries(server.hits);
    expect(hits).toMatchObject({
      '/404': 1,
      '/500-then-ok': 2,
      '/always-500': 3,
      '/429': 2,
      '/reset-then-ok': 2,
      '/short': 3,
      '/html': 1,
      '/big': 1,
      '/png': 2, // row 1, and the end of row 9's redirect chain
    });
    expect(server.agents.get('/browser-only')).toMatch(/Mozilla\/5\.0/);
    const lines = await manifest();
    expect(lines).toHaveLength(16);
    expect(lines.find((l) => l.row === 3)).toMatchObject({ status: 'ok', attempts: 2, http: 200 });
    expect(lines.find((l) => l.row === 2)).toMatchObject({ status: 'failed', http: 404 });
    expect((await files()).some((n) => n.startsWith('.crew-'))).toBe(false);
  });

  it('sends -H headers and --user-agent', async () => {
    const { run } = await download(`a,${server.url}/browser-only\n`, ['--user-agent', 'bot/1']);
    expect(run.code).toBe(1);
    expect(server.agents.get('/browser-only')).toBe('bot/1');
  });

  it('resumes: a re-run skips what is done and retries only what failed', async () => {
    const u = server.url;
    const csv = `a,${u}/img/a\nb,${u}/img/b\nc,${u}/404\n`;
    const first = await download(csv);
    expect(first.summary).toMatchObject({ ok: 2, failed: 1 });
    server.hits.clear();
    const second = await download(csv);
    expect(second.summary).toMatchObject({ total: 3, ok: 0, skipped: 2, failed: 1 });
    expect(Object.fromEntries(server.hits)).toEqual({ '/404': 1 });
    // A file that went missing is fetched again; --force fetches everything.
    await rm(join(dir, 'images', 'a.png'));
    server.hits.clear();
    const third = await download(csv);
    expect(third.summary).toMatchObject({ ok: 1, skipped: 1, failed: 1 });
    server.hits.clear();
    const forced = await download(csv, ['--force']);
    expect(forced.summary).toMatchObject({ ok: 2, skipped: 0 });
    expect(await files()).toEqual(['a.png', 'b.png', 'crew-manifest.jsonl']);
  });

  it('starts no worker when a re-run has nothing left to fetch: not even the queue is reached', async () => {
    const csv = `a,${server.url}/img/a\nb,${server.url}/img/b\n`;
    expect((await download(csv)).summary).toMatchObject({ ok: 2 });
    // Nothing listens on port 1: a worker of this queue could never be reached.
    const queue = ['--queue', 'postgres://crew@127.0.0.1:1/crew'];
    const again = await download(csv, queue);
    expect(again.run.code).toBe(0);
    expect(again.summary).toMatchObject({ total: 2, ok: 0, skipped: 2, failed: 0 });
    // A row that needs fetching does need the queue, and says it could not reach it.
    const more = await download(`${csv}c,${server.url}/img/c\n`, queue);
    expect(more.run.code).not.toBe(0);
    expect(more.run.stderr).toMatch(/127\.0\.0\.1:1|ECONNREFUSED|connect/i);
  });

  it('streams rows from stdin', async () => {
    const run = await runCrew(['download-csv', '-', '--json', '-o', 'out'], {
      cwd: dir,
      env,
      input: `name,url\nx,${server.url}/png\n`,
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 1, ok: 1 });
    expect(await files('out')).toEqual(['crew-manifest.jsonl', 'x.png']);
  });

  it('on Ctrl-C: exits 130, leaves no temp file, keeps the manifest, and a re-run finishes', async () => {
    const u = server.url;
    const rows = Array.from({ length: 6 }, (_, i) => `r${i},${u}/img/r${i}`);
    await writeFile(join(dir, 'list.csv'), [...rows, `stuck,${u}/slow`].join('\n'));
    const child = spawnCrew(['download-csv', 'list.csv', '--timeout', '30'], { cwd: dir, env });
    const done = collect(child);
    // Interrupt only once the six quick rows are in the manifest and /slow is in flight: a
    // fixed sleep raced the manifest on a loaded machine.
    const recorded = async () => (await manifest().catch(() => [])).length;
    for (
      let i = 0;
      i < 200 && ((server.hits.get('/slow') ?? 0) === 0 || (await recorded()) < 6);
      i++
    )
      await sleep(50);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(
      /crew: interrupted: 6 downloaded, 0 skipped, 0 failed of 7 rows read/,
    );
    expect((await files()).filter((n) => n.startsWith('.crew-'))).toEqual([]);
    expect((await manifest()).filter((l) => l.status === 'ok')).toHaveLength(6);
    await writeFile(join(dir, 'list.csv'), [...rows, `unstuck,${u}/png`].join('\n'));
    const again = await download(await readFile(join(dir, 'list.csv'), 'utf8'));
    expect(again.summary).toMatchObject({ total: 7, ok: 1, skipped: 6 });
  });

  it.each([
    [['download-csv'], /Not enough non-option arguments/],
    [['download-csv', 'nope.csv'], /cannot read nope\.csv: no such file/],
    [['download-csv', 'x.csv', '--csv-header', 'maybe'], /Invalid values/],
    [['download-csv', 'x.csv', '-H', 'no colon'], /-H must look like "Name: value"/],
    [['download-csv', 'x.csv', '--retries', '-1'], /--retries must be a whole number/],
    // The unknown option takes the CSV as its value: it is the option that must be named.
    [['download-csv', '--bogus', 'x.csv'], /^crew: unknown option "--bogus"$/m],
    [['download-csv', '-Z', 'x.csv'], /^crew: unknown option "-Z"$/m],
    [['-w', '1', 'download-csv', '-o', 'out', '--bogus', 'x.csv'], /unknown option "--bogus"/],
  ])('rejects %j as a usage error', async (args, message) => {
    await writeFile(join(dir, 'x.csv'), 'a,http://127.0.0.1:9/x\n');
    const run = await runCrew(args, { cwd: dir, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
