/**
 * A damaged manifest in --out: lines that are not rows are read past with one warning, in
 * bounded memory, and --out stays usable (it once refused every later run, or crashed).
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrew } from '../helpers/cli.ts';
import { startImageServer, type ImageServer } from '../helpers/image-server.ts';

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
let server: ImageServer;
let dir: string;

beforeAll(async () => {
  server = await startImageServer();
  dir = await mkdtemp(join(tmpdir(), 'crew-manifest-'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** A CSV of three rows and an --out whose manifest a first run wrote; returns both. */
async function finishedRun(name: string): Promise<{ csv: string; out: string }> {
  const csv = join(dir, `${name}.csv`);
  const out = join(dir, name);
  const rows = ['a', 'b', 'c'].map((row) => `${row},${server.url}/img/${name}-${row}`);
  await writeFile(csv, `${rows.join('\n')}\n`);
  const first = await runCrew(['download-csv', csv, '-o', out], { env });
  expect(first.code).toBe(0);
  return { csv, out };
}

const warning = /^crew: .*crew-manifest\.jsonl: 1 line that is not a row crew wrote/m;

describe('a damaged manifest', () => {
  it('a line that is the JSON value null is read past with one warning', async () => {
    const { csv, out } = await finishedRun('null-line');
    await appendFile(join(out, 'crew-manifest.jsonl'), 'null\n');
    const run = await runCrew(['download-csv', csv, '-o', out, '--json'], { env });
    expect(run.stderr).toMatch(warning);
    expect(run.stderr.match(/not a row/g)).toHaveLength(1);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { skipped: number; warnings: string[] };
    expect(summary).toMatchObject({ skipped: 3 });
    expect(summary.warnings).toEqual([expect.stringMatching(/1 line that is not a row/)]);
  });

  it('a 576 MiB line at its end is read past in bounded memory, and the lock released', async () => {
    const { csv, out } = await finishedRun('huge-tail');
    const manifest = join(out, 'crew-manifest.jsonl');
    // A tail of zero bytes, as a crash or a file-system repair leaves: sparse, so no disk.
    // Longer than V8's longest string (2^29 - 24 characters): kept whole, it crashed crew.
    const size = (await readFile(manifest)).length;
    await truncate(manifest, size + 2 ** 29 + 2 ** 26);
    const run = await runCrew(['download-csv', csv, '-o', out, '--json'], {
      env,
      timeoutMs: 120_000,
    });
    expect(run.stderr).not.toMatch(/RangeError|\n\s+at /);
    expect(run.stderr).toMatch(warning);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 3, skipped: 3 });
    expect(existsSync(join(out, '.crew-lock'))).toBe(false);
  }, 150_000);

  it('rows whose fields have the wrong types are read past, and those rows fetched again', async () => {
    const out = join(dir, 'typed');
    await mkdir(out);
    const csv = join(dir, 'typed.csv');
    await writeFile(csv, `a,${server.url}/img/typed-a\n`);
    const hostile = { row: '1', url: `${server.url}/img/typed-a`, status: 'ok', file: 'a.png' };
    await writeFile(join(out, 'crew-manifest.jsonl'), `${JSON.stringify(hostile)}\n`);
    const run = await runCrew(['download-csv', csv, '-o', out, '--json'], { env });
    expect(run.stderr).toMatch(warning);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 1, ok: 1, skipped: 0 });
  });
});
