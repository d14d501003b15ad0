/**
 * `--json` means one JSON document on stdout whatever happens once the options are parsed:
 * a run that stops early (Ctrl-C, a busy or full --out, a CSV that does not fit) prints its
 * counts so far and why it stopped. It once printed nothing at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCrew, spawnCrew, spawnCrewUnder, untilCatches } from '../helpers/cli.ts';
import { startImageServer, type ImageServer } from '../helpers/image-server.ts';

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
let server: ImageServer;
let dir: string;
const sleepers: ChildProcess[] = [];

beforeAll(async () => {
  server = await startImageServer();
  dir = await mkdtemp(join(tmpdir(), 'crew-json-'));
});

afterAll(async () => {
  for (const sleeper of sleepers) sleeper.kill('SIGKILL');
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

interface Stopped {
  readonly stopped: { readonly reason: string; readonly message: string };
  readonly [field: string]: unknown;
}

/** stdout as exactly one JSON document. */
const documentOf = (stdout: string): Stopped => JSON.parse(stdout) as Stopped;

async function linesIn(out: string): Promise<number> {
  const text = await readFile(join(out, 'crew-manifest.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).length;
}

describe('--json when a run stops early', () => {
  it('download-csv, Ctrl-C: the rows done so far, and why it stopped', async () => {
    const csv = join(dir, 'ctrl-c.csv');
    const rows = ['a', 'b', 'c'].map((r) => `${r},${server.url}/img/ctrl-c-${r}`);
    await writeFile(csv, [...rows, `stuck,${server.url}/slow`].join('\n'));
    const out = join(dir, 'ctrl-c');
    const child = spawnCrew(['download-csv', csv, '-o', out, '--json', '--timeout', '30'], {
      env,
    });
    const done = collect(child);
    for (let i = 0; i < 300; i++) {
      if ((server.hits.get('/slow') ?? 0) > 0 && (await linesIn(out)) >= 3) break;
      await sleep(50);
    }
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    const doc = documentOf(run.stdout);
    expect(doc).toMatchObject({ total: 4, ok: 3, failed: 0, stopped: { reason: 'interrupted' } });
    expect(doc.stopped.message).toMatch(/^interrupted: 3 downloaded/);
  });

  it('download-csv, a busy --out: nothing done, and whose it is', async () => {
    const out = join(dir, 'busy');
    await mkdir(out);
    const holder = spawn('sleep', ['60']);
    sleepers.push(holder);
    await writeFile(join(out, '.crew-lock'), `${holder.pid}\n`);
    const csv = join(dir, 'busy.csv');
    await writeFile(csv, `a,${server.url}/png\n`);
    const run = await runCrew(['download-csv', csv, '-o', out, '--json'], { env });
    expect(run.code).toBe(1);
    const doc = documentOf(run.stdout);
    expect(doc).toMatchObject({ total: 0, ok: 0, stopped: { reason: 'error' } });
    expect(doc.stopped.message).toContain(`another crew (process ${holder.pid})`);
  });

  it('download-csv, a file-size limit: stops at once, and says so', async () => {
    const csv = join(dir, 'limit.csv');
    const rows = [1, 2, 3].map((i) => `p${i},${server.url}/sized/20/limit-${i}`);
    await writeFile(csv, rows.join('\n'));
    const args = ['download-csv', csv, '-o', join(dir, 'limit'), '--json'];
    // 15 KiB a file: every 20 KiB image is cut short.
    const limited = spawnCrewUnder(['bash', '-c', 'ulimit -f 15; exec "$@"', 'bash'], args, {
      env,
    });
    const run = await collect(limited);
    expect(run.code).toBe(1);
    const doc = documentOf(run.stdout);
    expect(doc).toMatchObject({ ok: 0, stopped: { reason: 'error' } });
    expect(doc.stopped.message).toMatch(/stopped: 0 downloaded/);
  });

  it('download-csv, a CSV without the column asked for: a usage error, still one document', async () => {
    const csv = join(dir, 'columns.csv');
    await writeFile(csv, `name,link\na,${server.url}/png\n`);
    const out = join(dir, 'columns');
    const run = await runCrew(['download-csv', csv, '-o', out, '--json', '--url-column', 'x'], {
      env,
    });
    expect(run.code).toBe(2);
    expect(documentOf(run.stdout)).toMatchObject({ total: 0, stopped: { reason: 'usage' } });
  });

  it('logstats, Ctrl-C: the files counted whole', async () => {
    // Inline: the file is counted at once, in crew's own thread, while stdin waits.
    const args = ['logstats', 'samples/logs/20210322.log', '-', '--json', '--runtime', 'inline'];
    const child = spawnCrew(args);
    const done = collect(child, { keepStdinOpen: true });
    await untilCatches(child.pid!, 'SIGINT');
    await sleep(2000);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    const doc = documentOf(run.stdout);
    expect(doc).toMatchObject({
      all: { files: 1, total: 500 },
      stopped: { reason: 'interrupted' },
    });
    expect(doc['files']).toEqual([expect.objectContaining({ file: 'samples/logs/20210322.log' })]);
  });

  it('sum, Ctrl-C: the range and the pool, and no chunk done', async () => {
    const child = spawnCrew(['sum', '9e15', '-w', '1', '--json']);
    const done = collect(child);
    await untilCatches(child.pid!, 'SIGINT');
    await sleep(500);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(documentOf(run.stdout)).toMatchObject({
      start: '0',
      end: '9000000000000000',
      workers: 1,
      chunks: 1,
      chunksDone: 0,
      stopped: { reason: 'interrupted' },
    });
  });
});
