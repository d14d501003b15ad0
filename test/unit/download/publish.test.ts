import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { beforeEach, describe, expect, it } from 'vitest';
import { badRowLine } from '../../../src/download/lines.ts';
import { MANIFEST } from '../../../src/download/manifest.ts';
import { Output } from '../../../src/download/publish.ts';
import { LOCK } from '../../../src/download/lock.ts';

let dir: string;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-publish-'));
  out = join(dir, 'images');
  return () => rm(dir, { recursive: true, force: true });
});

const line = (row: number, status: string, file: string | null) =>
  JSON.stringify({ row, url: `http://x.test/${row}`, file, status, bytes: 3 });

describe('Output', () => {
  it('creates the directory, removes what a killed run left, and reads what it finished', async () => {
    await mkdir(out);
    await writeFile(join(out, LOCK), `${await deadPid()}\n`);
    await writeFile(join(out, '.crew-dead1-0.part'), 'x');
    await writeFile(join(out, '.crew-dead1-7.part'), 'x');
    await writeFile(join(out, 'keep.png'), 'x');
    await writeFile(
      join(out, MANIFEST),
      [line(1, 'ok', 'a.png'), line(2, 'failed', null), line(3, 'skipped', 'c.png')].join('\n'),
    );
    const output = await Output.open(out, false);
    await output.close();
    expect(output.cleaned).toBe(2);
    expect((await readdir(out)).sort()).toEqual([MANIFEST, 'keep.png'].sort());
    expect(output.done.size).toBe(2);
    expect(output.done.get(1, 'http://x.test/1', 'a')).toEqual({ file: 'a.png', bytes: 3 });
    expect(output.done.get(3, 'http://x.test/3', 'c')).toEqual({ file: 'c.png', bytes: 3 });
    const forced = await Output.open(out, true);
    await forced.close();
    expect(forced.done.size).toBe(0);
  });

  it('searches for leftovers only after a run that died holding the lock', async () => {
    await mkdir(out);
    await writeFile(join(out, '.crew-dead1-0.part'), 'x');
    // The last run ended and released its lock: it left nothing, so nothing is searched.
    const after = await Output.open(out, false);
    await after.close();
    expect(after.cleaned).toBe(0);
    await writeFile(join(out, LOCK), `${await deadPid()}\n`);
    const taking = await Output.open(out, false);
    await taking.close();
    expect(taking.cleaned).toBe(1);
    expect(await readdir(out)).toEqual([MANIFEST]);
  });

  it('hands out distinct hidden temp paths in the output directory', async () => {
    const output = await Output.open(out, false);
    const temps = [output.tempPath(), output.tempPath(), output.tempPath()];
    await output.close();
    expect(new Set(temps).size).toBe(3);
    for (const temp of temps) {
      expect(dirname(temp)).toBe(out);
      expect(basename(temp)).toMatch(/^\.crew-[0-9a-f]+-[0-9a-f]{16}\.part$/);
    }
  });

  it('gives other rows with the same URL copies of the placed file', async () => {
    const output = await Output.open(out, false);
    await writeFile(join(out, 'cat.png'), 'abc');
    await output.copy(join(out, 'cat.png'), 'cat-2.png');
    await output.close();
    expect(await readFile(join(out, 'cat-2.png'), 'utf8')).toBe('abc');
    expect((await readdir(out)).sort()).toEqual(['cat-2.png', 'cat.png', MANIFEST].sort());
  });

  it('appends one manifest line per row, and on close removes the temp files still out', async () => {
    await mkdir(out);
    await writeFile(join(out, MANIFEST), `${line(1, 'ok', 'a.png')}\n`);
    const output = await Output.open(out, false);
    await writeFile(output.tempPath(), 'left by a killed worker');
    // A fetch that came back renamed its temp file: what sits there now is not crew's.
    const renamed = output.tempPath();
    output.returned(renamed);
    await writeFile(renamed, 'not a temp file any more');
    await writeFile(join(out, '.crew-0ther-0a.part'), 'left by another run');
    output.record(badRowLine({ row: 2, url: '', error: 'no URL in this row' }));
    output.record(badRowLine({ row: 3, url: 'ftp://x', error: 'not an http(s) URL' }));
    await output.close();
    const lines = (await readFile(join(out, MANIFEST), 'utf8')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { row: number }).row)).toEqual([1, 2, 3]);
    expect((await readdir(out)).sort()).toEqual(
      ['.crew-0ther-0a.part', basename(renamed), MANIFEST].sort(),
    );
  });

  it('keeps the lock when a temp file cannot be removed, so the next run searches', async () => {
    const output = await Output.open(out, false);
    // Something rm cannot remove without recursing, at a temp path still out.
    const stuck = output.tempPath();
    await mkdir(join(stuck, 'inside'), { recursive: true });
    await output.close();
    expect(await readFile(join(out, LOCK), 'utf8')).toMatch(
      new RegExp(`^${process.pid} [0-9a-f]{16}\n$`),
    );
  });
});

/** The id of a process that has exited (as a run killed with -9 leaves in its lock). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}
