import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanFiles } from '../../../src/logstats/batch.ts';
import type { LineRules } from '../../../src/logstats/formats/index.ts';
import type { ScanRange } from '../../../src/logstats/split.ts';

const dir = mkdtempSync(join(tmpdir(), 'crew-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const line = (ip: string, day: number) =>
  `${ip} - - [0${day}/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1`;
const write = (name: string, lines: string[]): ScanRange => {
  const path = join(dir, name);
  const text = `${lines.join('\n')}\n`;
  writeFileSync(path, text);
  return { file: 0, path, start: 0, end: Buffer.byteLength(text), gzip: false };
};

const byDay: LineRules = {
  format: 'auto',
  by: 'day',
  utc: false,
  ipField: undefined,
  timeField: undefined,
};

describe('scanFiles', () => {
  it('counts each file on its own, fails only the unreadable one, and sends one union', async () => {
    const a = write('a.log', [line('1.1.1.1', 1), line('1.1.1.1', 1), line('2.2.2.2', 2)]);
    const b = write('b.log', [line('2.2.2.2', 2), line('::1', 2), 'garbage']);
    const gone = { ...a, path: join(dir, 'gone.log') };
    const result = await scanFiles([a, gone, b], 1, byDay);
    expect(result.files).toEqual([
      {
        total: 3,
        malformed: 0,
        filtered: 0,
        bytes: a.end,
        ip: 2,
        top: [{ ip: '1.1.1.1', requests: 2 }],
      },
      { error: expect.stringMatching(/ENOENT|no such file/) as unknown as string },
      {
        total: 3,
        malformed: 1,
        filtered: 0,
        bytes: b.end,
        ip: 2,
        top: [{ ip: '2.2.2.2', requests: 1 }],
      },
    ]);
    const { union } = result;
    expect([union.total, union.malformed, union.ipv4.count + union.ipv6.count]).toEqual([6, 1, 3]);
    expect(union.groups?.map((g) => [g.key, g.total, g.ipv4.count + g.ipv6.count])).toEqual([
      ['2026-12-01', 2, 1],
      ['2026-12-02', 3, 2],
      ['unknown', 1, 0],
    ]);
  });

  it('applies the filters to every file of the batch', async () => {
    const a = write('fa.log', [line('10.0.0.1', 1), line('192.0.2.1', 2), line('192.0.2.2', 3)]);
    const b = write('fb.log', [line('192.0.2.1', 2), line('2001:db8::1', 2)]);
    const filter = {
      since: { seconds: Date.parse('2026-12-02T00:00:00Z') / 1000, instant: false },
      until: undefined,
      excludeIps: ['2001:db8::/32'],
    };
    const result = await scanFiles([a, b], 0, { ...byDay, by: undefined, filter });
    expect(result.files).toEqual([
      { total: 2, malformed: 0, filtered: 1, bytes: a.end, ip: 2 },
      { total: 1, malformed: 0, filtered: 1, bytes: b.end, ip: 1 },
    ]);
    expect([result.union.filtered, result.union.ipv4.count]).toEqual([2, 2]);
  });
});
