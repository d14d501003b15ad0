/**
 * Inputs where crew logstats once gave wrong counts without a word. Counts are worked out here
 * from the lines the test writes.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, collect, runCrew, spawnCrew } from '../helpers/cli.ts';

interface Doc {
  files: { file: string; total: number; ip: number; malformed: number }[];
  all: { total: number; ip: number; malformed: number; top?: { ip: string }[] };
  groups?: { key: string; total: number; ip: number; malformed: number }[];
  failed: { file: string; error: string }[];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-edges-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function counts(args: readonly string[], input?: Buffer): Promise<Doc> {
  const run = await runCrew(['logstats', ...args, '--json'], {
    cwd: dir,
    ...(input ? { input } : {}),
  });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Doc;
}

/** An nginx-style JSON line; `pad` makes lines of many lengths, so reads end inside them. */
const jsonLine = (ip: string, pad: number): string =>
  JSON.stringify({
    time_iso8601: '2024-01-02T03:04:05+00:00',
    remote_addr: ip,
    request: `GET /${'a'.repeat(pad)} HTTP/1.1`,
    status: 200,
  });

describe('JSON lines that cross a read', () => {
  // ~2.4 MB: with reads of 512 KiB (a file) and of 16 KiB (gunzip), dozens of lines cross one.
  const lines = Array.from({ length: 20_000 }, (_, i) =>
    jsonLine(`10.${i % 3}.${(i >> 8) & 255}.${i & 255}`, i % 53),
  );
  const ips = new Set(
    lines.map((line) => (JSON.parse(line) as { remote_addr: string }).remote_addr),
  );

  const text = `${lines.join('\n')}\n`;
  beforeAll(async () => {
    await writeFile(join(dir, 'nginx.json.log'), text);
    await writeFile(join(dir, 'nginx.json.log.gz'), gzipSync(text));
  });

  it.each([
    ['auto, a plain file', ['nginx.json.log']],
    ['auto, a .gz', ['nginx.json.log.gz']],
    ['auto, inline', ['nginx.json.log', '--runtime', 'inline']],
    ['auto, stdin', ['-']],
    ['--format json', ['nginx.json.log', '--format', 'json']],
    ['--by day', ['nginx.json.log.gz', '--by', 'day']],
  ])('are read whole (%s)', async (_, args) => {
    const doc = await counts(args, args[0] === '-' ? Buffer.from(text) : undefined);
    expect(doc.all).toMatchObject({ total: lines.length, ip: ips.size, malformed: 0 });
  });

  it('are read whole up to 1 MiB, as the README says, and malformed beyond', async () => {
    const sizes = [600 * 1024, 1024 * 1024 - 200, 1024 * 1024 + 100];
    const text = sizes.map((size, i) => jsonLine(`192.0.2.${i + 1}`, size - 120)).join('\n');
    const lengths = text.split('\n').map((line) => Buffer.byteLength(line));
    // The test's own lines are on the side of the limit it means.
    expect([lengths[0]! > 512 * 1024, lengths[1]! <= 1 << 20, lengths[2]! > 1 << 20]).toEqual([
      true,
      true,
      true,
    ]);
    await writeFile(join(dir, 'long.json.log'), `${text}\n`);
    await writeFile(join(dir, 'long.json.log.gz'), gzipSync(`${text}\n`));
    for (const file of ['long.json.log', 'long.json.log.gz']) {
      for (const extra of [[], ['--format', 'json'], ['--by', 'day']]) {
        const doc = await counts([file, ...extra]);
        expect([file, ...extra, doc.all]).toEqual([
          file,
          ...extra,
          expect.objectContaining({ total: 3, ip: 2, malformed: 1 }),
        ]);
      }
    }
  });
});

describe('the client 0.0.0.0', () => {
  const clf = (ip: string): string =>
    `${ip} - - [02/Jan/2024:03:04:05 +0000] "GET / HTTP/1.1" 200 1`;

  it('is one distinct client in every mode, in one file and across files', async () => {
    await writeFile(
      join(dir, 'zero.log'),
      `${['0.0.0.0', '1.2.3.4', '0.0.0.0', '0.0.0.0, 10.0.0.1'].map(clf).join('\n')}\n`,
    );
    await writeFile(join(dir, 'zero-too.log'), `${['0.0.0.0', '5.6.7.8'].map(clf).join('\n')}\n`);
    await writeFile(
      join(dir, 'zero.json.log'),
      `${['0.0.0.0', '1.2.3.4'].map((ip) => jsonLine(ip, 1)).join('\n')}\n`,
    );
    for (const extra of [[], ['--by', 'day'], ['--top', '5'], ['--runtime', 'inline']]) {
      const one = await counts(['zero.log', ...extra]);
      expect([extra, one.all]).toEqual([extra, expect.objectContaining({ total: 4, ip: 2 })]);
      const two = await counts(['zero.log', 'zero-too.log', ...extra]);
      expect([extra, two.all]).toEqual([extra, expect.objectContaining({ total: 6, ip: 3 })]);
    }
    expect((await counts(['zero.json.log'])).all).toMatchObject({ total: 2, ip: 2 });
  });
});

/** Bytes crew and its workers have read so far (/proc/PID/io). */
function bytesRead(pid: number): number {
  let sum = 0;
  for (const p of [pid, ...childrenOf(pid)]) {
    try {
      sum += Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${p}/io`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone already
    }
  }
  return sum;
}

describe('a file cut shorter while it is read', () => {
  it.each(['inline', 'process'])(
    'fails with the reason and exit 1, its counts not shown (%s)',
    async (runtime) => {
      const path = join(dir, `cut-${runtime}.log`);
      const head = `${['1.2.3.4', '5.6.7.8'].map((ip) => `${ip} - - [x] "GET /"`).join('\n')}\n`;
      await writeFile(path, head);
      // 64 GiB that take no disk: the scan is still reading when the file is cut.
      await truncate(path, 64 * 2 ** 30);
      await writeFile(join(dir, 'whole.log'), head);
      const child = spawnCrew(['logstats', path, 'whole.log', '--runtime', runtime, '--json'], {
        cwd: dir,
      });
      const done = collect(child, { timeoutMs: 40_000 });
      try {
        for (const deadline = Date.now() + 20_000; bytesRead(child.pid!) < 256 * 2 ** 20;) {
          if (Date.now() > deadline) throw new Error('crew did not start reading');
          await sleep(20);
        }
      } catch (error) {
        child.kill('SIGKILL');
        throw error;
      }
      await truncate(path, head.length);
      const run = await done;
      expect(run.code).toBe(1);
      const doc = JSON.parse(run.stdout) as Doc;
      expect(doc.failed).toEqual([
        {
          file: path,
          // Of the whole file, or of the part one worker was counting.
          error: expect.stringMatching(
            new RegExp(
              `^truncated while read \\(it ended at byte ${head.length} of the [\\d,]+ being counted\\)$`,
            ),
          ) as unknown,
        },
      ]);
      expect(doc.files).toEqual([expect.objectContaining({ file: 'whole.log', total: 2, ip: 2 })]);
      expect(run.stderr).toContain(`${path} (truncated while read`);
    },
  );
});
