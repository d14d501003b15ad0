/**
 * A table of the report as data, and as HTML: every cell escaped, numbers right-aligned with
 * separators and their exact value in `data-v`, so the page's script sorts them as numbers.
 * Pure.
 */
import { escapeHtml } from './escape.ts';
import { formatNumber, formatShare } from './figures.ts';

/** What a cell may hold: anything else (a nested list) is shown as its JSON. */
export type Cell = string | number | boolean | null | undefined | object;

export interface Column {
  /** The field the column shows. */
  readonly key: string;
  /** The header a person reads. */
  readonly title: string;
}

export interface Table {
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly Cell[])[];
}

/** Fields whose numbers are shares of 0 to 1, shown as percentages. */
const SHARES = new Set(['share', 'ratio']);

/** A `<table>` whose headers sort it when clicked (see the page's script). */
export function tableHtml(table: Table): string {
  const numeric = table.columns.map(
    (_, c) =>
      table.rows.some((row) => typeof row[c] === 'number') &&
      table.rows.every((row) => typeof row[c] === 'number' || row[c] == null),
  );
  const head = table.columns
    .map(
      (column, c) =>
        `<th scope="col"${numeric[c] ? ' class="num"' : ''} title="sort by ${escapeHtml(column.title)}">` +
        `${escapeHtml(column.title)}</th>`,
    )
    .join('');
  const body = table.rows
    .map(
      (row) =>
        `<tr>${table.columns.map((column, c) => cellHtml(row[c], isShare(column.key, row), numeric[c]!)).join('')}</tr>`,
    )
    .join('\n');
  // Two columns (a name and its count) read better side by side than across the page.
  const narrow = table.columns.length <= 2 ? ' narrow' : '';
  return `<div class="scroll"><table class="sortable${narrow}"><thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

/** A column of shares, or in a table of names and values (see panels), a row of one. */
function isShare(column: string, row: readonly Cell[]): boolean {
  return (
    SHARES.has(column) || (column === 'value' && typeof row[0] === 'string' && SHARES.has(row[0]))
  );
}

function cellHtml(value: Cell, share: boolean, numeric: boolean): string {
  if (typeof value === 'number') {
    const shown = share ? formatShare(value) : formatNumber(value);
    // data-v: the exact number the sort compares (a share's percent is rounded).
    return `<td class="num" data-v="${escapeHtml(String(value))}">${escapeHtml(shown)}</td>`;
  }
  return `<td${numeric ? ' class="num"' : ''}>${escapeHtml(cellText(value))}</td>`;
}

/** A cell that is not a number, as text. */
export function cellText(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return formatNumber(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return ''; // a value JSON cannot hold (a bigint, a cycle): --json could not print it either
  }
}
