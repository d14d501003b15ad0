import { beforeAll, describe, expect, it } from 'vitest';
import { loadCrawlerCheck } from '../../../src/logstats/crawlers.ts';
import { busiest, PANEL_NAMES, PanelCounts } from '../../../src/logstats/panels.ts';
import { emptyRequest, type LineRequest } from '../../../src/logstats/request-fields.ts';

const line = (fields: Partial<LineRequest>): LineRequest => ({ ...emptyRequest(), ...fields });

describe('busiest', () => {
  it('keeps the most requests, ties to the lower key, whatever the order given', () => {
    const entries: [string, number][] = [
      ['/b', 3],
      ['/a', 3],
      ['/c', 5],
      ['/d', 1],
      ['/e', 3],
    ];
    const want = [
      ['/c', 5],
      ['/a', 3],
      ['/b', 3],
    ];
    expect(busiest(new Map(entries), 3, (n) => n)).toEqual(want);
    expect(busiest(new Map(entries.reverse()), 3, (n) => n)).toEqual(want);
    expect(busiest(new Map(entries), 0, (n) => n)).toEqual([]);
  });
});

describe('PanelCounts', () => {
  beforeAll(loadCrawlerCheck);

  const lines: [LineRequest, number | string][] = [
    [
      line({
        status: 200,
        target: '/',
        sent: 10,
        referrer: '-',
        agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
        hour: 0,
      }),
      1,
    ],
    [
      line({
        status: 404,
        target: '/x',
        sent: 0,
        referrer: 'https://a.test/',
        agent: 'Googlebot/2.1',
        hour: 23,
      }),
      1,
    ],
    [
      line({
        status: 404,
        target: '/x',
        sent: 7,
        referrer: 'https://A.test/q',
        agent: 'Googlebot/2.1',
        hour: 23,
      }),
      '2001:db8:0:1',
    ],
    // Common format: no referrer or agent; no time.
    [line({ status: 500, target: '/', sent: 3 }), 1],
    // No status, no target.
    [line({}), 2],
  ];

  const expected = {
    status: {
      codes: [
        { key: '200', requests: 1 },
        { key: '404', requests: 2 },
        { key: '500', requests: 1 },
      ],
      classes: [
        { key: '2xx', requests: 1 },
        { key: '4xx', requests: 2 },
        { key: '5xx', requests: 1 },
      ],
    },
    paths: [
      { key: '/', requests: 2, bytes: 13, clients: 1 },
      { key: '/x', requests: 2, bytes: 7, clients: 2 },
    ],
    paths_distinct: 2,
    not_found: [{ key: '/x', requests: 2, bytes: 7, clients: 2 }],
    not_found_distinct: 1,
    referrers: [
      { key: 'a.test', requests: 2 },
      { key: 'direct', requests: 1 },
    ],
    referrers_distinct: 2,
    agents: [
      { key: 'Googlebot/2.1', requests: 2, crawler: true },
      { key: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', requests: 1, crawler: false },
    ],
    agents_distinct: 2,
    crawlers: { requests: 2, share: 2 / 3 },
    bytes: 20,
    hours: Array.from({ length: 24 }, (_, h) => ({
      key: String(h).padStart(2, '0'),
      requests: h === 0 ? 1 : h === 23 ? 2 : 0,
    })),
  };

  it('counts each panel exactly', () => {
    const counts = new PanelCounts(PANEL_NAMES);
    for (const [l, client] of lines) counts.add(l, client);
    expect(counts.toJson(10)).toEqual(expected);
  });

  it('merges parts to the same numbers, a client seen in two parts once', () => {
    const whole = new PanelCounts(PANEL_NAMES);
    for (const [i, [l, client]] of lines.entries()) {
      const part = new PanelCounts(PANEL_NAMES);
      part.add(l, client);
      // Sent on as a worker sends it, and merged in any order.
      whole.absorb(structuredClone(part.toData()));
      if (i === 0) whole.absorb(new PanelCounts(PANEL_NAMES).toData());
    }
    expect(whole.toJson(10)).toEqual(expected);
  });

  it('shows only the panels asked for, lists cut to the rows asked for', () => {
    const counts = new PanelCounts(['paths', 'bytes']);
    for (const [l, client] of lines) counts.add(l, client);
    expect(counts.toJson(1)).toEqual({
      paths: [{ key: '/', requests: 2, bytes: 13, clients: 1 }],
      paths_distinct: 2,
      bytes: 20,
    });
  });
});
