/**
 * crew download for dataset builders, as a user runs it: lists in every format, captions and
 * kept columns, opt-outs from the server's headers, shards, webdataset tars read back by an
 * independent reader (Python's tarfile) member by member against the manifest, resume, a
 * kill -9 in the middle of a shard, and --dry-run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collect, runCrew, spawnCrew } from '../helpers/cli.ts';
import { PNG, startImageServer, type ImageServer } from '../helpers/image-server.ts';

interface Line {
  row: number;
  url: string;
  file: string | null;
  status: string;
  http: number | null;
  bytes: number;
  sha256: string | null;
  error: string | null;
  caption?: string;
  width?: number | null;
  height?: number | null;
  columns?: Record<string, unknown>;
  key?: string;
}
interface Summary {
  total: number;
  ok: number;
  failed: number;
  skipped: number;
  optedOut: number;
  requests: number;
}
interface Member {
  name: string;
  size: number;
  sha256: string;
  text: string | null;
}

let server: ImageServer;
let dir: string;
const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };

beforeAll(async () => {
  server = await startImageServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-dataset-'));
  server.hits.clear();
  return () => rm(dir, { recursive: true, force: true });
});

async function crew(args: string[], timeoutMs = 50_000) {
  const run = await runCrew(
    ['download', ...args, '--json', '--timeout', '2', '--backoff', '0.05'],
    {
      cwd: dir,
      env,
      timeoutMs,
    },
  );
  return { run, summary: run.stdout ? (JSON.parse(run.stdout) as Summary) : undefined };
}

const manifest = async (out = 'out'): Promise<Line[]> =>
  (await readFile(join(dir, out, 'crew-manifest.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Line);

/** The last line of each row, as a re-run reads the manifest. */
const lastLines = (lines: readonly Line[]): Map<number, Line> =>
  new Map(lines.map((line) => [line.row, line]));

/** Every member of a tar as Python's tarfile reads it, in order (json and txt as text). */
function tarMembers(path: string): Member[] {
  const script = [
    'import tarfile, json, hashlib, sys',
    'out = []',
    'with tarfile.open(sys.argv[1], "r:") as t:',
    '    for m in t:',
    '        data = t.extractfile(m).read()',
    '        text = data.decode() if m.name.endswith((".json", ".txt")) else None',
    '        out.append({"name": m.name, "size": m.size, "sha256": hashlib.sha256(data).hexdigest(), "text": text})',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(
    execFileSync('python3', ['-c', script, path], { encoding: 'utf8' }),
  ) as Member[];
}

const shardsIn = async (out: string): Promise<string[]> =>
  (await readdir(join(dir, out))).filter((name) => /^\d{5}\.tar$/.test(name)).sort();

/**
 * Checks every shard of --out against the manifest, member by member: each ok row's image,
 * json and txt under its key, in its shard's tar, and nothing else; the stats and the table.
 */
async function checkShards(out: string, rows: number, size: number): Promise<Map<number, Line>> {
  const lines = lastLines(await manifest(out));
  expect(lines.size).toBe(rows);
  const shards = await shardsIn(out);
  expect(shards).toEqual(
    Array.from({ length: Math.ceil(rows / size) }, (_, i) => `${String(i).padStart(5, '0')}.tar`),
  );
  for (const tar of shards) {
    const shard = Number(tar.slice(0, 5));
    const members = tarMembers(join(dir, out, tar));
    const expected: string[] = [];
    for (let row = shard * size + 1; row <= Math.min(rows, (shard + 1) * size); row++) {
      const line = lines.get(row)!;
      expect(line.key).toBe(
        `${String(shard).padStart(5, '0')}${String((row - 1) % size).padStart(String(size - 1).length, '0')}`,
      );
      if (line.status !== 'ok') continue;
      expect(line.file).toBe(tar);
      const image = members.find((m) => m.name === `${line.key}.png`)!;
      expect(image.sha256).toBe(line.sha256);
      expect(image.size).toBe(line.bytes);
      const json = JSON.parse(members.find((m) => m.name === `${line.key}.json`)!.text!) as Record<
        string,
        unknown
      >;
      expect(json).toMatchObject({
        key: line.key,
        row,
        url: line.url,
        sha256: line.sha256,
        status: 'ok',
        http: 200,
      });
      expect(json['width']).toBe(line.width);
      if (line.caption !== undefined) {
        expect(members.find((m) => m.name === `${line.key}.txt`)!.text).toBe(line.caption);
        expect(json['caption']).toBe(line.caption);
      }
      expected.push(
        `${line.key}.png`,
        `${line.key}.json`,
        ...(line.caption === undefined ? [] : [`${line.key}.txt`]),
      );
    }
    expect(members.map((m) => m.name).sort()).toEqual(expected.sort());
    const stats = JSON.parse(
      await readFile(join(dir, out, `${tar.slice(0, 5)}_stats.json`), 'utf8'),
    ) as Record<string, number>;
    const inShard = [...lines.values()].filter((l) => Math.floor((l.row - 1) / size) === shard);
    expect(stats).toMatchObject({
      rows: inShard.length,
      ok: inShard.filter((l) => l.status === 'ok').length,
      optedOut: inShard.filter((l) => l.status === 'opted-out').length,
      failed: inShard.filter((l) => l.status === 'failed').length,
    });
    const table = await readTable(join(dir, out, `${tar.slice(0, 5)}.parquet`));
    expect(table.map((r) => [Number(r['row']), r['status'], r['error']])).toEqual(
      inShard.sort((a, b) => a.row - b.row).map((l) => [l.row, l.status, l.error]),
    );
  }
  return lines;
}

async function readTable(path: string): Promise<Record<string, unknown>[]> {
  const bytes = await readFile(path);
  return parquetReadObjects({
    file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  });
}

/** The list into webdataset shards of 3 rows, its score column kept. */
const SHARDS_OF_3 = [
  ...['list.tsv', '-o', 'out', '--output-format', 'webdataset'],
  ...['--shard-size', '3', '--save-columns', 'score'],
];

describe('crew download: webdataset', () => {
  it('writes one tar per shard that Python reads back member by member, with stats and a table', async () => {
    const u = server.url;
    const rows = [
      `a dog, "running"\t${u}/img/a\t0.9`,
      `a cat\t${u}/noai\t0.8`, // opted out for every robot
      `the sea\t${u}/404\t0.7`,
      `again a dog\t${u}/img/a\t0.6`, // the same URL: fetched once, in two shards
      `a bird\t${u}/noai-otherbot\t0.5`, // opted out for another robot only: kept
      `crew, stay out\t${u}/noimageai-crew\t0.4`, // opted out for crew by name
      `not a url\tftp://x\t0.3`,
    ];
    await writeFile(join(dir, 'list.tsv'), `caption\turl\tscore\n${rows.join('\n')}\n`);
    const { run, summary } = await crew(SHARDS_OF_3);
    // The 404 and the ftp row failed; opt-outs are not failures.
    expect(run.stderr).toBe('crew: 2 of 7 rows failed (see out/crew-manifest.jsonl)\n');
    expect(run.code).toBe(1);
    expect(summary).toMatchObject({ total: 7, ok: 3, failed: 2, optedOut: 2, requests: 5 });
    expect(server.hits.get('/img/a')).toBe(1);
    const lines = await checkShards('out', 7, 3);
    expect(
      [...lines.values()].sort((a, b) => a.row - b.row).map((l) => [l.row, l.status, l.error]),
    ).toEqual([
      [1, 'ok', null],
      [2, 'opted-out', 'opted out: X-Robots-Tag noai'],
      [3, 'failed', 'HTTP 404'],
      [4, 'ok', null],
      [5, 'ok', null],
      [6, 'opted-out', 'opted out: X-Robots-Tag noimageai'],
      [7, 'failed', 'not an http(s) URL'],
    ]);
    expect(lines.get(1)).toMatchObject({
      caption: 'a dog, "running"',
      width: 1,
      height: 1,
      columns: { score: '0.9' },
    });
    // The table carries every row, the kept column under its own name.
    const table = await readTable(join(dir, 'out', '00000.parquet'));
    expect(table.map((r) => [r['key'], r['caption'], r['score'], r['status']])).toEqual([
      ['000000', 'a dog, "running"', '0.9', 'ok'],
      ['000001', 'a cat', '0.8', 'opted-out'],
      ['000002', 'the sea', '0.7', 'failed'],
    ]);
    const stats = JSON.parse(
      await readFile(join(dir, 'out', '00000_stats.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(stats).toMatchObject({
      rows: 3,
      ok: 1,
      failed: 1,
      optedOut: 1,
      failedByReason: { 'HTTP 404': 1 },
      bytes: PNG.length + 6,
    });
    // No temp folder, no tar left aside.
    expect((await readdir(join(dir, 'out'))).filter((n) => n.startsWith('.crew'))).toEqual([]);

    // A re-run skips every complete shard without a request; a changed row redoes its shard.
    server.hits.clear();
    const again = await crew(SHARDS_OF_3);
    expect(again.summary).toMatchObject({ total: 7, skipped: 7, ok: 0, requests: 0 });
    expect(server.hits.size).toBe(0);
    await writeFile(
      join(dir, 'list.tsv'),
      `caption\turl\tscore\n${rows.map((r, i) => (i === 4 ? `a new bird\t${u}/img/bird\t0.5` : r)).join('\n')}\n`,
    );
    const changed = await crew(SHARDS_OF_3);
    expect(changed.summary).toMatchObject({ total: 7, skipped: 4, ok: 2, optedOut: 1 });
    expect(Object.fromEntries(server.hits)).toEqual({
      '/img/a': 1,
      '/img/bird': 1,
      '/noimageai-crew': 1,
    });
    const redone = await checkShards('out', 7, 3);
    expect(redone.get(5)).toMatchObject({ caption: 'a new bird', status: 'ok' });
  });

  it('puts small bodies (sent from memory) and bodies over a MiB (from their temp files) in the tar byte for byte', async () => {
    const u = server.url;
    const urls = [
      `${u}/sized/1100/a`, // over the 1 MiB a worker holds: it goes through a temp file
      `${u}/img/b`, // a small body: it comes from the worker in memory
      `${u}/sized/1100/a`, // the same URLs in later shards: copied from the first tar
      `${u}/sized/900/c`,
      `${u}/img/b`,
    ];
    await writeFile(join(dir, 'list.csv'), `${urls.map((url, i) => `c${i},${url}`).join('\n')}\n`);
    const { run, summary } = await crew([
      ...['list.csv', '-o', 'out', '--output-format', 'webdataset', '--shard-size', '2'],
      ...['--caption-column', '1'],
    ]);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ total: 5, ok: 5, requests: 3 });
    const lines = await checkShards('out', 5, 2);
    const small = PNG.length + '/img/b'.length;
    expect([...lines.values()].sort((a, b) => a.row - b.row).map((l) => l.bytes)).toEqual([
      1100 * 1024,
      small,
      1100 * 1024,
      900 * 1024,
      small,
    ]);
    expect(lines.get(3)!.sha256).toBe(lines.get(1)!.sha256);
    expect(lines.get(5)!.sha256).toBe(lines.get(2)!.sha256);
    expect((await readdir(join(dir, 'out'))).filter((n) => n.startsWith('.crew'))).toEqual([]);
  });

  it('reads parquet and JSON lines (gzip too), keeping typed columns as JSON', async () => {
    const u = server.url;
    const n = 25;
    const bytes = parquetWriteBuffer({
      columnData: [
        {
          name: 'URL',
          data: Array.from({ length: n }, (_, i) => `${u}/img/p${i}`),
          type: 'STRING',
        },
        { name: 'TEXT', data: Array.from({ length: n }, (_, i) => `caption ${i}`), type: 'STRING' },
        { name: 'similarity', data: Array.from({ length: n }, (_, i) => i / 100), type: 'DOUBLE' },
      ],
    });
    await writeFile(join(dir, 'laion.parquet'), new Uint8Array(bytes));
    const { run, summary } = await crew([
      'laion.parquet',
      '-o',
      'pq',
      '--output-format',
      'webdataset',
      '--shard-size',
      '10',
      '--save-columns',
      'similarity',
    ]);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ total: n, ok: n });
    const lines = await checkShards('pq', n, 10);
    expect(lines.get(13)).toMatchObject({ caption: 'caption 12', columns: { similarity: 0.12 } });
    const table = await readTable(join(dir, 'pq', '00001.parquet'));
    expect(table[2]).toMatchObject({ key: '000012', caption: 'caption 12', similarity: 0.12 });

    const jsonl = Array.from({ length: 4 }, (_, i) =>
      JSON.stringify({ url: `${u}/img/j${i}`, alt: `alt ${i}` }),
    );
    await writeFile(join(dir, 'rows.jsonl.gz'), gzipSync(`${jsonl.join('\n')}\n42\n`));
    const fromJson = await crew(['rows.jsonl.gz', '-o', 'js']);
    expect(fromJson.summary).toMatchObject({ total: 5, ok: 4, failed: 1 });
    const jsonLines = lastLines(await manifest('js'));
    expect(jsonLines.get(2)).toMatchObject({ caption: 'alt 1', status: 'ok', file: 'j1.png' });
    expect(jsonLines.get(5)).toMatchObject({
      status: 'failed',
      error: 'not a JSON object (a number)',
    });
  });

  it('leaves no torn tar when killed with -9 mid-shard, and a re-run completes every shard exactly', async () => {
    const rows = 1200;
    const size = 200;
    const list = Array.from(
      { length: rows },
      (_, i) => `caption ${i}\t${server.url}/delay/15/${i}`,
    );
    await writeFile(join(dir, 'list.tsv'), `${list.join('\n')}\n`);
    const args = [
      'download',
      'list.tsv',
      '-o',
      'out',
      '--output-format',
      'webdataset',
      '--shard-size',
      String(size),
      '--caption-column',
      '1',
      '--json',
    ];
    const child = spawnCrew(args, { cwd: dir, env });
    const done = collect(child, { timeoutMs: 60_000 });
    // Kill once the first shard is complete: later shards are being written then.
    for (
      let waited = 0;
      !existsSync(join(dir, 'out', '00000.tar')) && waited < 40_000;
      waited += 20
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const before = await shardsIn('out');
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(before.length).toBeLessThan(rows / size);
    // Every tar under a final name is whole, with its side files beside it.
    for (const tar of before) {
      const stats = JSON.parse(
        await readFile(join(dir, 'out', `${tar.slice(0, 5)}_stats.json`), 'utf8'),
      ) as { ok: number };
      expect(tarMembers(join(dir, 'out', tar))).toHaveLength(stats.ok * 3);
    }
    // Nothing torn aside either: the killed run's temp folder goes with the next run.
    expect((await readdir(join(dir, 'out'))).filter((n) => n.endsWith('.tar'))).toEqual(before);
    server.hits.clear();
    const again = await runCrew(args.slice(0, -1).concat('--json'), {
      cwd: dir,
      env,
      timeoutMs: 60_000,
    });
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout) as Summary & { cleaned: number };
    expect(summary).toMatchObject({
      total: rows,
      failed: 0,
      skipped: before.length * size,
      ok: rows - before.length * size,
    });
    expect(summary.cleaned).toBe(1);
    expect(server.hits.size).toBe(rows - before.length * size);
    await checkShards('out', rows, size);
  });

  it('stops on a full disk with no torn tar under a final name; a re-run with room completes every shard', async () => {
    const disk = join(dir, 'small-disk');
    await mkdir(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]);
    try {
      const list = Array.from({ length: 12 }, (_, i) => `${server.url}/sized/300/full-${i}`);
      await writeFile(join(dir, 'list.csv'), `${list.join('\n')}\n`);
      const args = [
        'list.csv',
        '-o',
        join(disk, 'out'),
        '--output-format',
        'webdataset',
        '--shard-size',
        '3',
        '-w',
        '1',
        '-c',
        '2',
      ];
      const { run } = await crew(args);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/no space left on device.*stopped: \d+ downloaded/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      const names = await readdir(join(disk, 'out'));
      expect(names.filter((n) => n.startsWith('.crew-'))).toEqual([]);
      for (const tar of names.filter((n) => n.endsWith('.tar'))) {
        const stats = JSON.parse(
          await readFile(join(disk, 'out', `${tar.slice(0, 5)}_stats.json`), 'utf8'),
        ) as { ok: number };
        expect(tarMembers(join(disk, 'out', tar))).toHaveLength(stats.ok * 2);
      }
      execFileSync('mount', ['-o', 'remount,size=16m', disk]);
      const again = await crew(args);
      expect(again.run.code).toBe(0);
      expect(again.summary).toMatchObject({ total: 12, failed: 0 });
      await checkShards('small-disk/out', 12, 3);
    } finally {
      execFileSync('umount', [disk]);
    }
  });

  it('puts files in numbered folders with --layout shards, and a re-run agrees on every path', async () => {
    const list = Array.from({ length: 5 }, (_, i) => `pic,${server.url}/img/${i}`).join('\n');
    await writeFile(join(dir, 'list.csv'), `${list}\n`);
    const first = await crew(['list.csv', '-o', 'out', '--layout', 'shards', '--shard-size', '2']);
    expect(first.summary).toMatchObject({ ok: 5 });
    const files = (await manifest()).map((l) => l.file).sort();
    expect(files).toEqual([
      '00000/pic-2.png',
      '00000/pic.png',
      '00001/pic-3.png',
      '00001/pic-4.png',
      '00002/pic-5.png',
    ]);
    const again = await crew(['list.csv', '-o', 'out', '--layout', 'shards', '--shard-size', '2']);
    expect(again.summary).toMatchObject({ skipped: 5, requests: 0 });
  });
});

describe('crew download: opt-outs and the plan', () => {
  const list = (u: string) => `name,url\na,${u}/noai\nb,${u}/noimageai-crew\nc,${u}/png\n`;

  it('honours opt-outs by default (exit 0), and does not ask again on a re-run', async () => {
    await writeFile(join(dir, 'list.csv'), list(server.url));
    const { run, summary } = await crew(['list.csv', '-o', 'out']);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ ok: 1, optedOut: 2, failed: 0 });
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['c.png', 'crew-manifest.jsonl']);
    server.hits.clear();
    const again = await crew(['list.csv', '-o', 'out']);
    expect(again.summary).toMatchObject({ skipped: 3, requests: 0 });
  });

  it('keeps them with --ignore-opt-out, and says so on stderr; --opt-out-directives changes the list', async () => {
    await writeFile(join(dir, 'list.csv'), list(server.url));
    const ignored = await crew(['list.csv', '-o', 'all', '--ignore-opt-out']);
    expect(ignored.summary).toMatchObject({ ok: 3, optedOut: 0 });
    expect(ignored.run.stderr).toMatch(
      /--ignore-opt-out: images whose server opted out .* were kept/,
    );
    const narrowed = await crew(['list.csv', '-o', 'some', '--opt-out-directives', 'noimageai']);
    expect(narrowed.summary).toMatchObject({ ok: 2, optedOut: 1 });
    const bad = await crew(['list.csv', '--opt-out-directives', 'no ai']);
    expect(bad.run.code).toBe(2);
  });

  it('--robots-txt fetches each origin’s robots.txt once and skips what it disallows for crew', async () => {
    const u = server.url;
    const rows = [`a,${u}/img/a`, `b,${u}/img/secret-1`, `c,${u}/img/b`, `d,${u}/img/secret-2`];
    await writeFile(join(dir, 'list.csv'), `${rows.join('\n')}\n`);
    const plain = await crew(['list.csv', '-o', 'plain']);
    expect(plain.summary).toMatchObject({ ok: 4 });
    expect(server.hits.has('/robots.txt')).toBe(false);
    const { run, summary } = await crew(['list.csv', '-o', 'robots', '--robots-txt']);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ ok: 2, optedOut: 2, failed: 0 });
    expect(server.hits.get('/robots.txt')).toBe(1);
    expect(server.hits.get('/img/secret-1')).toBe(1); // by the run without --robots-txt
    const lines = lastLines(await manifest('robots'));
    expect(lines.get(2)).toMatchObject({ status: 'opted-out', error: 'disallowed by robots.txt' });
  });

  it('--dry-run reads the list, fetches nothing, and says what a run would skip', async () => {
    const u = server.url;
    await writeFile(
      join(dir, 'list.csv'),
      `name,url\na,${u}/img/1\nb,${u}/img/1\nc,${u}/img/2\nd,\n`,
    );
    const plan = await runCrew(['download', 'list.csv', '-o', 'out', '--dry-run', '--json'], {
      cwd: dir,
      env,
    });
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({
      dryRun: true,
      format: 'csv',
      rows: 4,
      bad: 1,
      distinctUrls: 2,
      hosts: [{ host: new URL(u).host, rows: 3 }],
      files: ['a.*', 'b.*', 'c.*'],
      skip: 0,
    });
    expect(server.hits.size).toBe(0);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    await crew(['list.csv', '-o', 'out']);
    const text = await runCrew(['download', 'list.csv', '-o', 'out', '--dry-run'], {
      cwd: dir,
      env,
    });
    expect(text.stdout).toMatch(/a run skips\s+3 rows \(done before\)/);
  });
});
