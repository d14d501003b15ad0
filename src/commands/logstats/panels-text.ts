/**
 * The panels of a run (`--panels`) as text: one small section each, after the table. Keys
 * come from the logs (paths, agents, referrers): hostile input, printed escaped and cut to a
 * width a terminal can show (--json has them whole). Pure.
 */
import type { KeyedRequests, PanelsJson, PathRow } from '../../logstats/panels.ts';
import { bar, formatCount as count, table } from '../../ui/format.ts';
import { printable } from '../../ui/printable.ts';

/** The most characters of a key shown; longer ones end in "...". */
const KEY_WIDTH = 72;

const key = (text: string): string => {
  const safe = printable(text);
  return safe.length > KEY_WIDTH ? `${safe.slice(0, KEY_WIDTH - 3)}...` : safe;
};

const share = (part: number, whole: number): string =>
  whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '';

/** A panel's section: its title, then its rows indented, or "(none)". */
function section(title: string, head: readonly string[], rows: readonly string[][]): string[] {
  if (rows.length === 0) return ['', title, '  (none)'];
  const [first = '', ...rest] = head;
  return [
    '',
    title,
    table(
      [`  ${first}`, ...rest],
      rows.map(([cell = '', ...cells]) => [`  ${cell}`, ...cells]),
    ),
  ];
}

/** A top-K list's title, with how many of its distinct keys it shows when not all. */
const listTitle = (title: string, shown: number, distinct: number | undefined): string =>
  distinct !== undefined && distinct > shown ? `${title} (${shown} of ${count(distinct)})` : title;

function pathSection(title: string, rows: readonly PathRow[], distinct?: number): string[] {
  return section(
    listTitle(title, rows.length, distinct),
    ['path', 'requests', 'bytes', 'clients'],
    rows.map((r) => [key(r.key), count(r.requests), count(r.bytes), count(r.clients)]),
  );
}

function keyedSection(
  title: string,
  name: string,
  rows: readonly KeyedRequests[],
  distinct?: number,
): string[] {
  return section(
    listTitle(title, rows.length, distinct),
    [name, 'requests'],
    rows.map((r) => [key(r.key), count(r.requests)]),
  );
}

/** The sections of the panels asked for, in the order of PANEL_NAMES. */
export function formatPanels(panels: PanelsJson, title: string): string[] {
  const lines: string[] = [];
  const { status } = panels;
  if (status) {
    const all = status.classes.reduce((n, c) => n + c.requests, 0);
    lines.push(
      ...section(
        `status codes: ${title}`,
        ['code', 'requests', 'share'],
        [...status.classes, ...status.codes].map((r) => [
          r.key,
          count(r.requests),
          share(r.requests, all),
        ]),
      ),
    );
  }
  if (panels.paths)
    lines.push(...pathSection(`paths: ${title}`, panels.paths, panels.paths_distinct));
  if (panels.not_found) {
    lines.push(
      ...pathSection(`not found (4xx): ${title}`, panels.not_found, panels.not_found_distinct),
    );
  }
  if (panels.referrers) {
    lines.push(
      ...keyedSection(
        `referring sites: ${title}`,
        'site',
        panels.referrers,
        panels.referrers_distinct,
      ),
    );
  }
  if (panels.agents) {
    const crawlers = panels.crawlers;
    const note = crawlers
      ? `, crawlers ${count(crawlers.requests)} (${(crawlers.share * 100).toFixed(1)}%)`
      : '';
    lines.push(
      ...section(
        `user agents: ${title}${note}`,
        ['agent', 'requests', 'crawler'],
        panels.agents.map((r) => [key(r.key), count(r.requests), r.crawler ? 'yes' : '']),
      ),
    );
  }
  if (panels.bytes !== undefined) lines.push('', `bytes served: ${title}: ${count(panels.bytes)}`);
  if (panels.hours) {
    const most = Math.max(...panels.hours.map((h) => h.requests));
    lines.push(
      ...section(
        `requests by hour: ${title}`,
        ['hour', 'requests', ''],
        panels.hours.map((h) => [h.key, count(h.requests), bar(h.requests, most)]),
      ),
    );
  }
  return lines;
}
