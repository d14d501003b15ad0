import { describe, expect, it } from 'vitest';
import { axisTicks, barChartSvg } from '../../../../src/logstats/report/chart.ts';

describe('the chart', () => {
  it.each([
    [0, [0, 1]],
    [3, [0, 1, 2, 3]],
    [21, [0, 10, 20, 30]],
    [700, [0, 200, 400, 600, 800]],
    [1234, [0, 500, 1000, 1500]],
    [1e9, [0, 5e8, 1e9]],
  ])('ticks for a top of %d: %j', (max, ticks) => {
    expect(axisTicks(max)).toEqual(ticks);
  });

  it('draws one bar per value and labels as many as fit, escaped', () => {
    const labels = Array.from({ length: 100 }, (_, i) => `<label${i}>`);
    const svg = barChartSvg({
      title: 't',
      labels,
      values: labels.map((_, i) => i),
      tone: 'requests',
    });
    expect(svg.split('<rect ').length - 1).toBe(100);
    // One label in 7 (100 bars, 16 labels at most), each escaped.
    expect(svg.split('transform="rotate').length - 1).toBe(15);
    expect(svg).toContain('&lt;label0&gt;');
    expect(svg).not.toContain('<label0>');
    expect(svg).toContain('<title>&lt;label99&gt;: 99</title>');
  });
});
