import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanRange } from '../../../src/logstats/read.ts';
import { INPUT_BYTES } from '../../../src/logstats/line-scan.ts';
import { distinctClients } from '../../../src/logstats/tally.ts';
import { ClientUnion } from '../../../src/logstats/client-union.ts';
import { panelCountsOf, type PanelName } from '../../../src/logstats/panels.ts';
import type { LineRules } from '../../../src/logstats/formats/index.ts';

// Lines of many lengths and endings, so that cut points land inside the client field, inside
// the rest of a line, on a CR, on an LF, and right after one.
const lines = [
  '10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326',
  '10.0.0.2 - - [10/Oct/2000:13:55:37 -0700] "GET /a HTTP/1.1" 200 1\r',
  '',
  '2001:db8::1 - - [10/Oct/2000:13:55:38 -0700] "GET /b HTTP/1.1" 404 0',
  'not a log line at all',
  `10.0.0.3 - - [10/Oct/2000:13:55:39 -0700] "GET /${'x'.repeat(700)} HTTP/1.1" 200 9`,
  '10.0.0.1 - - [10/Oct/2000:13:55:40 -0700] "GET / HTTP/1.1" 304 0\r',
  '192.168.100.200 - - [10/Oct/2000:13:55:41 -0700] "POST /c HTTP/1.1" 201 12',
  '2001:db8::1 - - [10/Oct/2000:13:55:42 -0700] "GET /d HTTP/1.1" 200 3',
];

let dir: string;
let file: string;
let size: number;

/**
 * True inside the run of 700 x's, away from its ends. A range's scan depends on a cut only
 * through the first line start at or after it (and the byte before it), so every cut in
 * there reads and counts exactly as its neighbours do: the run keeps its first and last 8
 * bytes as cut points and the long line its place in the wide pairs, and the tests skip the
 * 683 cuts that repeat them (they were over half of this file's scans).
 */
const longRun = lines.slice(0, 5).join('\n').length + 1 + lines[5]!.indexOf('x');
const midRun = (cut: number): boolean => cut > longRun + 8 && cut < longRun + 700 - 8;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-scan-range-'));
  file = join(dir, 'access.log');
  // The last line has no line end: a file cut off mid-write still counts it.
  const text = lines.join('\n');
  size = Buffer.byteLength(text);
  await writeFile(file, text);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/** Scans `[0, size)` cut at `cuts`, one range at a time, and unions the results. */
async function scanCut(cuts: readonly number[]) {
  const bounds = [0, ...cuts, size];
  const union = new ClientUnion(false);
  for (let i = 0; i + 1 < bounds.length; i++) {
    const range = { file: 0, path: file, start: bounds[i]!, end: bounds[i + 1]!, gzip: false };
    union.add(await scanRange(range, false));
  }
  return { total: union.total, malformed: union.malformed, ips: union.ips, bytes: union.bytes };
}

/**
 * The cut lists whose scan differs from `expected`, with what it gave. Several lists are
 * scanned at once: each scan is a few small reads, and one at a time the test mostly waited
 * for the file system's thread pool, not for the scanner.
 */
async function wrongCuts(cutLists: readonly (readonly number[])[], expected: object) {
  const wrong: { cuts: readonly number[]; got: object }[] = [];
  const queue = [...cutLists];
  const scanner = async (): Promise<void> => {
    for (let cuts = queue.shift(); cuts; cuts = queue.shift()) {
      const got = await scanCut(cuts);
      if (!isDeepStrictEqual(got, expected)) wrong.push({ cuts, got });
    }
  };
  await Promise.all(Array.from({ length: 8 }, scanner));
  return wrong;
}

describe('scanRange: ranges cut anywhere count every line exactly once', () => {
  // Counted by hand: 8 requests (the empty line is no request), 1 of them not a log line,
  // 5 distinct clients.
  const expected = { total: 8, malformed: 1, ips: 5 };

  it('counts the whole file', async () => {
    expect(await scanCut([])).toEqual({ ...expected, bytes: size });
  });

  it('at every single cut point', async () => {
    const cuts = Array.from({ length: size - 1 }, (_, i) => [i + 1]).filter(([c]) => !midRun(c!));
    expect(await wrongCuts(cuts, { ...expected, bytes: size })).toEqual([]);
  });

  it('at many pairs of cut points, including empty and one-byte ranges', async () => {
    const pairs: number[][] = [];
    for (let a = 1; a < size; a += 7) {
      if (midRun(a)) continue;
      for (const width of [0, 1, 2, 65, 66, 700, 800]) pairs.push([a, Math.min(size, a + width)]);
    }
    expect(await wrongCuts(pairs, { ...expected, bytes: size })).toEqual([]);
  });
});

describe('scanRange on a file that is one long line', () => {
  it('counts it once, in the range where it starts, however the file is cut', async () => {
    const path = join(dir, 'one-line.log');
    const text = `10.0.0.9 - - [10/Oct/2000:13:55:36 -0700] "GET /${'y'.repeat(3 << 20)}`;
    await writeFile(path, text);
    const size = Buffer.byteLength(text);
    const union = new ClientUnion(false);
    const piece = 64 * 1024;
    for (let start = 0; start < size; start += piece) {
      const range = { file: 0, path, start, end: Math.min(size, start + piece), gzip: false };
      const result = await scanRange(range, false);
      expect(result.total, `range at ${start}`).toBe(start === 0 ? 1 : 0);
      union.add(result);
    }
    expect({ total: union.total, ips: union.ips, bytes: union.bytes }).toEqual({
      total: 1,
      ips: 1,
      bytes: size,
    });
  });
});

describe('scanRange across many reads (two input regions, filled while the other is scanned)', () => {
  it('counts a file of many chunks exactly, every chunk boundary inside some line', async () => {
    // ~3.5 MB: seven reads of INPUT_BYTES, lines of varying length so that each boundary
    // falls mid-line, and every 1000th line from a new client.
    const parts: string[] = [];
    let total = 0;
    for (let i = 0; total < 3.5e6; i++) {
      const line = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} - - [x] "GET /${'y'.repeat(i % 97)}" 200 1`;
      parts.push(line);
      total += line.length + 1;
    }
    const big = join(dir, 'big.log');
    await writeFile(big, `${parts.join('\n')}\n`);
    const result = await scanRange(
      { file: 0, path: big, start: 0, end: total, gzip: false },
      false,
    );
    expect(result.total).toBe(parts.length);
    expect(result.malformed).toBe(0);
    expect(result.ipv4.count).toBe(parts.length); // every line its own client
    expect(result.bytes).toBe(total);
  });
});

describe('scanRange: scans at once in one thread', () => {
  // Without the fast scanner (panels), every tally of a thread reads into one shared buffer:
  // each read is pushed before the scan awaits, so scans that interleave (each yields to the
  // event loop every 16 reads) never see each other's bytes.
  it('count each file as they do alone', async () => {
    const write = async (name: string, net: number, status: number): Promise<string> => {
      const path = join(dir, name);
      const text = Array.from(
        { length: 90_000 },
        (_, i) =>
          `10.${net}.${(i >> 8) & 255}.${i & 255} - - [10/Oct/2000:13:55:36 -0700] "GET /${name}/${'z'.repeat(i % 89)} HTTP/1.1" ${status} ${i}`,
      ).join('\n');
      await writeFile(path, `${text}\n`);
      return path;
    };
    const paths = await Promise.all([
      write('a.log', 1, 200),
      write('b.log', 2, 404),
      write('c.log', 3, 503),
    ]);
    const panels: PanelName[] = ['status', 'paths'];
    const rules: LineRules = {
      format: 'combined',
      by: 'day',
      panels,
      utc: false,
      ipField: undefined,
      timeField: undefined,
    };
    const scan = async (path: string) => {
      const { size: end } = await stat(path);
      expect(end).toBeGreaterThan(17 * INPUT_BYTES);
      return scanRange({ file: 0, path, start: 0, end, gzip: false }, true, rules);
    };
    // What a report shows of a scan (its tables' layout may differ from one scan to the next).
    const shown = (result: Awaited<ReturnType<typeof scan>>) => ({
      total: result.total,
      malformed: result.malformed,
      ip: distinctClients(result),
      bytes: result.bytes,
      panels: panelCountsOf(result.panels!, panels).toJson(10),
    });
    const alone = [];
    for (const path of paths) alone.push(shown(await scan(path)));
    const together = (await Promise.all(paths.map(scan))).map(shown);
    expect(together).toEqual(alone);
    expect(together.map((r) => [r.total, r.malformed, r.ip])).toEqual([
      [90_000, 0, 65_536],
      [90_000, 0, 65_536],
      [90_000, 0, 65_536],
    ]);
  });
});

describe('scanRange on a file that changes while it is read', () => {
  const line = (i: number): string => `10.0.0.${i} - - [x] "GET /" 200 1\n`;
  const lines = (from: number, to: number): string =>
    Array.from({ length: to - from }, (_, i) => line(from + i)).join('');

  it('counts a file appended to as it was when planned: lines that start before its end', async () => {
    const path = join(dir, 'growing.log');
    // The writer is in the middle of line 5 when the count is planned.
    const planned = `${lines(0, 5)}10.0.0.5 - - [x]`;
    await writeFile(path, `${planned} "GET /" 200 1\n${lines(6, 50)}`);
    for (const ranges of [
      [[0, planned.length]],
      [
        [0, 40],
        [40, planned.length],
      ],
    ]) {
      const union = new ClientUnion(false);
      for (const [start, end] of ranges) {
        union.add(await scanRange({ file: 0, path, start: start!, end: end!, gzip: false }, false));
      }
      expect([ranges, union.total, union.ips, union.malformed]).toEqual([ranges, 6, 6, 0]);
    }
  });

  // Planned at a line start, the line after is not counted; planned inside it (its address
  // cut short), it is counted whole.
  it.each([
    [0, 5],
    [6, 6],
  ])('counts a file appended to %i bytes into its sixth line as planned', async (into, total) => {
    const path = join(dir, `grown-${into}.log`);
    await writeFile(path, lines(0, 50));
    const end = lines(0, 5).length + into;
    const got = await scanRange({ file: 0, path, start: 0, end, gzip: false }, false);
    expect([got.total, got.malformed, distinctClients(got)]).toEqual([total, 0, total]);
  });

  // A small file is read whole in one read (a byte more than planned, to see that it did
  // not grow); from INPUT_BYTES on, in several.
  it.each([INPUT_BYTES - 2, INPUT_BYTES - 1, INPUT_BYTES, INPUT_BYTES + 1])(
    'counts a file of %i bytes whole, exactly, as planned',
    async (bytes) => {
      const path = join(dir, `sized-${bytes}.log`);
      const head = Array.from({ length: 10_000 }, (_, i) => line(i % 250)).join('');
      // The last line's path pads the file to `bytes`.
      const last = (pad: number): string => `10.0.1.1 - - [x] "GET /${'p'.repeat(pad)}" 200 1\n`;
      await writeFile(path, head + last(bytes - head.length - last(0).length));
      expect((await stat(path)).size).toBe(bytes);
      const got = await scanRange({ file: 0, path, start: 0, end: bytes, gzip: false }, false);
      expect([got.total, got.malformed, got.bytes]).toEqual([10_001, 0, bytes]);
    },
  );

  it.each([
    ['cut to nothing', 0],
    ['cut inside the third line', 70],
    ['cut by its last byte', -1],
  ])('fails on a file %s after the count was planned', async (_, cut) => {
    const path = join(dir, `cut-${cut}.log`);
    const text = lines(0, 200);
    const left = cut < 0 ? text.length + cut : cut;
    await writeFile(path, text.slice(0, left));
    const whole = { file: 0, path, start: 0, end: text.length, gzip: false };
    await expect(scanRange(whole, false)).rejects.toThrow(
      new RegExp(
        `^truncated while read \\(it ended at byte ${left.toLocaleString('en-US')} of the [\\d,]+ being counted\\)$`,
      ),
    );
    // A range that ends before the cut still counts: the range that reaches it fails.
    if (left > 0) {
      const first = await scanRange({ ...whole, end: 30 }, false);
      expect(first).toMatchObject({ total: 1, malformed: 0 });
    }
  });

  // Listed as a file, then a FIFO in its place that nothing writes to: opening it to read
  // would wait for a writer, for ever. In a process of its own, so that a hang is a failure
  // after 20 s and not a test run that never ends (a blocked open holds vitest's worker too).
  it.each([false, true])(
    'fails at once on a FIFO found where a file was planned (gzip: %s)',
    async (gzip) => {
      const path = join(dir, `fifo-${gzip}.log`);
      execFileSync('mkfifo', [path]);
      const module = new URL('../../../src/logstats/read.ts', import.meta.url).href;
      const range = JSON.stringify({ file: 0, path, start: 0, end: 100, gzip });
      const script = `const { scanRange } = await import(${JSON.stringify(module)});
      await scanRange(${range}, false).then(() => console.log('counted'), () => console.log('failed'));`;
      const run = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        timeout: 20_000,
      });
      expect((await run).stdout.trim()).toBe('failed');
    },
  );

  // Its size says 4096, like every sysfs file; it holds fewer bytes.
  it('says where a file that claims more than it holds ended', async () => {
    const path = '/sys/devices/system/cpu/online';
    const held = (await readFile(path)).length;
    expect((await stat(path)).size).toBe(4096);
    await expect(
      scanRange({ file: 0, path, start: 0, end: 4096, gzip: false }, false),
    ).rejects.toThrow(`truncated while read (it ended at byte ${held} of the 4,096 being counted)`);
  });
});

describe('scanRange: a table budget', () => {
  it('fills the room it gives the clients before it stops, and the rest counts exactly', async () => {
    // 120,000 distinct IPv6 clients; 1 MiB of room is a table of 65,536 slots, which holds
    // 49,152 of them. The IPv4 table sized up front for that many lines is never touched.
    // Lines of 300 bytes: a read of 512 KiB adds ~1,700 clients before the scan can stop.
    const count = 120_000;
    const path = join(dir, 'distinct-v6.log');
    const request = `"GET /${'p'.repeat(240)} HTTP/1.1" 200 1`;
    const text = Array.from(
      { length: count },
      (_, i) =>
        `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::1 - - ${request}\n`,
    ).join('');
    await writeFile(path, text);
    const budget = 2 ** 20;
    const union = new ClientUnion(false);
    const parts: number[] = [];
    for (let start: number | undefined = 0; start !== undefined;) {
      const range = { file: 0, path, start, end: text.length, gzip: false };
      const part = await scanRange(range, false, undefined, undefined, budget);
      parts.push(part.ipv6.count);
      union.add(part);
      start = part.next;
    }
    expect([union.total, union.ips, union.malformed]).toEqual([count, count, 0]);
    // Each part but the last filled three quarters of its table, and no more than it holds.
    for (const part of parts.slice(0, -1)) {
      expect(part).toBeGreaterThanOrEqual(49_152);
      expect(part).toBeLessThan(65_536 * 0.8);
    }
    expect(parts).toHaveLength(3);
  });
});
