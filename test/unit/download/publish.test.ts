import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { beforeEach, describe, expect, it } from 'vitest';
import { badRowLine, okLine } from '../../../src/download/lines.ts';
import { MANIFEST } from '../../../src/download/manifest.ts';
import { Output } from '../../../src/download/publish.ts';
import { LOCK } from '../../../src/download/lock.ts';
import { namesFor } from '../../../src/download/layout.ts';

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
    const output = await Output.open(out);
    await output.close();
    expect(output.cleaned).toBe(2);
    expect((await readdir(out)).sort()).toEqual([MANIFEST, 'keep.png'].sort());
    expect(output.done.size).toBe(2);
    expect(output.done.get(1, 'http://x.test/1', namesFor('', 'a'))).toEqual({
      file: 'a.png',
      bytes: 3,
    });
    expect(output.done.get(3, 'http://x.test/3', namesFor('', 'c'))).toEqual({
      file: 'c.png',
      bytes: 3,
    });
  });

  it('searches for leftovers only after a run that died holding the lock', async () => {
    await mkdir(out);
    await writeFile(join(out, '.crew-dead1-0.part'), 'x');
    // The last run ended and released its lock: it left nothing, so nothing is searched.
    const after = await Output.open(out);
    await after.close();
    expect(after.cleaned).toBe(0);
    await writeFile(join(out, LOCK), `${await deadPid()}\n`);
    const taking = await Output.open(out);
    await taking.close();
    expect(taking.cleaned).toBe(1);
    expect(await readdir(out)).toEqual([MANIFEST]);
  });

  it('keeps bodies in a private temp folder of its own, removed with what it holds at the end', async () => {
    const output = await Output.open(out);
    expect(output.tempFolder).toMatch(/\/\.crew-[0-9a-f]{16}$/);
    expect((await lstat(output.tempFolder)).mode & 0o777).toBe(0o700);
    await writeFile(join(output.tempFolder, '0123456789abcdef.part'), 'left by a killed worker');
    output.record(badRowLine({ row: 2, url: '', error: 'no URL in this row' }));
    await output.close();
    expect(await readdir(out)).toEqual([MANIFEST]);
  });

  it('places bodies in layout folders and copies a file for other rows with the same URL', async () => {
    const output = await Output.open(out);
    const body = join(output.tempFolder, '0123456789abcdef.part');
    await writeFile(body, 'abc');
    expect(output.place(body, '00001', 'cat', 'png')).toBe('00001/cat.png');
    expect(await output.copy('00001/cat.png', '00001', 'cat', 'png')).toBe('00001/cat-2.png');
    expect(await output.copy('00001/cat.png', '', 'cat', 'png')).toBe('cat.png');
    await output.close();
    expect(await readFile(join(out, '00001', 'cat-2.png'), 'utf8')).toBe('abc');
    expect((await readdir(out)).sort()).toEqual(['00001', 'cat.png', MANIFEST].sort());
    expect((await readdir(join(out, '00001'))).sort()).toEqual(['cat-2.png', 'cat.png']);
  });

  it('places no body whose temp file is a link (planted in a shared folder)', async () => {
    const output = await Output.open(out);
    const secret = join(dir, 'secret');
    await writeFile(secret, 'not for the output');
    const planted = join(output.tempFolder, '0123456789abcdef.part');
    await symlink(secret, planted);
    expect(() => output.place(planted, '', 'cat', 'png')).toThrow(
      "the body's temp file is not a file",
    );
    await output.close();
    expect(await readdir(out)).toEqual([MANIFEST]);
  });

  it("lets a row fetched again take its own recorded file's place, and only that", async () => {
    const output = await Output.open(out);
    await writeFile(join(out, 'cat.png'), 'old');
    await writeFile(join(out, 'cat-2.png'), 'new');
    expect(output.replaceOwn('cat-2.png', 'cat.png')).toBe('cat.png');
    expect(await readFile(join(out, 'cat.png'), 'utf8')).toBe('new');
    // The recorded file is gone: the new one keeps its own name.
    await writeFile(join(out, 'dog-2.png'), 'new');
    expect(output.replaceOwn('dog-2.png', 'dog.png')).toBe('dog-2.png');
    await output.close();
    expect((await readdir(out)).sort()).toEqual(['cat.png', 'dog-2.png', MANIFEST].sort());
  });

  it('leaves the next run what says a file is its own when the disk took no line for it', async () => {
    const disk = join(dir, 'disk');
    await mkdir(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]);
    try {
      const images = join(disk, 'images');
      const first = await Output.open(images);
      const body = join(first.tempFolder, '0123456789abcdef.part');
      await writeFile(body, 'old');
      expect(first.place(body, '', 'cat', 'png')).toBe('cat.png');
      // The disk fills up before the row's line is written.
      await expect(writeFile(join(disk, 'filler'), Buffer.alloc(2 << 20))).rejects.toThrow(
        /ENOSPC/,
      );
      const row = { row: 1, id: '', name: 'cat', url: 'http://x.test/1' };
      const temp = body; // what the worker answered: the body in its temp file
      const fetched = {
        ok: true as const,
        status: 200,
        bytes: 3,
        sha256: 'x',
        contentType: '',
        ext: 'png',
      };
      first.record(
        okLine(row, 1, { ...fetched, attempts: 1, finalUrl: '', temp }, 'cat.png', true),
      );
      await expect(first.close()).rejects.toThrow(/no space left/);
      // Room again: the same row's new body takes the name, not cat-2.png beside it.
      await rm(join(disk, 'filler'));
      const second = await Output.open(images);
      expect(second.cleaned).toBe(1);
      const again = join(second.tempFolder, '0123456789abcdef.part');
      await writeFile(again, 'new');
      expect(second.place(again, '', 'cat', 'png')).toBe('cat.png');
      await second.close();
      expect(await readFile(join(images, 'cat.png'), 'utf8')).toBe('new');
      expect((await readdir(images)).sort()).toEqual(['cat.png', MANIFEST]);
    } finally {
      execFileSync('umount', [disk]);
    }
  });

  it('appends one manifest line per row, in order', async () => {
    await mkdir(out);
    await writeFile(join(out, MANIFEST), `${line(1, 'ok', 'a.png')}\n`);
    const output = await Output.open(out);
    output.record(badRowLine({ row: 2, url: '', error: 'no URL in this row' }));
    output.record(badRowLine({ row: 3, url: 'ftp://x', error: 'not an http(s) URL' }));
    await output.close();
    const lines = (await readFile(join(out, MANIFEST), 'utf8')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { row: number }).row)).toEqual([1, 2, 3]);
  });
});

/** The id of a process that has exited (as a run killed with -9 leaves in its lock). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}
