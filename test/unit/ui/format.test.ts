import { describe, expect, it } from 'vitest';
import { formatCount, table } from '../../../src/ui/format.ts';

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1000, '1,000'],
    [620000, '620,000'],
    [1234567, '1,234,567'],
    [Number.MAX_SAFE_INTEGER, '9,007,199,254,740,991'],
  ])('%d -> %s', (n, text) => {
    expect(formatCount(n)).toBe(text);
    expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
  });
});

describe('table', () => {
  it('aligns numbers right and text left, to the widest cell', () => {
    expect(
      table(
        ['file', 'n'],
        [
          ['a.log', '1'],
          ['bb', '1,000'],
        ],
      ).split('\n'),
    ).toEqual(['file       n', 'a.log      1', 'bb     1,000']);
  });

  // Math.max(...cells) overflowed the call stack at ~125,000 rows: `crew logstats` of a
  // directory of 300,000 files counted them all, then exited 1 with no report.
  it('takes 500,000 rows', () => {
    const rows = Array.from({ length: 500_000 }, (_, i) => [`${i}.log`, String(i)]);
    const lines = table(['file', 'n'], rows).split('\n');
    expect(lines).toHaveLength(500_001);
    expect(lines[500_000]).toBe('499999.log  499999');
  });
});
