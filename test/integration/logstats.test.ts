import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, repoRoot, runCrew, spawnCrew } from '../helpers/cli.ts';

interface Doc {
  files: { file: string; total: number; ip: number; malformed: number; top?: unknown }[];
  all: {
    files: number;
    total: number;
    ip: number;
    malformed: number;
    bytes?: number;
    top?: unknown;
  };
  failed: { file: string; error: string }[];
}

// Lines whose true counts the test knows: every rule of the client field shows up.
const dayOne = [
  '1.2.3.4 - - [22/Mar/2021:10:00:00 +0800] "GET / HTTP/1.1" 200 12 "-" "curl/8"',
  '1.2.3.4 - frank [22/Mar/2021:10:00:01 +0800] "GET /a HTTP/1.1" 200 12',
  '5.6.7.8, 10.0.0.1 - - [22/Mar/2021:10:00:02 +0800] "GET /b HTTP/1.1" 200 12',
  '2001:DB8::1 - - [22/Mar/2021:10:00:03 +0800] "GET /c HTTP/1.1" 200 12',
  '2001:db8:0:0:0:0:0:1 - - [22/Mar/2021:10:00:04 +0800] "GET /d HTTP/1.1" 200 12',
  '',
  '   ',
  'not a log line at all',
  '999.1.1.1 - - [22/Mar/2021:10:00:05 +0800] "GET /e HTTP/1.1" 200 12',
]; // total 7, ip 3 (1.2.3.4, 5.6.7.8, 2001:db8::1), malformed 2
const dayTwo = [
  '5.6.7.8 - - [23/Mar/2021:10:00:00 +0800] "GET / HTTP/1.1" 200 12',
  '9.9.9.9 - - [23/Mar/2021:10:00:01 +0800] "GET / HTTP/1.1" 200 12',
  '9.9.9.9 - - [23/Mar/2021:10:00:02 +0800] "GET / HTTP/1.1" 200 12',
]; // total 3, ip 2; with day one: ip 4
const many = Array.from(
  { length: 2000 },
  (_, i) =>
    `10.${i % 7}.${(i >> 3) % 256}.${i % 200} - - [x] "GET /${'p'.repeat(i % 97)} HTTP/1.1" 200 1`,
);
const manyIps = new Set(many.map((line) => line.split(' ')[0])).size;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-logstats-'));
  await mkdir(join(dir, 'logs'));
  await writeFile(join(dir, 'logs', '20210322.log'), `${dayOne.join('\r\n')}\r\n`);
  // gzip, and no final newline
  await writeFile(join(dir, 'logs', '20210323.log.gz'), gzipSync(dayTwo.join('\n')));
  await writeFile(join(dir, 'logs', '.hidden.log'), `${dayTwo.join('\n')}\n`);
  await writeFile(join(dir, 'many.log'), `${many.join('\n')}\n`);
  const truncated = gzipSync(`${many.join('\n')}\n`);
  await writeFile(join(dir, 'truncated.log.gz'), truncated.subarray(0, truncated.length >> 1));
  await mkdir(join(dir, 'empty'));
  // Lines of megabytes: the client is at the start whatever follows.
  const long = `1.2.3.4 - - [22/Mar/2021:10:00:00 +0800] "GET /${'a'.repeat(5_000_000)} HTTP/1.1" 200 1`;
  await writeFile(
    join(dir, 'long.log'),
    [
      long,
      dayTwo[0],
      `${'x'.repeat(3_000_000)} - - [x]`,
      `${' '.repeat(2_000_000)}${dayTwo[1]}`,
      long,
    ].join('\n'),
  );
  // gzip(1) reads this with "trailing garbage ignored"; old Mac line ends (CR alone).
  await writeFile(
    join(dir, 'garbage.log.gz'),
    Buffer.concat([gzipSync(`${dayTwo.join('\n')}\n`), Buffer.from('appended by mistake\n')]),
  );
  await writeFile(join(dir, 'mac.log'), `${dayTwo.join('\r')}\r`);
  await writeFile(join(dir, 'long.log.gz'), gzipSync(`${long.repeat(20)}\n${dayTwo[2]}\n`));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function json(args: string[]): Promise<Doc> {
  const run = await runCrew(['logstats', ...args, '--json'], { cwd: dir });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Doc;
}

describe('crew logstats', () => {
  it('counts a directory exactly: per file and the union overall', async () => {
    const doc = await json(['logs']);
    expect(doc.files).toEqual([
      expect.objectContaining({ file: '20210322.log', total: 7, ip: 3, malformed: 2 }),
      expect.objectContaining({ file: '20210323.log.gz', total: 3, ip: 2, malformed: 0 }),
    ]);
    expect(doc.all).toMatchObject({ files: 2, total: 10, ip: 4, malformed: 2 });
    expect(doc.failed).toEqual([]);
  });

  it.each([
    ['thread', '1'],
    ['thread', '2'],
    ['process', '1'],
    ['process', '3'],
    ['inline', '1'],
  ])(
    'gives the same answers under %s x %s, with ranges cut inside lines',
    async (runtime, workers) => {
      // Every cut point is checked in process (unit/logstats/scan-range): here, that each
      // runtime sends ranges and merges their sets.
      const doc = await json([
        'many.log',
        'logs',
        '--runtime',
        runtime,
        '-w',
        workers,
        '--split-size',
        '64K',
      ]);
      expect(doc.files[0]).toMatchObject({
        file: 'many.log',
        total: 2000,
        ip: manyIps,
        malformed: 0,
      });
      expect(doc.all).toMatchObject({ files: 3, total: 2010, ip: manyIps + 4, malformed: 2 });
    },
  );

  it('prints an aligned table with a totals row', async () => {
    const run = await runCrew(['logstats', 'logs'], { cwd: dir });
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^file\s+total\s+ip\s+malformed$/);
    expect(lines[1]).toMatch(/^20210322\.log\s+7\s+3\s+2$/);
    expect(lines[2]).toMatch(/^20210323\.log\.gz\s+3\s+2\s+0$/);
    expect(lines[3]).toMatch(/^all \(2 files\)\s+10\s+4\s+2$/);
  });

  it('lists the busiest clients with --top', async () => {
    const doc = await json(['logs', '--top', '2']);
    expect(doc.files[0]!.top).toEqual([
      { ip: '1.2.3.4', requests: 2 },
      { ip: '2001:db8::1', requests: 2 },
    ]);
    expect(doc.all.top).toEqual([
      { ip: '1.2.3.4', requests: 2 },
      { ip: '5.6.7.8', requests: 2 },
    ]);
  });

  it('reads a log from stdin', async () => {
    const run = await runCrew(['logstats', '-', '--json'], { input: `${dayOne.join('\n')}\n` });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Doc).all).toMatchObject({ total: 7, ip: 3, malformed: 2 });
  });

  it('counts lines of megabytes by their client, cut into ranges anywhere', async () => {
    // long.log: 1.2.3.4, 5.6.7.8, a 3 MB malformed line, 9.9.9.9 after 2 MB of spaces, 1.2.3.4
    for (const split of ['1M', '333K', '64M']) {
      const doc = await json(['long.log', 'long.log.gz', '--split-size', split]);
      expect(doc.files).toEqual([
        expect.objectContaining({ file: 'long.log', total: 5, ip: 3, malformed: 1 }),
        // twenty 5 MB lines run together are one line of 100 MB, then 9.9.9.9
        expect.objectContaining({ file: 'long.log.gz', total: 2, ip: 2, malformed: 0 }),
      ]);
    }
  });

  it('counts a .gz with trailing garbage as gzip(1) does, warning, and lines ended by CR', async () => {
    const run = await runCrew(['logstats', 'garbage.log.gz', 'mac.log', '--json'], { cwd: dir });
    // The data was read: a warning, not a failure.
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('crew: garbage.log.gz: trailing garbage ignored\n');
    expect((JSON.parse(run.stdout) as Doc).files).toEqual([
      expect.objectContaining({ file: 'garbage.log.gz', total: 3, ip: 2, malformed: 0 }),
      expect.objectContaining({ file: 'mac.log', total: 3, ip: 2, malformed: 0 }),
    ]);
  });

  it('reads a FIFO named on the command line to its end, like stdin', async () => {
    const fifo = join(dir, 'pipe.log');
    execFileSync('mkfifo', [fifo]);
    try {
      const child = spawnCrew(['logstats', 'pipe.log', 'logs/20210323.log.gz', '--json'], {
        cwd: dir,
      });
      const done = collect(child);
      const writer = createWriteStream(fifo);
      // Written in pieces, so the reader sees a stream and never a size.
      for (const line of dayOne) writer.write(`${line}\n`);
      writer.end();
      const run = await done;
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const doc = JSON.parse(run.stdout) as Doc;
      expect(doc.files).toEqual([
        expect.objectContaining({ file: 'pipe.log', total: 7, ip: 3, malformed: 2 }),
        expect.objectContaining({ file: 'logs/20210323.log.gz', total: 3, ip: 2 }),
      ]);
      expect(doc.all).toMatchObject({ files: 2, total: 10, ip: 4 });
    } finally {
      await rm(fifo);
    }
  });

  it('reads /dev/stdin as its own stdin, a file or a pipe, and a device to its end', async () => {
    // stdin is the file itself, not a pipe: a worker that opened /dev/stdin would get its own.
    const file = await open(join(dir, 'many.log'));
    try {
      const run = await runCrew(['logstats', '/dev/stdin', '/dev/null', '--json'], {
        cwd: dir,
        stdin: file.fd,
      });
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as Doc).files).toEqual([
        expect.objectContaining({ file: '/dev/stdin', total: 2000, ip: manyIps }),
        expect.objectContaining({ file: '/dev/null', total: 0, ip: 0 }),
      ]);
    } finally {
      await file.close();
    }
    const piped = await runCrew(['logstats', '/dev/stdin', '--json'], {
      input: `${dayOne.join('\n')}\n`,
    });
    expect(piped.code).toBe(0);
    expect((JSON.parse(piped.stdout) as Doc).all).toMatchObject({ total: 7, ip: 3, malformed: 2 });
  });

  it('counts a file of one 20 MB line and no newline once, however many ranges it is cut into', async () => {
    // Every range after the first finds no line start before its own end and counts nothing.
    const path = join(dir, 'one-line.log');
    await writeFile(path, `10.0.0.9 - - [x] "GET /${'y'.repeat(20 << 20)}`);
    try {
      for (const workers of ['1', '2']) {
        const doc = await json([path, '--split-size', '1M', '-w', workers]);
        expect(doc.all).toMatchObject({ files: 1, total: 1, ip: 1, malformed: 0 });
        expect(doc.all).toMatchObject({ bytes: 20 * 2 ** 20 + 23 });
      }
    } finally {
      await rm(path);
    }
  });

  it('keeps a million distinct IPv6 clients off the JS heap, counted exactly', async () => {
    // A Map of address strings takes ~90 MB of heap for these; the typed-array set none.
    const path = join(dir, 'ipv6.log');
    const count = 1_000_000;
    const out = createWriteStream(path);
    for (let i = 0; i < count; i += 10_000) {
      let batch = '';
      for (let j = i; j < i + 10_000; j++) {
        const address = `2001:db8:${(j >>> 16).toString(16)}:${(j & 0xffff).toString(16)}::1`;
        batch += `${address} - - [x] "GET / HTTP/1.1" 200 1\n`;
        // The same client spelled otherwise: counted once.
        if (j % 10 === 0) batch += `${address.toUpperCase().replace('::', ':0:0:0:')} - - [x]\n`;
      }
      if (!out.write(batch)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    try {
      const run = await runCrew(['logstats', path, '--json', '--runtime', 'inline'], {
        env: { NODE_OPTIONS: '--max-old-space-size=32' },
      });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as Doc).all).toMatchObject({
        total: count + count / 10,
        ip: count,
        malformed: 0,
      });
    } finally {
      await rm(path);
    }
  });

  it('reports unreadable inputs with their reason, counts the rest, exits 1', async () => {
    const run = await runCrew(
      ['logstats', 'logs/20210322.log', 'missing.log', 'truncated.log.gz', '--json'],
      {
        cwd: dir,
      },
    );
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as Doc;
    expect(doc.all).toMatchObject({ files: 1, total: 7, ip: 3 });
    expect(doc.failed.map((f) => f.file)).toEqual(['missing.log', 'truncated.log.gz']);
    expect(doc.failed[0]!.error).toBe('no such file or directory');
    expect(doc.failed[1]!.error).toMatch(/^corrupt gzip data/);
    expect(run.stderr).toMatch(/^crew: 2 files could not be read: missing\.log \(no such file/);
  });

  it('says so for an empty directory and exits 0 with zero totals', async () => {
    const run = await runCrew(['logstats', 'empty', '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('crew: no log files in empty\n');
    expect((JSON.parse(run.stdout) as Doc).all).toEqual({
      files: 0,
      total: 0,
      ip: 0,
      malformed: 0,
      bytes: 0,
    });
  });

  it.each([
    [['logstats'], /Not enough non-option arguments/],
    [['logstats', 'logs', '--top', '-1'], /--top must be a whole number/],
    [['logstats', 'logs', '--split-size', 'lots'], /--split-size must be a size/],
    [['logstats', 'logs', '--split-size', '1'], /--split-size must be at least 64K; got "1"/],
  ])('rejects %j as a usage error', async (args, message) => {
    const run = await runCrew(args, { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('counts the bundled samples as their generator says', async () => {
    const expected = JSON.parse(
      await readFile(join(repoRoot, 'samples/logs/.expected.json'), 'utf8'),
    ) as Doc;
    const run = await runCrew(['logstats', 'samples/logs', '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as Doc;
    expect(
      doc.files.map(({ file, total, ip, malformed }) => ({ file, total, ip, malformed })),
    ).toEqual(expected.files);
    expect(doc.all).toMatchObject(expected.all);
  });
});
