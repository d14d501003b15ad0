/**
 * download-csv on CSVs as people really make them: mixed line endings, names that collide,
 * encodings other than UTF-8, rows that never end, stray quotes. The built CLI against a real
 * HTTP server on 127.0.0.1; every CSV written as bytes.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collect, runCrew, spawnCrew, untilCatches } from '../helpers/cli.ts';
import { startImageServer, type ImageServer } from '../helpers/image-server.ts';

interface Summary {
  total: number;
  ok: number;
  failed: number;
  failures: { row: number; url: string; error: string }[];
}
interface Line {
  row: number;
  name: string;
  url: string;
  file: string | null;
  status: string;
  sha256: string | null;
  error: string | null;
}

let server: ImageServer;
let dir: string;
const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  server = await startImageServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-input-'));
  server.hits.clear();
  return () => rm(dir, { recursive: true, force: true });
});

async function download(csv: string | Buffer, args: string[] = []) {
  await writeFile(join(dir, 'list.csv'), csv);
  const run = await runCrew(['download-csv', 'list.csv', '--json', '--retries', '0', ...args], {
    cwd: dir,
    env,
  });
  const summary = run.stdout ? (JSON.parse(run.stdout) as Summary) : undefined;
  return { run, summary };
}
const manifest = async (): Promise<Line[]> =>
  (await readFile(join(dir, 'images', 'crew-manifest.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line)
    .sort((a, b) => a.row - b.row);
const files = async (): Promise<string[]> => (await readdir(join(dir, 'images'))).sort();
const img = (path: string): string => `${server.url}/img/${path}`;

describe('download-csv input', () => {
  it('ends a row at every CRLF, LF and lone CR, in any mix', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `r${i},${img(`r${i}`)}`);
    const ends = ['\n', '\r', '\r\n'];
    const csv = `name,url\r\n${rows.map((r, i) => r + ends[i % 3]).join('')}`;
    const { run, summary } = await download(csv);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ total: 30, ok: 30, failed: 0 });
    expect(await files()).toEqual(
      ['crew-manifest.jsonl', ...rows.map((_, i) => `r${i}.png`)].sort(),
    );
  });

  it('fails a URL with whitespace or a control character inside, and never fetches it', async () => {
    const csv = `name,url\na,${img('a b')}\nb,"${img('b\tc')}"\nc,${img('c')}\n`;
    const { run, summary } = await download(csv);
    expect(run.code).toBe(1);
    expect(summary).toMatchObject({ total: 3, ok: 1, failed: 2 });
    for (const f of summary!.failures) expect(f.error).toMatch(/^invalid URL/);
    expect([...server.hits.keys()]).toEqual(['/img/c']);
  });

  it('gives rows named pic.png and pic two files, and never the manifest name', async () => {
    const csv = [
      `pic.png,${img('one')}`,
      `pic,${img('two')}`,
      `crew-manifest,${img('three')}`,
    ].join('\n');
    const { run, summary } = await download(csv, ['--ext', 'png']);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ total: 3, ok: 3 });
    expect(await files()).toEqual([
      'crew-manifest-2.png',
      'crew-manifest.jsonl',
      'pic-2.png',
      'pic.png',
    ]);
    const lines = await manifest();
    expect(lines.map((l) => l.file)).toEqual(['pic.png', 'pic-2.png', 'crew-manifest-2.png']);
    for (const line of lines) {
      expect(sha(await readFile(join(dir, 'images', line.file!)))).toBe(line.sha256);
    }
    const manifestRow = await download(`crew-manifest,${img('four')}\n`, ['--ext', 'jsonl']);
    expect(manifestRow.summary).toMatchObject({ ok: 1 });
    expect(await files()).toContain('crew-manifest-2.jsonl');
    expect((await manifest()).every((l) => l.status === 'ok')).toBe(true);
  });

  it('reads a GB18030 CSV (as Excel on a Chinese Windows saves it) with its names intact', async () => {
    // 1,东北F4模仿秀,<url> in GB18030.
    const csv = Buffer.concat([
      Buffer.from('312cb6abb1b14634c4a3b7c2d0e32c', 'hex'),
      Buffer.from(`${img('gb')}\n`),
    ]);
    const { run } = await download(csv);
    expect(run.code).toBe(0);
    expect(await files()).toEqual(['crew-manifest.jsonl', '东北F4模仿秀.png']);
  });

  it('reads UTF-16LE without a BOM', async () => {
    const { run } = await download(Buffer.from(`1,猫,${img('cat')}\n`, 'utf16le'));
    expect(run.code).toBe(0);
    expect(await files()).toEqual(['crew-manifest.jsonl', '猫.png']);
  });

  it('fails a latin-1 row rather than garble its name, and reads it with --encoding', async () => {
    const csv = Buffer.from(`1,caf\xe9 noir,${img('cafe')}\n2,tea,${img('tea')}\n`, 'latin1');
    const { run, summary } = await download(csv);
    expect(run.code).toBe(1);
    expect(summary).toMatchObject({ total: 2, ok: 1, failed: 1 });
    expect(summary!.failures[0]).toMatchObject({ row: 1, url: img('cafe') });
    expect(summary!.failures[0]!.error).toMatch(/not valid utf-8 text.*--encoding/);
    expect((await files()).some((f) => f.includes('\ufffd'))).toBe(false);
    const again = await download(csv, ['--encoding', 'latin1']);
    expect(again.run.code).toBe(0);
    expect(await files()).toEqual(['café noir.png', 'crew-manifest.jsonl', 'tea.png']);
  });

  it('refuses an encoding it does not know as a usage error', async () => {
    const { run } = await download(`a,${img('a')}\n`, ['--encoding', 'klingon']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--encoding "klingon" is not an encoding/);
  });

  it('reports a row with unbalanced quotes and goes on with the next line', async () => {
    const csv = `name,url\n"open,${img('a')}\n5" screen,${img('b')}\nc,${img('c')}\n`;
    const { run, summary } = await download(csv);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(/Quote/);
    expect(summary).toMatchObject({ total: 3, ok: 2, failed: 1 });
    expect(summary!.failures).toEqual([
      { row: 1, url: '', error: 'unbalanced quotes in this row' },
    ]);
    expect(await files()).toEqual(['5_ screen.png', 'c.png', 'crew-manifest.jsonl']);
  });

  it('fails a row over 1 MiB and reads on', async () => {
    const csv = `name,url\n${'y'.repeat(3 * 1024 * 1024)}\nb,${img('b')}\n`;
    const { run, summary } = await download(csv);
    expect(run.code).toBe(1);
    expect(summary).toMatchObject({ total: 2, ok: 1, failed: 1 });
    expect(summary!.failures[0]!.error).toMatch(/^row is over 1 MiB/);
  });

  it('on stdin: fetches a row as soon as its line ends, and one Ctrl-C exits 130 with the summary', async () => {
    const child = spawnCrew(['download-csv', '-', '-o', 'out'], { cwd: dir, env });
    const done = collect(child, { keepStdinOpen: true, timeoutMs: 20_000 });
    await untilCatches(child.pid!, 'SIGINT');
    // A lone CR ends the row, and no byte follows it: the row must not wait for one.
    child.stdin!.write(`name,url\rnow,${img('now')}\r`);
    for (let i = 0; i < 200 && !server.hits.has('/img/now'); i++) await sleep(50);
    expect(server.hits.get('/img/now')).toBe(1);
    child.stdin!.write('half a row');
    await sleep(300);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/crew: interrupted: 1 downloaded, 0 skipped, 0 failed of 1 row/);
  });

  it('on stdin: a line that never ends fails its row, and one Ctrl-C exits 130', async () => {
    const child = spawnCrew(['download-csv', '-', '-o', 'out'], { cwd: dir, env });
    const done = collect(child, { keepStdinOpen: true, timeoutMs: 20_000 });
    await untilCatches(child.pid!, 'SIGINT');
    child.stdin!.on('error', () => undefined); // crew stops reading when it exits
    child.stdin!.write(`name,url\nok,${img('ok')}\n`);
    for (let i = 0; i < 200 && !server.hits.has('/img/ok'); i++) await sleep(50);
    // `yes | tr -d '\n'`: 3 MiB of one row, and still coming when Ctrl-C arrives.
    const chunk = 'y'.repeat(64 * 1024);
    for (let i = 0; i < 48; i++) {
      if (!child.stdin!.write(chunk)) await new Promise((r) => child.stdin!.once('drain', r));
    }
    await sleep(500);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    // The endless row is a failure as soon as it passes 1 MiB; the first may be in flight still.
    expect(run.stderr).toMatch(/crew: interrupted: [01] downloaded, 0 skipped, 1 failed of 2 rows/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
