/**
 * The page's own style and script, inlined (the page fetches nothing). The script only
 * sorts rows the page already has: no data from the logs is ever inside it.
 */

export const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #f6f7f9; --card: #fff;
  --line: #dde1e8; --requests: #2f6fdb; --clients: #e07a1f; --accent: #2f6fdb; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7ee; --muted: #9aa3b5; --bg: #14171d;
  --card: #1d2129; --line: #323846; --requests: #6d9cf5; --clients: #f0a15a; --accent: #6d9cf5; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 16px 0 10px; }
h3 { font-size: 14px; margin: 16px 0 6px; color: var(--muted); font-weight: 600; }
.sub { color: var(--muted); margin: 0 0 20px; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
.figure { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.figure .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.figure .value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 4px 18px 16px; margin-top: 20px; }
.scroll { overflow: auto; max-height: 36em; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
table.narrow { width: auto; min-width: 24em; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
th { position: sticky; top: 0; background: var(--card); cursor: pointer; user-select: none; white-space: nowrap; }
th:hover, th:focus { color: var(--accent); }
th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 10px; }
th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 10px; }
.num { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) { background: color-mix(in srgb, var(--line) 30%, transparent); }
.chart { width: 100%; height: auto; display: block; }
.chart .bar.requests { fill: var(--requests); }
.chart .bar.clients { fill: var(--clients); }
.chart .bar:hover { opacity: .75; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .axis { stroke: var(--muted); stroke-width: 1; }
.chart .tick { fill: var(--muted); font-size: 11px; }
.note { color: var(--muted); }
.failed td:first-child { color: #c0392b; }
footer { color: var(--muted); margin-top: 28px; font-size: 12px; }
`;

/** Clicking a header (or Enter on it) sorts its table: numbers by value, text as words. */
export const SCRIPT = `
'use strict';
(() => {
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  const cellValue = (row, column, numeric) => {
    const cell = row.cells[column];
    if (!numeric) return cell ? cell.textContent : '';
    const v = cell ? cell.getAttribute('data-v') : null;
    return v === null || v === '' ? -Infinity : Number(v);
  };
  const sortBy = (table, th) => {
    const column = th.cellIndex;
    const numeric = th.classList.contains('num');
    const now = th.getAttribute('aria-sort');
    // First click: biggest numbers first, words from A; then each click turns it round.
    const ascending = now ? now === 'descending' : !numeric;
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = cellValue(a, column, numeric);
      const y = cellValue(b, column, numeric);
      const order = numeric ? (x < y ? -1 : x > y ? 1 : 0) : collator.compare(x, y);
      return ascending ? order : -order;
    });
    for (const other of th.parentNode.cells) other.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    const sorted = document.createDocumentFragment();
    for (const row of rows) sorted.append(row);
    body.append(sorted);
  };
  for (const table of document.querySelectorAll('table.sortable')) {
    for (const th of table.tHead.rows[0].cells) {
      th.tabIndex = 0;
      th.addEventListener('click', () => sortBy(table, th));
      th.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          sortBy(table, th);
        }
      });
    }
  }
})();
`;
