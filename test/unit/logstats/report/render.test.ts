import { describe, expect, it } from 'vitest';
import { renderReport, REPORT_CSP } from '../../../../src/logstats/report/render.ts';
import { HOSTILE, PANEL_SECTIONS, summary } from '../../../helpers/report-summaries.ts';

const count = (text: string, part: string | RegExp): number => text.split(part).length - 1;

describe('renderReport', () => {
  it('is one page that loads nothing: a strict CSP, no URL, no external reference', () => {
    const html = renderReport(summary({ groups: true, panels: true }));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(REPORT_CSP).toContain("default-src 'none'");
    // The SVG namespace is a name, not a request; nothing else may name a place.
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:/i);
    const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
    expect(tags.length).toBeGreaterThan(100);
    expect(tags.filter((tag) => /\s(src|href|action|srcset)=/i.test(tag))).toEqual([]);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    expect(style).not.toMatch(/url\(|@import|@font-face/i);
  });

  it('shows the headline numbers without groups or panels, and no chart', () => {
    const html = renderReport(summary());
    expect(html).toMatch(/data-figure="requests">.*>1,235</);
    expect(html).toMatch(/data-figure="clients">.*>23</);
    expect(html).toMatch(/data-figure="malformed">.*>2</);
    expect(html).toMatch(/data-figure="files">.*>4</);
    expect(html).toMatch(/data-figure="bytes">.*title="120,010 bytes">120\.0 KB</);
    expect(html).not.toContain('<svg');
    expect(html).not.toContain('data-figure="filtered"');
    expect(html).not.toContain('Status codes');
    // A file that could not be read is listed, escaped.
    expect(html).toContain('could not be read');
  });

  it('draws requests and distinct clients per group when --by gave groups', () => {
    const html = renderReport(summary({ groups: true }));
    expect(count(html, '<svg')).toBe(2);
    expect(html).toContain('Requests and distinct clients per day');
    expect(html).toContain('<title>2021-03-22: 700</title>');
    expect(html).toContain('<title>2021-03-23: 9</title>');
    // The y axis reaches past the biggest bar with round ticks.
    expect(html).toMatch(/>800<\/text>/);
    const hourly = summary({ groups: true });
    const byHour = renderReport({
      ...hourly,
      groups: [{ key: '2021-03-22 13:00', total: 5, ip: 2, malformed: 0 }],
    });
    expect(byHour).toContain('per hour');
  });

  it('gives each panel of all.panels a section with its tables, numbers right-aligned', () => {
    const html = renderReport(summary({ panels: true }));
    for (const title of PANEL_SECTIONS) {
      expect(html).toContain(`<h2>${title}</h2>`);
    }
    // A panel that is one number is a headline figure, beside requests and clients.
    expect(html).toMatch(
      /data-figure="panel-bytes"><div class="label">Bytes served<\/div><div class="value" title="123,458,023 bytes">123\.5 MB</,
    );
    expect(html).toMatch(
      /data-figure="panel-paths_distinct"><div class="label">Distinct requested paths<\/div><div class="value">2</,
    );
    expect(html).not.toContain('<h2>Bytes served</h2>');
    expect(html).toContain('<h3>by code</h3>');
    expect(html).toContain('<h3>by class</h3>');
    expect(html).toContain('<td class="num" data-v="123456789">123,456,789</td>');
    expect(html).toContain('<td class="num" data-v="0.1896">19.0%</td>');
    expect(html).toContain('<td>no</td>');
    // The hours of the day as a chart too: 24 bars, every hour labelled.
    expect(count(html, '<svg')).toBe(1);
    expect(count(html, '<rect ')).toBe(24);
    expect(html).toContain('<title>23: 230</title>');
    expect(count(html, /<table class="sortable(?: narrow)?">/g)).toBe(1 + 1 + 2 + 5 + 1);
  });

  it('escapes every string from the logs: one script, one style, no markup of theirs', () => {
    const html = renderReport(summary({ groups: true, panels: true }));
    expect(count(html, /<script/gi)).toBe(1);
    expect(count(html, /<\/script/gi)).toBe(1);
    expect(count(html, /<style/gi)).toBe(1);
    expect(count(html, /<\/style/gi)).toBe(1);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('it&#39;s &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain('esc\\x1b[2J bell\\x07 nul\\x00 line\\u{2028}sep');
    expect(html).toContain('half \\u{d800} pair');
    // Nothing a browser would take as a control character or turn into U+FFFD.
    expect(html.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
    expect(html).not.toMatch(/[\ud800-\udfff]/u);
    // The script is the page's own: no data from the summary inside it.
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    for (const text of ['alert', '1,235', 'img']) expect(script).not.toContain(text);
    expect(HOSTILE.script).toContain('<script>');
  });

  it('lists at most 10,000 files and says so', () => {
    const base = summary();
    const many = Array.from({ length: 10_001 }, (_, i) => ({
      file: `f${i}.log`,
      total: 1,
      ip: 1,
      malformed: 0,
      bytes: 1,
    }));
    const html = renderReport({ ...base, files: many });
    expect(html).toContain('The first 10,000 of 10,001 files');
    expect(html).toContain('<td>f9999.log</td>');
    expect(html).not.toContain('<td>f10000.log</td>');
  });

  it('shows the filtered count when a filter was given', () => {
    const base = summary();
    const html = renderReport({ ...base, all: { ...base.all, filtered: 7 } });
    expect(html).toMatch(/data-figure="filtered">.*>7</);
    expect(html).toContain('filtered out</th>');
  });
});
