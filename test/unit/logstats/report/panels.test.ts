import { describe, expect, it } from 'vitest';
import { panelBlocks, panelTitle } from '../../../../src/logstats/report/panels.ts';
import { panels } from '../../../helpers/report-summaries.ts';

const contract = panels('/a', 'Mozilla/5.0', 'example.org') as Record<string, unknown>;

describe('panels by their shape', () => {
  it('makes a list of records a table, key first, columns from every record', () => {
    const blocks = panelBlocks('paths', [
      { requests: 3, key: '/a', bytes: 10 },
      { key: '/b', requests: 1, clients: 1 },
    ]);
    expect(blocks).toEqual([
      {
        kind: 'table',
        title: undefined,
        table: {
          columns: [
            { key: 'key', title: 'path' },
            { key: 'requests', title: 'requests' },
            { key: 'bytes', title: 'bytes' },
            { key: 'clients', title: 'distinct clients' },
          ],
          rows: [
            ['/a', 3, 10, undefined],
            ['/b', 1, undefined, 1],
          ],
        },
      },
    ]);
  });

  it('makes a record of lists one table per list, titled (status codes and classes)', () => {
    const blocks = panelBlocks('status', contract['status']);
    expect(blocks.map((b) => [b.kind, b.title])).toEqual([
      ['table', 'by code'],
      ['table', 'by class'],
    ]);
    const [codes] = blocks;
    expect(codes?.kind === 'table' && codes.table.columns.map((c) => c.title)).toEqual([
      'code',
      'requests',
    ]);
    expect(codes?.kind === 'table' && codes.table.rows).toEqual([
      ['200', 1200],
      ['404', 34],
    ]);
  });

  it('makes a record of numbers a two-column table, and a number a figure', () => {
    expect(panelBlocks('crawlers', contract['crawlers'])).toEqual([
      {
        kind: 'table',
        title: undefined,
        table: {
          columns: [
            { key: 'name', title: 'name' },
            { key: 'value', title: 'value' },
          ],
          rows: [
            ['requests', 234],
            ['share', 0.1896],
          ],
        },
      },
    ]);
    expect(panelBlocks('bytes', 123)).toEqual([{ kind: 'figure', title: 'bytes', value: 123 }]);
  });

  it('shows an empty list as such, a list of plain values as one column, and skips nothing else', () => {
    expect(panelBlocks('paths', [])).toEqual([{ kind: 'empty', title: undefined }]);
    const [values] = panelBlocks('tags', ['a', 'b']);
    expect(values?.kind === 'table' && values.table.rows).toEqual([['a'], ['b']]);
    // A shape no one planned: a record mixing a number, a list and a record of numbers.
    const mixed = panelBlocks('new_panel', {
      total: 5,
      list: [{ key: 'x', n: 1 }],
      nested: { a: 1 },
    });
    expect(mixed.map((b) => [b.kind, b.title])).toEqual([
      ['figure', 'total'],
      ['table', 'list'],
      ['table', 'nested'],
    ]);
    expect(panelBlocks('odd', null)).toEqual([]);
  });

  it('titles known panels for people and unknown ones by their key', () => {
    expect(
      ['status', 'paths', 'not_found', 'referrers', 'agents', 'crawlers', 'bytes', 'hours'].map(
        panelTitle,
      ),
    ).toEqual([
      'Status codes',
      'Requested paths',
      'Not found (4xx)',
      'Referring sites',
      'User agents',
      'Crawlers',
      'Bytes served',
      'Requests by hour of day',
    ]);
    expect(panelTitle('paths_distinct')).toBe('Distinct requested paths');
    expect(panelTitle('tls_versions')).toBe('tls_versions');
  });
});
