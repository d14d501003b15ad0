/**
 * download-csv never replaces a file it did not make: a user's own file in --out, a file from
 * another CSV, a file another user planted in a shared sticky folder. The row moves on to the
 * next free name, the manifest records it, and a re-run agrees.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collect, crewCommand, runCrew } from '../helpers/cli.ts';
import { PNG, startImageServer, type ImageServer } from '../helpers/image-server.ts';
import { NOBODY, scratchDir, spawnAsNobody } from '../helpers/nobody.ts';

interface Line {
  row: number;
  file: string | null;
  status: string;
  sha256: string | null;
}

// No proxy may stand between crew and the loopback image server.
const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
let server: ImageServer;
let dir: string;

beforeAll(async () => {
  server = await startImageServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  // Reachable by uid 65534: one test plants a file as that user.
  dir = await scratchDir('crew-keeps-', 0o755);
  return () => rm(dir, { recursive: true, force: true });
});

async function download(csv: string, out: string) {
  await writeFile(join(dir, 'list.csv'), csv);
  const run = await runCrew(['download-csv', join(dir, 'list.csv'), '-o', out, '--json'], {
    env,
  });
  const lines = (await readFile(join(out, 'crew-manifest.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);
  return { run, summary: JSON.parse(run.stdout) as { ok: number; skipped: number }, lines };
}

describe('download-csv keeps what is already there', () => {
  it("moves a row on to photo-2.png past a user's own photo.png, and a re-run agrees", async () => {
    const out = join(dir, 'images');
    await mkdir(out);
    await writeFile(join(out, 'photo.png'), 'my own photo');
    const first = await download(`photo,${server.url}/png\n`, out);
    expect(first.run.code).toBe(0);
    expect(await readFile(join(out, 'photo.png'), 'utf8')).toBe('my own photo');
    expect(await readFile(join(out, 'photo-2.png'))).toEqual(PNG);
    expect(first.lines).toMatchObject([{ row: 1, status: 'ok', file: 'photo-2.png' }]);
    const again = await download(`photo,${server.url}/png\n`, out);
    expect(again.summary).toMatchObject({ ok: 0, skipped: 1 });
    expect(server.hits.get('/png')).toBe(1);
    expect((await readdir(out)).sort()).toEqual([
      'crew-manifest.jsonl',
      'photo-2.png',
      'photo.png',
    ]);
  });

  it("keeps another CSV's logo.png: the manifest's sha256 stays true of every file", async () => {
    const out = join(dir, 'images');
    const one = await download(`logo,${server.url}/img/1\n`, out);
    const two = await download(`logo,${server.url}/img/2\n`, out);
    expect([one.run.code, two.run.code]).toEqual([0, 0]);
    const lines = [...one.lines, ...two.lines.slice(1)];
    expect(lines.map((line) => line.file)).toEqual(['logo.png', 'logo-2.png']);
    expect(lines[0]!.sha256).not.toBe(lines[1]!.sha256);
    for (const line of lines) {
      expect(sha(await readFile(join(out, line.file!)))).toBe(line.sha256);
    }
  });

  it("lets --force put a row's new file in the place of the one that row made", async () => {
    const out = join(dir, 'images');
    await download(`logo,${server.url}/img/1\n`, out);
    await writeFile(join(out, 'logo.png'), 'changed since');
    const forced = await runCrew(['download-csv', join(dir, 'list.csv'), '-o', out, '--force'], {
      env,
    });
    expect(forced.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['crew-manifest.jsonl', 'logo.png']);
    expect(await readFile(join(out, 'logo.png'))).toEqual(
      Buffer.concat([PNG, Buffer.from('/img/1')]),
    );
  });

  it('goes on past files another user planted in a shared sticky folder', async () => {
    const out = join(dir, 'shared');
    await mkdir(out);
    await chmod(out, 0o1777);
    const rows = Array.from({ length: 30 }, (_, i) => `pic${i},${server.url}/img/${i}`);
    // The other user plants a file at the names the first rows will use.
    const planted = ['pic0.png', 'pic1.png', 'pic1-2.png'];
    for (const name of planted) {
      await writeFile(join(out, name), 'planted');
      await chown(join(out, name), NOBODY, NOBODY);
    }
    const run = await download(`${rows.join('\n')}\n`, out);
    expect(run.run.code).toBe(0);
    expect(run.summary.ok).toBe(30);
    for (const name of planted) expect(await readFile(join(out, name), 'utf8')).toBe('planted');
    const files = new Map(run.lines.map((line) => [line.row, line.file]));
    expect([files.get(1), files.get(2), files.get(3)]).toEqual([
      'pic0-2.png',
      'pic1-3.png',
      'pic2.png',
    ]);
  });

  it('runs as another user in a sticky folder past files root left there', async () => {
    const out = join(dir, 'sticky');
    await mkdir(out);
    await chmod(out, 0o1777);
    await writeFile(join(out, 'a.png'), 'root owns this');
    await writeFile(join(dir, 'list.csv'), `a,${server.url}/png\nb,${server.url}/png\n`);
    const [command, prefix] = crewCommand();
    const run = await collect(
      spawnAsNobody(command, [...prefix, 'download-csv', join(dir, 'list.csv'), '-o', out], {
        env: { ...process.env, ...env, NO_COLOR: '1', HOME: '/nonexistent' },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await readFile(join(out, 'a.png'), 'utf8')).toBe('root owns this');
    expect((await readdir(out)).sort()).toEqual([
      'a-2.png',
      'a.png',
      'b.png',
      'crew-manifest.jsonl',
    ]);
  });
});
