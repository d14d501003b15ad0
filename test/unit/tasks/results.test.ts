/**
 * Each task's `acceptResult`: what a coordinator takes of a queue worker's answer. Real
 * answers (the tasks run here on real files, then sent through V8 serialization as the queue
 * carries them) pass; forged ones, each wrong in one way, are refused with the reason.
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment,
   @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call,
   @typescript-eslint/no-unsafe-return --
   a forger writes any shape: these tests change real answers field by field, types aside. */
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LineRules } from '../../../src/logstats/formats/index.ts';
import { PANEL_NAMES } from '../../../src/logstats/panels.ts';
import type { ScanRange } from '../../../src/logstats/split.ts';
import { acceptAnswer, taskNamed } from '../../../src/tasks/registry.ts';
import { tempDirs } from '../../helpers/temp-dirs.ts';

const root = realpathSync(tempDirs().make('crew-results-'));

/** Lines of a combined log: IPv4 and IPv6 clients, two days, a malformed line. */
function logLines(clients: number): string {
  const lines: string[] = [];
  for (let i = 0; i < clients; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const day = i % 2 === 0 ? '10' : '11';
    lines.push(
      `${ip} - - [${day}/Oct/2024:13:55:36 +0000] "GET /p/${i % 7} HTTP/1.1" ${i % 5 === 0 ? 404 : 200} ${i % 900} "https://ref.example/x" "agent-${i % 3}"`,
    );
  }
  lines.push(
    `2001:db8::${(clients % 65535).toString(16)} - - [11/Oct/2024:01:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "Googlebot/2.1"`,
  );
  lines.push('not a log line at all');
  return `${lines.join('\n')}\n`;
}

const small = join(root, 'small.log');
const big = join(root, 'big.log');
const rules: LineRules = {
  format: 'combined',
  by: 'day',
  utc: true,
  ipField: undefined,
  timeField: undefined,
  panels: [...PANEL_NAMES],
};

/** `value` as a worker's answer reaches the coordinator: serialized and read back. */
const wire = <T>(value: T): T => deserialize(serialize(value)) as T;

/** Runs task `name` here, as a worker would, and gives its answer off the wire. */
async function answer(name: string, input: unknown): Promise<Record<string, unknown>> {
  return wire(await taskNamed(name)!.run(input)) as Record<string, unknown>;
}

const rangeOf = (path: string, size: number): ScanRange => ({
  file: 0,
  path,
  start: 0,
  end: size,
  gzip: false,
});

let smallSize = 0;
let bigSize = 0;
beforeAll(() => {
  const text = logLines(50);
  writeFileSync(small, text);
  smallSize = Buffer.byteLength(text);
  // More distinct clients than a small run holds: the big run (lows in buckets) travels.
  const bigText = logLines(140_000);
  writeFileSync(big, bigText);
  bigSize = Buffer.byteLength(bigText);
});

describe('real answers pass', () => {
  it.each([
    [
      'small, with --by, --panels and --top',
      () => ({ range: rangeOf(small, smallSize), top: true, rules }),
    ],
    ['small, plain', () => ({ range: rangeOf(small, smallSize), top: false })],
    ['big, with --top', () => ({ range: rangeOf(big, bigSize), top: true })],
    ['big, with --by and --panels', () => ({ range: rangeOf(big, bigSize), top: false, rules })],
    [
      'small, a --log-format that misreads every line',
      () => ({
        range: rangeOf(small, smallSize),
        top: false,
        rules: { ...rules, logFormat: { pattern: '%h|%s' } },
      }),
    ],
  ])('logstatsRange: %s', async (_, input) => {
    const asked = input();
    const result = await answer('logstatsRange', asked);
    expect(acceptAnswer('logstatsRange', asked, result)).toBe(undefined);
    if ((asked as { rules?: LineRules }).rules?.logFormat) {
      expect(result).toMatchObject({ misread: { lines: 52 } });
    }
  });

  it('logstatsFiles, with a file that fails', async () => {
    const files = [rangeOf(small, smallSize), { ...rangeOf(join(root, 'gone.log'), 10), file: 1 }];
    for (const input of [
      { files, top: 3, rules },
      { files, top: 0 },
    ]) {
      const result = await answer('logstatsFiles', input);
      expect(acceptAnswer('logstatsFiles', input, result)).toBe(undefined);
    }
  });

  it('sumRange', async () => {
    const input = { start: -5n, end: 1_000n };
    expect(await answer('sumRange', input)).toEqual({ start: -5n, end: 1_000n, sum: 499_485n });
    expect(acceptAnswer('sumRange', input, await answer('sumRange', input))).toBe(undefined);
  });
});

describe('forged answers are refused, with the reason', () => {
  const sumInput = { start: 10n, end: 20n };
  it.each([
    [{ start: 10n, end: 20n, sum: 145 }, '"sum" must be a BigInt'],
    [{ start: 0n, end: 20n, sum: 145n }, '"start" must be 10, the start asked'],
    [{ start: 10n, end: 21n, sum: 145n }, '"end" must be 20, the end asked'],
    [{ start: 10n, end: 20n, sum: 2n ** 4000n }, '"sum" must lie between'],
    [{ start: 10n, end: 20n, sum: -1n }, '"sum" must lie between'],
    [145n, 'must be an object'],
    [{ start: 10n, end: 20n, sum: 145n, ['__proto__']: {} }, 'unexpected field "__proto__"'],
  ])('sumRange %#', (forged, why) => {
    expect(acceptAnswer('sumRange', sumInput, wire(forged))).toContain(why);
  });

  /** A real answer for the small log with everything asked, changed by `change`. */
  async function forged(
    change: (result: Record<string, any>) => void,
    top = true,
  ): Promise<string | undefined> {
    const input = { range: rangeOf(small, smallSize), top, rules };
    const result = await answer('logstatsRange', input);
    change(result);
    return acceptAnswer('logstatsRange', input, wire(result));
  }

  it.each<[string, (r: Record<string, any>) => void, string]>([
    ['a negative count', (r) => (r.total = -1), '"total" must be a whole number'],
    ['NaN', (r) => (r.malformed = NaN), '"malformed" must be a whole number'],
    ['a fraction', (r) => (r.bytes = 1.5), '"bytes" must be a whole number'],
    ['a BigInt for a number', (r) => (r.filtered = 0n), '"filtered" must be a whole number'],
    ['more lines than bytes', (r) => (r.total = r.bytes + 1), 'more lines than bytes'],
    ['more malformed than lines', (r) => (r.malformed = r.total + 1), 'more malformed'],
    [
      'a prototype key',
      (r) => Object.defineProperty(r, '__proto__', { value: 1, enumerable: true }),
      'unexpected field "__proto__"',
    ],
    [
      'an escape in an unexpected field',
      (r) => (r['\x1b[2Jx'] = 1),
      'unexpected field "\\x1b[2Jx"',
    ],
    [
      'IPv4 hashes as plain numbers',
      (r) => (r.ipv4.hashes = [...r.ipv4.hashes]),
      '"ipv4.hashes" must be a Uint32Array',
    ],
    [
      'IPv4 hashes as a Buffer',
      (r) => (r.ipv4.hashes = Buffer.alloc(4 * r.ipv4.count)),
      '"ipv4.hashes" must be a Uint32Array',
    ],
    ['an IPv4 count its hashes do not hold', (r) => (r.ipv4.count += 1), 'one item per address'],
    ['IPv4 hashes out of order', (r) => r.ipv4.hashes.reverse(), '"ipv4" must be in bucket order'],
    [
      'IPv6 words not in fours',
      (r) => (r.ipv6.words = new Uint32Array(5)),
      'four items per address',
    ],
    [
      'no request counts with --top',
      (r) => (r.ipv4.counts = undefined),
      '"ipv4.counts" must be a Uint32Array',
    ],
    [
      'a group key with an escape',
      (r) => (r.groups[0].key = '\x1b[2J'),
      '"groups.0.key" must be a day',
    ],
    ['groups out of order', (r) => r.groups.reverse(), '"groups" must be in key order'],
    ['a group twice', (r) => r.groups.push(r.groups[0]), '"groups" must be in key order'],
    ['a status that is no code', (r) => r.panels.status.push([1000, 1]), '"panels.status.'],
    [
      'a path that is not text',
      (r) => (r.panels.paths.keys[0] = 7),
      '"panels.paths.keys.0" must be a string',
    ],
    ['paths columns of other lengths', (r) => r.panels.paths.requests.push(1), 'one item per path'],
    [
      'clients their counts do not add up to',
      (r) => r.panels.paths.clients.push(1),
      '"panels.paths.clients" must match "clientCounts"',
    ],
    ['an hour too many', (r) => r.panels.hours.push(0), '"panels.hours" must hold at most 24'],
    [
      'a misread example that would print an escape',
      (r) => (r.misread = { lines: 1, examples: ['\x1b[2J'] }),
      '"misread.examples.0" must be printable as it is',
    ],
    [
      'misread examples without a misread line',
      (r) => (r.misread = { lines: 0, examples: [] }),
      '"misread.lines" must be at least 1',
    ],
    [
      'an agent count that is negative',
      (r) => (r.panels.agents[0][1] = -3),
      '"panels.agents.0.1" must be a whole number',
    ],
    ['a referrer pair of three', (r) => r.panels.referrers[0].push(1), 'must hold 2 items'],
    ['a rest that does not move on', (r) => (r.next = 0), '"next" must lie inside the range asked'],
    ['a rest past the range', (r) => (r.next = 10 ** 9), '"next" must lie inside the range asked'],
    [
      'a warning of a megabyte',
      (r) => (r.warning = 'x'.repeat(2 ** 20)),
      '"warning" must be at most',
    ],
  ])('logstatsRange: %s', async (_, change, why) => {
    expect(await forged(change)).toContain(why);
  });

  it('logstatsRange: parts nobody asked for', async () => {
    expect(await forged((r) => (r.ipv4.counts = new Uint32Array(r.ipv4.count)), false)).toContain(
      'must be absent without --top',
    );
    const plain = { range: rangeOf(small, smallSize), top: false };
    const result = await answer('logstatsRange', { ...plain, rules });
    expect(acceptAnswer('logstatsRange', plain, result)).toContain('must be absent without --by');
    delete result['groups'];
    expect(acceptAnswer('logstatsRange', plain, result)).toContain(
      'must be absent without --panels',
    );
  });

  it('logstatsFiles: one item per file asked, each checked', async () => {
    const files = [rangeOf(small, smallSize), { ...rangeOf(small, smallSize), file: 1 }];
    const input = { files, top: 2, rules };
    const result = await answer('logstatsFiles', input);
    const check = (change: (r: Record<string, any>) => void): string | undefined => {
      const copy = wire(result) as Record<string, any>;
      change(copy);
      return acceptAnswer('logstatsFiles', input, copy);
    };
    expect(check((r) => r.files.pop())).toContain('one item for each of the 2 files');
    expect(check((r) => (r.files[1] = { error: 7 }))).toContain('"files.1.error" must be a string');
    expect(check((r) => (r.files[0].ip = r.files[0].total + 1))).toContain(
      'more clients than lines',
    );
    expect(check((r) => (r.files[0].top[0].ip = '\x1b[2J'))).toContain('must be an IP address');
    expect(check((r) => r.files[0].top.push(...r.files[0].top))).toContain('at most 2 items');
    expect(check((r) => (r.union.panels = r.files[0].panels))).toContain(
      '"union.panels" must be absent',
    );
  });

  it('downloadUrl: fields typed and bounded, a body landed one way', () => {
    const input = {};
    const ok = {
      kind: 'ok',
      status: 200,
      bytes: 3,
      sha256: 'ab',
      contentType: 'image/png',
      ext: 'png',
      finalUrl: 'https://e.com/a.png',
      temp: '/out/.crew-aabbccdd/0123456789abcdef.part',
    };
    expect(acceptAnswer('downloadUrl', input, ok)).toBe(undefined);
    expect(acceptAnswer('downloadUrl', input, { ...ok, status: '200' })).toContain('"status"');
    expect(acceptAnswer('downloadUrl', input, { ...ok, body: new Uint8Array(3) })).toBe(
      'must land its body one way',
    );
    const { temp: _, ...nowhere } = ok;
    expect(acceptAnswer('downloadUrl', input, nowhere)).toBe('must land its body one way');
    // A worker never names a file: the run that keeps the manifest does.
    expect(acceptAnswer('downloadUrl', input, { ...nowhere, placed: 'a.png' })).toBe(
      'unexpected field "placed"',
    );
    expect(acceptAnswer('downloadUrl', input, { ...ok, error: 'x'.repeat(100_000) })).toBe(
      'unexpected field "error"',
    );
    expect(acceptAnswer('downloadUrl', input, { kind: 'evil' })).toContain('"kind" must be');
    const failed = {
      kind: 'failed',
      status: undefined,
      error: 'no',
      retry: 'no',
      retryAfterMs: undefined,
    };
    expect(acceptAnswer('downloadUrl', input, failed)).toBe(undefined);
    expect(acceptAnswer('downloadUrl', input, { ...failed, retry: 'always' })).toContain('"retry"');
  });
});
