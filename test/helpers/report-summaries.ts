/** Summaries as `crew logstats --json` prints them, with and without panels, for the report's tests. */
import type { ReportSummary } from '../../src/logstats/report/render.ts';

/** Strings a log can carry into the report: markup, quotes, controls, a lone surrogate. */
/** The section titles a report of `summary({ panels: true })` has, one per panel with a table. */
export const PANEL_SECTIONS = [
  'Status codes',
  'Requested paths',
  'Not found (4xx)',
  'Referring sites',
  'User agents',
  'Crawlers',
  'Requests by hour of day',
];

export const HOSTILE = {
  script: '<script>alert(1)</script>',
  image: '"><img src=x onerror=alert(2)>',
  style: '</style><style>body{display:none}',
  quotes: `it's "quoted" & <b>bold</b>`,
  controls: 'esc\u001b[2J bell\u0007 nul\u0000 line\u2028sep',
  surrogate: 'half \ud800 pair',
  closeScript: '</script><script>alert(3)</script>',
} as const;

/** The panels of the contract the panels branch prints, filled with `agent` and `path`. */
export function panels(path: string, agent: string, referrer: string): object {
  return {
    status: {
      codes: [
        { key: '200', requests: 1200 },
        { key: '404', requests: 34 },
      ],
      classes: [
        { key: '2xx', requests: 1200 },
        { key: '4xx', requests: 34 },
      ],
    },
    paths: [
      { key: path, requests: 1000, bytes: 123456789, clients: 20 },
      { key: '/b', requests: 234, bytes: 0, clients: 3 },
    ],
    not_found: [{ key: '/missing', requests: 34, bytes: 1234, clients: 2 }],
    referrers: [{ key: referrer, requests: 12 }],
    agents: [
      { key: agent, requests: 1000, crawler: false },
      { key: 'Googlebot/2.1', requests: 234, crawler: true },
    ],
    crawlers: { requests: 234, share: 0.1896 },
    bytes: 123458023,
    hours: Array.from({ length: 24 }, (_, h) => ({
      key: String(h).padStart(2, '0'),
      requests: h * 10,
    })),
    paths_distinct: 2,
  };
}

/** A run over two files, as `--json` prints it: with `--by day` groups and panels if asked. */
export function summary(options: { groups?: boolean; panels?: boolean } = {}): ReportSummary {
  const withPanels = options.panels
    ? { panels: panels(HOSTILE.script, HOSTILE.image, HOSTILE.quotes) }
    : {};
  return {
    files: [
      { file: HOSTILE.style, total: 1000, ip: 21, malformed: 2, bytes: 100_000, ranges: 1 },
      { file: HOSTILE.controls, total: 234, ip: 5, malformed: 0, bytes: 20_000, ranges: 1 },
      { file: HOSTILE.surrogate, total: 0, ip: 0, malformed: 0, bytes: 0, ranges: 1 },
      { file: HOSTILE.closeScript, total: 1, ip: 1, malformed: 0, bytes: 10, ranges: 1 },
    ],
    all: { files: 4, total: 1235, ip: 23, malformed: 2, bytes: 120_010, ...withPanels },
    ...(options.groups
      ? {
          groups: [
            { key: '2021-03-22', total: 700, ip: 20, malformed: 0 },
            { key: '2021-03-23', total: 535, ip: 9, malformed: 2 },
          ],
        }
      : {}),
    failed: [{ file: HOSTILE.image, error: 'permission denied' }],
    warnings: [],
    ms: 1234.5,
    workers: 2,
    runtime: 'process',
  };
}
