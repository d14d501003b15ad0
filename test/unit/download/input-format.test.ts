import { describe, expect, it } from 'vitest';
import { formatByName, formatByText, framing } from '../../../src/download/input-format.ts';
import { JsonLines, textOf, toJsonValue, tsvRecords } from '../../../src/download/records.ts';

describe('input formats', () => {
  it.each([
    ['list.csv', 'csv'],
    ['cc3m.TSV', 'tsv'],
    ['cc3m.tsv.gz', 'tsv'],
    ['rows.jsonl', 'jsonl'],
    ['rows.ndjson.gz', 'jsonl'],
    ['laion.parquet', 'parquet'],
    ['list.txt', undefined],
    ['list.gz', undefined],
  ])('the name %s says %s', (name, format) => {
    expect(formatByName(name)).toBe(format);
  });

  it.each([
    ['url,caption', 'csv'],
    ['caption\turl', 'tsv'],
    ['a dog, running\thttp://x.test/a.jpg', 'tsv'],
    ['a,b\tc,d', 'csv'],
    ['{"url": "http://x.test/a"}', 'jsonl'],
    ['\ufeff  {"url": 1}', 'jsonl'],
    ['http://x.test/a', 'csv'],
  ])('the first line %j says %s', (line, format) => {
    expect(formatByText(line)).toBe(format);
  });

  it('tells gzip and parquet by their first bytes', () => {
    expect(framing(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(framing(Buffer.from('PAR1'))).toBe('parquet');
    expect(framing(Buffer.from('url,'))).toBe('plain');
    expect(framing(Buffer.alloc(0))).toBe('plain');
  });
});

describe('records', () => {
  it('splits TSV on tabs only: commas and quotes are text', () => {
    expect(tsvRecords('a "dog", running\thttp://x.test/a\n\t\n x \t y\n')).toEqual([
      ['a "dog", running', 'http://x.test/a'],
      ['x', 'y'],
    ]);
  });

  it('lays JSON lines out by the first object’s fields, and says why a line is not one', () => {
    const json = new JsonLines();
    expect(json.parse('{"url": "http://x.test/a", "n": 1}')).toEqual(['http://x.test/a', 1]);
    expect(json.names).toEqual(['url', 'n']);
    expect(json.parse('{"n": 2, "other": true}')).toEqual([undefined, 2]);
    expect(json.parse('   ')).toBeUndefined();
    expect(json.parse('[1, 2]')).toEqual({ error: 'not a JSON object (an array)' });
    expect(json.parse('42')).toEqual({ error: 'not a JSON object (a number)' });
    expect(json.parse('null')).toEqual({ error: 'not a JSON object (null)' });
    expect(json.parse('{"url": ')).toMatchObject({
      error: expect.stringMatching(/^not valid JSON: /) as string,
    });
  });

  it('turns any value into text for a URL or name, and into JSON to keep', () => {
    expect(textOf(null)).toBe('');
    expect(textOf(12n)).toBe('12');
    expect(textOf({ a: 1 })).toBe('{"a":1}');
    expect(toJsonValue(2n ** 70n)).toBe('1180591620717411303424');
    expect(toJsonValue(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(toJsonValue(new Uint8Array([1, 2]))).toBe('AQI=');
    expect(toJsonValue(Number.NaN)).toBe('NaN');
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(JSON.stringify(toJsonValue(deep)).length).toBeLessThan(100);
  });
});
