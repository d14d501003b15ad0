import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { keyOf, shardName, shardOf, shardsLayout } from '../../../src/download/layout.ts';
import { BLOCK, paddingOf, tarHeader, TarWriter } from '../../../src/download/tar.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-tar-'));
  return () => rm(dir, { recursive: true, force: true });
});

/** Python's tarfile, an independent reader: each member's name, size and sha256, in order. */
const members = (path: string): { name: string; size: number; sha256: string }[] =>
  JSON.parse(
    execFileSync(
      'python3',
      [
        '-c',
        'import tarfile,json,hashlib,sys\n' +
          't=tarfile.open(sys.argv[1], "r:")\n' +
          'print(json.dumps([{"name":m.name,"size":m.size,"sha256":hashlib.sha256(t.extractfile(m).read()).hexdigest()} for m in t]))',
        path,
      ],
      { encoding: 'utf8' },
    ),
  ) as { name: string; size: number; sha256: string }[];

const sha = (bytes: Uint8Array): string =>
  execFileSync('sha256sum', { input: bytes, encoding: 'utf8' }).split(' ')[0]!;

describe('TarWriter', () => {
  it('writes members Python’s tarfile reads back byte for byte, from buffers and files', async () => {
    const image = Buffer.alloc(1000, 7);
    await writeFile(join(dir, 'body.part'), Buffer.concat([Buffer.from('xx'), image]));
    const tar = new TarWriter(join(dir, 'a.tar'));
    const member = tar.addFrom('000000.png', join(dir, 'body.part'), image.length, 2);
    tar.add('000000.json', Buffer.from('{"a":1}'));
    tar.add('000000.txt', Buffer.alloc(0));
    tar.add('000001.txt', Buffer.from('é'));
    const size = tar.finish();
    expect(size % BLOCK).toBe(0);
    expect(member).toEqual({ offset: BLOCK, size: 1000 });
    const bytes = await readFile(join(dir, 'a.tar'));
    expect(bytes.length).toBe(size);
    expect(bytes.subarray(member.offset, member.offset + member.size)).toEqual(image);
    expect(members(join(dir, 'a.tar'))).toEqual([
      { name: '000000.png', size: 1000, sha256: sha(image) },
      { name: '000000.json', size: 7, sha256: sha(Buffer.from('{"a":1}')) },
      { name: '000000.txt', size: 0, sha256: sha(Buffer.alloc(0)) },
      { name: '000001.txt', size: 2, sha256: sha(Buffer.from('é')) },
    ]);
  });

  it('cuts a member that cannot be written whole back off: the tar holds whole members only', async () => {
    const tar = new TarWriter(join(dir, 'b.tar'));
    tar.add('000000.txt', Buffer.from('kept'));
    const before = tar.size;
    expect(() =>
      tar.whole(() => {
        tar.add('000001.png', Buffer.alloc(600));
        tar.addFrom('000001.json', join(dir, 'missing.part'), 10);
      }),
    ).toThrow(/ENOENT/);
    expect(tar.size).toBe(before);
    await writeFile(join(dir, 'short.part'), 'ten bytes!');
    expect(() => tar.addFrom('000002.png', join(dir, 'short.part'), 1 << 20)).toThrow(
      /bytes missing/,
    );
    expect(tar.size).toBe(before);
    tar.finish();
    expect(members(join(dir, 'b.tar')).map((m) => m.name)).toEqual(['000000.txt']);
  });

  it('appends several members together, each where it says, or none of them', async () => {
    const image = Buffer.alloc(700, 9);
    const json = Buffer.from('{"key":"000000"}');
    const tar = new TarWriter(join(dir, 'm.tar'));
    const placed = tar.addAll([
      { name: '000000.png', data: image },
      { name: '000000.json', data: json },
      { name: '000000.txt', data: Buffer.alloc(0) },
    ]);
    expect(placed).toEqual([
      { offset: BLOCK, size: 700 },
      { offset: 3 * BLOCK + BLOCK, size: json.length },
      { offset: 5 * BLOCK + BLOCK, size: 0 },
    ]);
    const before = tar.size;
    expect(before).toBe(6 * BLOCK);
    // A name a header cannot hold, after a good member: neither is written.
    expect(() =>
      tar.addAll([
        { name: '000001.png', data: image },
        { name: '../000001.json', data: json },
      ]),
    ).toThrow(/printable ASCII/);
    expect(tar.size).toBe(before);
    tar.finish();
    const bytes = await readFile(join(dir, 'm.tar'));
    for (const [i, data] of [image, json].entries()) {
      expect(bytes.subarray(placed[i]!.offset, placed[i]!.offset + data.length)).toEqual(data);
    }
    expect(members(join(dir, 'm.tar'))).toEqual([
      { name: '000000.png', size: 700, sha256: sha(image) },
      { name: '000000.json', size: json.length, sha256: sha(json) },
      { name: '000000.txt', size: 0, sha256: sha(Buffer.alloc(0)) },
    ]);
  });

  it('never opens a path that exists', async () => {
    await writeFile(join(dir, 'c.tar'), 'mine');
    expect(() => new TarWriter(join(dir, 'c.tar'))).toThrow(/EEXIST/);
    expect(await readFile(join(dir, 'c.tar'), 'utf8')).toBe('mine');
  });

  it('refuses names a header cannot hold plainly', () => {
    expect(() => tarHeader('x'.repeat(101), 1, 0)).toThrow(/1-100 printable ASCII/);
    expect(() => tarHeader('../etc/passwd', 1, 0)).toThrow();
    expect(() => tarHeader('a b', 1, 0)).toThrow();
    expect(() => tarHeader('é.png', 1, 0)).toThrow();
    expect(paddingOf(0)).toBe(0);
    expect(paddingOf(1)).toBe(511);
    expect(paddingOf(512)).toBe(0);
  });

  it('writes a size past 8 GiB in base-256, as GNU tar does', () => {
    const header = tarHeader('big.bin', 2 ** 34, 0);
    expect(header[124]).toBe(0x80);
    expect(header.readUIntBE(130, 6)).toBe(2 ** 34);
  });
});

describe('shards and keys', () => {
  it.each([
    [1, 10_000, 0, '000000000'],
    [10_000, 10_000, 0, '000009999'],
    [10_001, 10_000, 1, '000010000'],
    [10_024, 10_000, 1, '000010023'],
    [3, 2, 1, '000010'],
    [5, 1, 4, '000040'],
    [1_000_001, 100_000, 10, '0001000000'],
  ])('row %d in shards of %d: shard %d, key %s', (row, size, shard, key) => {
    expect(shardOf(row, size)).toBe(shard);
    expect(keyOf(row, size)).toBe(key);
    expect(shardsLayout(size).folderOf(row)).toBe(shardName(shard));
  });

  it('keys sort in row order', () => {
    const keys = Array.from({ length: 30_000 }, (_, i) => keyOf(i + 1, 1000));
    expect([...keys].sort()).toEqual(keys);
  });
});
