/**
 * W3C extended logs cut into byte ranges: a range that starts after the file's start is shown
 * the last `#Fields:` line before it (read.ts), so a split file counts exactly as a whole one,
 * with the header changed mid-file too (an IIS restart).
 */
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastLineStarting, scanRange } from '../../../src/logstats/read.ts';
import { ClientUnion } from '../../../src/logstats/client-union.ts';
import type { LineRules } from '../../../src/logstats/formats/index.ts';

const lines = [
  '#Software: Microsoft Internet Information Services 10.0',
  '#Fields: date time c-ip cs-uri-stem sc-status',
  '2024-01-15 10:00:00 10.0.0.1 / 200',
  '2024-01-15 10:00:01 10.0.0.2 /a 404\r',
  '2024-01-15 10:00:02 2001:db8::1 /b 200',
  '',
  '#Date: 2024-01-15 11:00:00',
  // A restart with the columns in another order: read by the first header, these are junk.
  '#Fields: c-ip date time sc-status',
  '10.0.0.3 2024-01-15 11:00:00 200',
  '10.0.0.4 2024-01-15 11:00:01 500\r',
  // Not a header (it does not start the line): a line without a client, malformed.
  'x#Fields: date time',
  '10.0.0.1 2024-01-15 11:00:02 200',
  '10.0.0.5 2024-01-16 00:00:00 200',
];

const rules: LineRules = {
  format: 'w3c',
  by: 'day',
  utc: false,
  ipField: undefined,
  timeField: undefined,
};

let dir: string;
let file: string;
let size: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-w3c-ranges-'));
  file = join(dir, 'u_ex240115.log');
  const text = lines.join('\n');
  size = Buffer.byteLength(text);
  await writeFile(file, text);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function scanCut(cuts: readonly number[]) {
  const bounds = [0, ...cuts, size];
  const union = new ClientUnion(false);
  const days = new Map<string, number>();
  for (let i = 0; i + 1 < bounds.length; i++) {
    const range = { file: 0, path: file, start: bounds[i]!, end: bounds[i + 1]!, gzip: false };
    const part = await scanRange(range, false, rules);
    union.add(part);
    for (const group of part.groups ?? [])
      days.set(group.key, (days.get(group.key) ?? 0) + group.total);
  }
  return { total: union.total, malformed: union.malformed, ips: union.ips, days: [...days].sort() };
}

describe('a W3C log cut into ranges', () => {
  it('counts as a whole one at every cut, and every pair of cuts', async () => {
    const whole = await scanCut([]);
    expect(whole).toEqual({
      total: 8,
      malformed: 1,
      ips: 6,
      days: [
        ['2024-01-15', 6],
        ['2024-01-16', 1],
        ['unknown', 1],
      ],
    });
    const differing: unknown[] = [];
    for (let cut = 1; cut < size; cut++) {
      const got = await scanCut([cut]);
      if (JSON.stringify(got) !== JSON.stringify(whole)) differing.push([cut, got]);
    }
    for (let a = 1; a < size; a += 17) {
      for (let b = a + 1; b < size; b += 13) {
        const got = await scanCut([a, b]);
        if (JSON.stringify(got) !== JSON.stringify(whole)) differing.push([a, b, got]);
      }
    }
    expect(differing).toEqual([]);
  });
});

describe('looking back for the header in effect', () => {
  it('finds the last line that starts with the prefix, across the pieces it reads', async () => {
    const piece = 1 << 20;
    // Headers placed so that one straddles the look-back's first piece boundary.
    for (const shift of [-9, -8, -4, -1, 0, 1, 3]) {
      const head = '#Fields: c-ip\n';
      const filler = `${'1.2.3.4\n'.repeat(piece / 8)}`;
      const body = `${head}${filler.slice(0, piece - head.length + shift)}\n#Fields: date c-ip\n`;
      const text = `${body}${'5.6.7.8\n'.repeat(piece / 8)}`;
      const path = join(dir, `look-back-${shift}.log`);
      await writeFile(path, text);
      const fd = openSync(path, 'r');
      try {
        const before = text.length - 8;
        const found = lastLineStarting(fd, before, ['#Fields:']);
        expect([shift, Buffer.from(found!).toString()]).toEqual([shift, '#Fields: date c-ip']);
        const first = lastLineStarting(fd, body.length - 19, ['#Fields:']);
        expect([shift, Buffer.from(first!).toString()]).toEqual([shift, '#Fields: c-ip']);
        expect(lastLineStarting(fd, 0, ['#Fields:'])).toBeUndefined();
        expect(lastLineStarting(fd, before, ['#Nothing:'])).toBeUndefined();
      } finally {
        closeSync(fd);
      }
    }
  });
});
