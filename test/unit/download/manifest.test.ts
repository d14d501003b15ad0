import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { badRowLine, skippedLine } from '../../../src/download/lines.ts';
import { BATCH_MS, doneKey, ManifestFile, readManifest } from '../../../src/download/manifest.ts';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-manifest-'));
  path = join(dir, 'crew-manifest.jsonl');
  return () => rm(dir, { recursive: true, force: true });
});

const line = (row: number, status: string, file: string | null, bytes = 3, url = `u${row}`) =>
  JSON.stringify({ row, url, file, status, bytes });

describe('readManifest', () => {
  it('finds nothing when there is no manifest', async () => {
    expect((await readManifest(path)).size).toBe(0);
  });

  it.each([
    [
      'ok and skipped rows are done',
      [line(1, 'ok', 'a.png'), line(2, 'skipped', 'b.png', 4)],
      {
        [doneKey(1, 'u1')]: { file: 'a.png', bytes: 3 },
        [doneKey(2, 'u2')]: { file: 'b.png', bytes: 4 },
      },
    ],
    ['failed rows are not', [line(1, 'failed', null)], {}],
    [
      'the last line of a row wins',
      [
        line(1, 'ok', 'a.png'),
        line(1, 'failed', null),
        line(2, 'failed', null),
        line(2, 'ok', 'b.png'),
      ],
      {
        [doneKey(2, 'u2')]: { file: 'b.png', bytes: 3 },
      },
    ],
    [
      'a row is keyed by row and URL: a changed CSV does not match',
      [line(1, 'ok', 'a.png', 3, 'u1'), line(1, 'ok', 'x.png', 3, 'other')],
      {
        [doneKey(1, 'u1')]: { file: 'a.png', bytes: 3 },
        [doneKey(1, 'other')]: { file: 'x.png', bytes: 3 },
      },
    ],
    ['an ok line without a file is not done', [line(1, 'ok', null)], {}],
    [
      'a line cut short by a crash, blank lines and CRLF are passed over',
      [
        line(1, 'ok', 'a.png'),
        '',
        `${line(2, 'ok', 'b.png')}\r`,
        line(3, 'ok', 'c.png').slice(0, 20),
      ],
      {
        [doneKey(1, 'u1')]: { file: 'a.png', bytes: 3 },
        [doneKey(2, 'u2')]: { file: 'b.png', bytes: 3 },
      },
    ],
  ])('%s', async (_, lines, expected) => {
    await writeFile(path, lines.join('\n'));
    expect(Object.fromEntries(await readManifest(path))).toEqual(expected);
  });
});

describe('ManifestFile', () => {
  it('appends one JSON line per row after what is there, all on disk after close', async () => {
    await writeFile(path, `${line(1, 'ok', 'a.png')}\n`);
    const writer = await ManifestFile.open(path);
    const job = { row: 2, id: '', name: 'b', url: 'u2' };
    writer.write(skippedLine(job, { file: 'b.png', bytes: 5 }));
    writer.write(badRowLine({ row: 3, url: '', error: 'no URL in this row' }));
    await writer.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(lines.slice(1, 3).map((l) => JSON.parse(l) as unknown)).toMatchObject([
      { row: 2, status: 'skipped', file: 'b.png' },
      { row: 3, status: 'failed', error: 'no URL in this row' },
    ]);
    expect(Object.fromEntries(await readManifest(path))).toEqual({
      [doneKey(1, 'u1')]: { file: 'a.png', bytes: 3 },
      [doneKey(2, 'u2')]: { file: 'b.png', bytes: 5 },
    });
  });

  it('tells each line, in order, only once it is on disk, and batches what finishes together', async () => {
    const writer = await ManifestFile.open(path);
    const told: number[] = [];
    const onDisk: number[] = [];
    for (const row of [1, 2, 3]) {
      writer.write(badRowLine({ row, url: '', error: 'x' }), () => {
        told.push(row);
        onDisk.push(readFileSync(path, 'utf8').split('\n').filter(Boolean).length);
      });
    }
    expect(told).toEqual([]); // nothing is reported done before it is written
    await new Promise((resolve) => setTimeout(resolve, BATCH_MS * 4));
    expect(told).toEqual([1, 2, 3]);
    expect(onDisk).toEqual([3, 3, 3]); // one write for all three
    writer.write(badRowLine({ row: 4, url: '', error: 'x' }), () => told.push(4));
    await writer.close(); // close writes what is pending at once
    expect(told).toEqual([1, 2, 3, 4]);
  });

  it('goes on writing after a batch timer finds its lines already taken by a flush', async () => {
    const writer = await ManifestFile.open(path);
    const told: number[] = [];
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    writer.write(badRowLine({ row: 1, url: '', error: 'x' }), () => told.push(1));
    // Due with the first batch's timer: row 2 arrives while row 1's write is in flight, so
    // that flush takes row 2 too, and row 2's own timer later finds nothing pending.
    setTimeout(
      () => writer.write(badRowLine({ row: 2, url: '', error: 'x' }), () => told.push(2)),
      BATCH_MS,
    );
    await wait(BATCH_MS * 4);
    writer.write(badRowLine({ row: 3, url: '', error: 'x' }), () => told.push(3));
    await wait(BATCH_MS * 4);
    expect(told).toEqual([1, 2, 3]); // written without waiting for close
    await writer.close();
  });

  it('ends a torn last line before appending, so no line is lost to it', async () => {
    await writeFile(path, `${line(1, 'ok', 'a.png')}\n{"row":2,"url":"u2","sta`);
    const writer = await ManifestFile.open(path);
    expect(Object.fromEntries(await writer.done())).toEqual({
      [doneKey(1, 'u1')]: { file: 'a.png', bytes: 3 },
    });
    writer.write(
      skippedLine({ row: 3, id: '', name: 'c', url: 'u3' }, { file: 'c.png', bytes: 1 }),
    );
    await writer.close();
    expect(Object.keys(Object.fromEntries(await readManifest(path)))).toEqual([
      doneKey(1, 'u1'),
      doneKey(3, 'u3'),
    ]);
  });

  it('refuses a symbolic link, a directory, or a FIFO at its name, and writes nothing', async () => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'keep me');
    await symlink(victim, path);
    await expect(ManifestFile.open(path)).rejects.toThrow(/is a symbolic link: refusing/);
    expect(await readFile(victim, 'utf8')).toBe('keep me');
    await rm(path);
    await mkdir(path);
    await expect(ManifestFile.open(path)).rejects.toThrow(/cannot open .*is a directory/);
    await rm(path, { recursive: true });
    execFileSync('mkfifo', [path]);
    await expect(ManifestFile.open(path)).rejects.toThrow(/not a regular file/);
  });
});
