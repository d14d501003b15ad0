import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../../src/logstats/report/escape.ts';
import {
  formatCompact,
  formatNumber,
  formatShare,
} from '../../../../src/logstats/report/figures.ts';

describe('escapeHtml', () => {
  it.each([
    ['plain /index.html', 'plain /index.html'],
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['</style>', '&lt;/style&gt;'],
    [`"double" 'single'`, '&quot;double&quot; &#39;single&#39;'],
    ['&amp; stays text', '&amp;amp; stays text'],
    ['esc\u001b[2J', 'esc\\x1b[2J'],
    ['nul\u0000 del\u007f', 'nul\\x00 del\\x7f'],
    ['a\nb\tc', 'a\\nb\\tc'],
    ['line\u2028para\u2029', 'line\\u{2028}para\\u{2029}'],
    ['lone \ud800 half', 'lone \\u{d800} half'],
    ['not UTF-8 \udcff', 'not UTF-8 \\xff'],
    ['bidi \u202e', 'bidi \\u{202e}'],
    ['中文 😀 café', '中文 😀 café'],
  ])('%j -> %j', (input, output) => {
    expect(escapeHtml(input)).toBe(output);
  });

  it('leaves nothing HTML reads as markup, and no lone surrogate', () => {
    const out = escapeHtml('<>"\'&\ud800\udfff\udc00');
    expect(out).not.toMatch(/[<>"']/);
    expect(out).not.toMatch(/[\ud800-\udfff]/u);
  });
});

describe('numbers in the report', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1000, '1,000'],
    [1234567, '1,234,567'],
    [-1234, '-1,234'],
    [1234.5678, '1,234.568'],
    [0.1, '0.1'],
    [2.0, '2'],
    [Number.NaN, 'NaN'],
  ])('%d -> %s', (n, text) => {
    expect(formatNumber(n)).toBe(text);
  });

  it('writes shares as percentages and axis labels compactly', () => {
    expect(formatShare(0.1896)).toBe('19.0%');
    expect(formatShare(1)).toBe('100.0%');
    expect(formatCompact(1500)).toBe('1.5k');
    expect(formatCompact(2_000_000)).toBe('2M');
    expect(formatCompact(20)).toBe('20');
  });
});
