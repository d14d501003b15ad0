import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { badRowLine, skippedLine } from '../../../src/download/lines.ts';
import { namesFor } from '../../../src/download/layout.ts';
import {
  BATCH_MS,
  linesOf,
  MAX_QUEUED,
  ManifestFile,
  readManifest,
} from '../../../src/download/manifest.ts';

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
    expect((await readManifest(path)).done.size).toBe(0);
  });

  // Each case: the manifest's lines, then what a re-run asks: [row, url, stem] -> the file.
  type Ask = [number, string, string, { file: string; bytes: number } | undefined];
  it.each<[string, string[], Ask[]]>([
    [
      'ok and skipped rows are done',
      [line(1, 'ok', 'a.png'), line(2, 'skipped', 'b.png', 4)],
      [
        [1, 'u1', 'a', { file: 'a.png', bytes: 3 }],
        [2, 'u2', 'b', { file: 'b.png', bytes: 4 }],
      ],
    ],
    ['failed rows are not', [line(1, 'failed', null)], [[1, 'u1', 'a', undefined]]],
    [
      'the last line of a row wins',
      [
        line(1, 'ok', 'a.png'),
        line(1, 'failed', null),
        line(2, 'failed', null),
        line(2, 'ok', 'b.png'),
      ],
      [
        [1, 'u1', 'a', undefined],
        [2, 'u2', 'b', { file: 'b.png', bytes: 3 }],
      ],
    ],
    [
      'a row is matched by row and URL: a changed CSV does not match',
      [line(1, 'ok', 'a.png', 3, 'u1'), line(2, 'ok', 'b.png', 3, 'u2')],
      [
        [1, 'other', 'a', undefined],
        [3, 'u1', 'a', undefined],
      ],
    ],
    [
      "and by the row's file name this run: a renamed row is fetched again",
      [line(1, 'ok', 'a.png'), line(2, 'ok', 'b.tar.gz'), line(3, 'ok', 'c')],
      [
        [1, 'u1', 'a', { file: 'a.png', bytes: 3 }],
        [1, 'u1', 'a-2', undefined],
        [2, 'u2', 'b.tar', { file: 'b.tar.gz', bytes: 3 }],
        [3, 'u3', 'c', { file: 'c', bytes: 3 }],
      ],
    ],
    ['an ok line without a file is not done', [line(1, 'ok', null)], [[1, 'u1', 'a', undefined]]],
    [
      'a line cut short by a crash, blank lines and CRLF are passed over',
      [
        line(1, 'ok', 'a.png'),
        '',
        `${line(2, 'ok', 'b.png')}\r`,
        line(3, 'ok', 'c.png').slice(0, 20),
      ],
      [
        [1, 'u1', 'a', { file: 'a.png', bytes: 3 }],
        [2, 'u2', 'b', { file: 'b.png', bytes: 3 }],
        [3, 'u3', 'c', undefined],
      ],
    ],
  ])('%s', async (_, lines, asks) => {
    await writeFile(path, lines.join('\n'));
    const { done, skipped } = await readManifest(path);
    expect(skipped).toBe(0);
    for (const [row, url, stem, expected] of asks)
      expect(done.get(row, url, namesFor('', stem))).toEqual(expected);
  });
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (polling) until `done()` holds: a loaded machine may take its time, never 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5000; !done(); await wait(2)) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the manifest');
  }
}

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
    const { done } = await readManifest(path);
    expect(done.size).toBe(2);
    expect(done.get(1, 'u1', namesFor('', 'a'))).toEqual({ file: 'a.png', bytes: 3 });
    expect(done.get(2, 'u2', namesFor('', 'b'))).toEqual({ file: 'b.png', bytes: 5 });
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
    await until(() => told.length === 3);
    expect(told).toEqual([1, 2, 3]);
    expect(onDisk).toEqual([3, 3, 3]); // one write for all three
    writer.write(badRowLine({ row: 4, url: '', error: 'x' }), () => told.push(4));
    await writer.close(); // close writes what is pending at once
    expect(told).toEqual([1, 2, 3, 4]);
  });

  it('goes on writing after a batch timer finds its lines already taken by a flush', async () => {
    const writer = await ManifestFile.open(path);
    const told: number[] = [];
    writer.write(badRowLine({ row: 1, url: '', error: 'x' }), () => told.push(1));
    // Due with the first batch's timer: row 2 arrives while row 1's write is in flight, so
    // that flush takes row 2 too, and row 2's own timer later finds nothing pending.
    setTimeout(
      () => writer.write(badRowLine({ row: 2, url: '', error: 'x' }), () => told.push(2)),
      BATCH_MS,
    );
    await until(() => told.length === 2);
    await wait(BATCH_MS * 2); // row 2's own timer fires, with nothing left to write
    writer.write(badRowLine({ row: 3, url: '', error: 'x' }), () => told.push(3));
    await until(() => told.length === 3); // written without waiting for close
    expect(told).toEqual([1, 2, 3]);
    await writer.close();
  });

  it('makes the reader wait while MAX_QUEUED lines are queued, and writes them at once', async () => {
    const writer = await ManifestFile.open(path);
    let told = 0;
    const add = (row: number) =>
      writer.write(badRowLine({ row, url: '', error: 'x' }), () => told++);
    for (let row = 1; row < MAX_QUEUED; row++) add(row);
    expect(writer.room()).toBeUndefined(); // below the bound: read on
    add(MAX_QUEUED);
    const room = writer.room();
    expect(room).toBeInstanceOf(Promise);
    await room;
    // Resolved once every queued line is on disk, and each row was told.
    expect(told).toBe(MAX_QUEUED);
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(MAX_QUEUED);
    expect(writer.room()).toBeUndefined();
    add(MAX_QUEUED + 1);
    await writer.close();
    expect(told).toBe(MAX_QUEUED + 1);
  });

  it('reads a manifest across many read chunks; a 3 MiB line among them is read past', async () => {
    const long = `${'x'.repeat(3 << 20)}.png`;
    const lines = Array.from({ length: 20_000 }, (_, i) => line(i + 1, 'ok', `${i}.png`));
    lines.push(line(20_001, 'ok', long), line(20_002, 'ok', 'last.png'));
    await writeFile(path, lines.join('\n')); // and no newline after the last line
    const { done, skipped } = await readManifest(path);
    expect(done.size).toBe(20_001);
    expect(skipped).toBe(1);
    expect(done.get(12_345, 'u12345', namesFor('', '12344'))).toEqual({
      file: '12344.png',
      bytes: 3,
    });
    expect(done.get(20_001, 'u20001', namesFor('', long.slice(0, -4)))).toBeUndefined();
    expect(done.get(20_002, 'u20002', namesFor('', 'last'))).toEqual({
      file: 'last.png',
      bytes: 3,
    });
  });

  it('reads past lines that are not rows, counting them; a torn line of crew is not counted', async () => {
    const lines = [
      line(1, 'ok', 'a.png'),
      'null',
      '[1,2]',
      '42',
      '"text"',
      'not json at all',
      '{}',
      JSON.stringify({ ...JSON.parse(line(2, 'ok', 'b.png')), row: '2' }),
      JSON.stringify({ ...JSON.parse(line(2, 'ok', 'b.png')), row: -1 }),
      JSON.stringify({ ...JSON.parse(line(2, 'ok', 'b.png')), row: 1.5 }),
      JSON.stringify({ ...JSON.parse(line(2, 'ok', 'b.png')), url: 7 }),
      JSON.stringify({ ...JSON.parse(line(2, 'ok', 'b.png')), status: 'done' }),
      JSON.stringify({ ...JSON.parse(line(2, 'ok', 'b.png')), file: ['b.png'] }),
      JSON.stringify({ ...JSON.parse(line(2, 'ok', 'b.png')), bytes: '3' }),
      JSON.stringify({ ...JSON.parse(line(2, 'ok', 'b.png')), bytes: 1e300 }),
      line(3, 'ok', 'c.png').slice(0, 30), // cut short by a crash
      line(4, 'ok', 'd.png'),
    ];
    await writeFile(path, `${lines.join('\n')}\n`);
    const { done, skipped } = await readManifest(path);
    expect(skipped).toBe(14);
    expect(done.size).toBe(2);
    expect(done.get(1, 'u1', namesFor('', 'a'))).toEqual({ file: 'a.png', bytes: 3 });
    expect(done.get(2, 'u2', namesFor('', 'b'))).toBeUndefined();
    expect(done.get(4, 'u4', namesFor('', 'd'))).toEqual({ file: 'd.png', bytes: 3 });
  });

  it.each([
    ['lines split across chunks, one ending exactly at a chunk', [65_535, 1, 70_000, 3]],
    ['a line of exactly the limit, and one byte over', [1 << 20, (1 << 20) + 1]],
    ['a two-byte character cut by a chunk', [2, 70_000, 3]],
  ])('splits lines exactly: %s', async (_, sizes) => {
    // Lines of "é" (2 bytes) and an "a" to the given byte lengths, each ended by a newline.
    const texts = sizes.map((n) => 'é'.repeat(n >> 1) + 'a'.repeat(n & 1));
    await writeFile(path, texts.map((t) => `${t}\n`).join(''));
    const file = await open(path, 'r');
    try {
      const got: (number | undefined)[] = [];
      for await (const text of linesOf(file)) {
        // A character cut in two would decode as U+FFFD (3 bytes) and change the length.
        got.push(text === undefined ? undefined : Buffer.byteLength(text));
      }
      expect(got).toEqual(sizes.map((n) => (n > 1 << 20 ? undefined : n)));
    } finally {
      await file.close();
    }
  });

  it('ends a torn last line before appending, so no line is lost to it', async () => {
    await writeFile(path, `${line(1, 'ok', 'a.png')}\n{"row":2,"url":"u2","sta`);
    const writer = await ManifestFile.open(path);
    const { done: before } = await writer.done();
    expect(before.size).toBe(1);
    expect(before.get(1, 'u1', namesFor('', 'a'))).toEqual({ file: 'a.png', bytes: 3 });
    writer.write(
      skippedLine({ row: 3, id: '', name: 'c', url: 'u3' }, { file: 'c.png', bytes: 1 }),
    );
    await writer.close();
    const { done } = await readManifest(path);
    expect(done.size).toBe(2);
    expect(done.get(3, 'u3', namesFor('', 'c'))).toEqual({ file: 'c.png', bytes: 1 });
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
