import { describe, expect, it } from 'vitest';
import {
  AUTO_FORMATS,
  FORMAT_NAMES,
  formatsFor,
  LOG_FORMATS,
} from '../../../../src/logstats/formats/index.ts';
import type { LineScanner } from '../../../../src/logstats/line-scan.ts';
import { awkwardLine, seeded } from '../../../helpers/client-rule.ts';

/** Lines of every kind a format must be asked about: awkward, JSON, blank, binary. */
function lines(): string[] {
  const next = seeded(3);
  return [
    ...Array.from({ length: 5000 }, () => awkwardLine(next)),
    '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1',
    '{"remote_addr":"1.2.3.4"}',
    '  {"remote_addr":"1.2.3.4"}',
    '[1,2]',
    '',
    '  \t',
    '\x00\xff{',
    'www.example.com:443 1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1',
    '10.0.0.1:80 2001:db8::1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1',
    'https 2018-07-02T22:23:00.186641Z app/lb/1 1.2.3.4:2817 - 0 0 0 200 200 1 2 "GET / HTTP/1.1" "a"',
    '2001:db8::1:80 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1',
    '1.2.3.4:80 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1',
  ];
}

/** Whether the fast path (line-scan.ts) counts this line itself, not handing it back. */
function fastPathTakes(scanner: LineScanner, line: string): boolean {
  const bytes = Buffer.from(`${line}\n`, 'latin1');
  scanner.memory.set(bytes, scanner.inputStart);
  const end = scanner.inputStart + bytes.length;
  return scanner.scan(scanner.inputStart, end) === end;
}

describe('the table of formats', () => {
  it('gives --format its choices: auto, then each format by name', () => {
    const names = LOG_FORMATS.map((format) => format.name);
    expect(new Set(names).size).toBe(names.length);
    expect(FORMAT_NAMES).toEqual(['auto', ...[...names].sort()]);
    expect(FORMAT_NAMES).toEqual([
      'auto',
      'alb',
      'cloudfront',
      'combined',
      'json',
      'vhost_combined',
      'w3c',
    ]);
  });

  it('reads lines as the format named, or with auto as every format in order', () => {
    expect(formatsFor('auto')).toEqual(AUTO_FORMATS);
    for (const format of LOG_FORMATS) expect(formatsFor(format.name)).toEqual([format]);
  });

  it('ends with a format that takes any line, the only one with a fast path', () => {
    const last = AUTO_FORMATS.at(-1)!;
    for (const line of lines()) {
      const bytes = Buffer.from(line, 'latin1');
      expect([line, last.recognises(bytes, 0, bytes.length)]).toEqual([line, true]);
    }
    expect(LOG_FORMATS.filter((format) => format.fastPath)).toEqual([last]);
  });

  it("has no format that recognises a line the last one's fast path takes before auto asks", () => {
    const scanner = AUTO_FORMATS.at(-1)!.fastPath!();
    const others = LOG_FORMATS.filter((format) => format !== AUTO_FORMATS.at(-1));
    let taken = 0;
    for (const line of lines()) {
      if (!fastPathTakes(scanner, line)) continue;
      taken++;
      const bytes = Buffer.from(line, 'latin1');
      const claimed = others.filter((format) => format.recognises(bytes, 0, bytes.length));
      expect([line, claimed.map((format) => format.name)]).toEqual([line, []]);
    }
    expect(taken).toBeGreaterThan(100);
    scanner.release();
  });

  it('recognises a JSON line as JSON and nothing else as JSON', () => {
    const json = LOG_FORMATS.find((format) => format.name === 'json')!;
    const seen = lines().filter((line) => {
      const bytes = Buffer.from(line, 'latin1');
      return json.recognises(bytes, 0, bytes.length);
    });
    expect(seen).toEqual(['{"remote_addr":"1.2.3.4"}', '  {"remote_addr":"1.2.3.4"}']);
  });

  it.each([
    ['vhost_combined', ['www.example.com:443 1.2.3.4', '10.0.0.1:80 2001:db8::1']],
    ['alb', ['https 2018-07-02']],
  ])('recognises a %s line as that and nothing else', (name, starts) => {
    const format = LOG_FORMATS.find((f) => f.name === name)!;
    const seen = lines().filter((line) => {
      const bytes = Buffer.from(line, 'latin1');
      return format.recognises(bytes, 0, bytes.length);
    });
    expect(seen.map((line) => starts.find((start) => line.startsWith(start)))).toEqual(starts);
  });
});
