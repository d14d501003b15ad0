/**
 * `crew logstats --html`: the `--json` summary as one self-contained page. Headline numbers,
 * with --by a chart of requests and distinct clients per group, the files, and every panel
 * of `all.panels` as sortable tables. Tables are rendered here, in HTML; the page's script
 * only reorders their rows, so no input ever sits inside a `<script>`. Pure.
 */
import { STYLE, SCRIPT } from './assets.ts';
import { barChartSvg } from './chart.ts';
import { escapeHtml } from './escape.ts';
import { formatDuration, formatNumber, formatSize } from './figures.ts';
import { panelBlocks, panelTitle, type Block } from './panels.ts';
import { tableHtml, type Cell, type Table } from './table.ts';

/** Counts every row of the summary has: a file, a --by group, or all of them. */
export interface ReportCounts {
  readonly total: number;
  readonly ip: number;
  readonly malformed: number;
  readonly filtered?: number | undefined;
  /** Panels (--panels, --report): any shape, shown by shape (see panels.ts). */
  readonly panels?: object | undefined;
}

/** What the report reads: the document `crew logstats --json` prints. */
export interface ReportSummary {
  readonly files: readonly (ReportCounts & {
    readonly file: string;
    readonly bytes: number;
    readonly ranges?: number | undefined;
  })[];
  readonly all: ReportCounts & {
    readonly files: number;
    readonly bytes: number;
    readonly top?: readonly object[] | undefined;
  };
  readonly groups?: readonly (ReportCounts & { readonly key: string })[] | undefined;
  readonly failed?: readonly { readonly file: string; readonly error: string }[] | undefined;
  readonly warnings?: readonly { readonly file: string; readonly warning: string }[] | undefined;
  readonly ms: number;
  readonly workers?: number | undefined;
  readonly runtime?: string | undefined;
}

/** Rows of the files' table at most: a page of 100,000 rows would not open; --json has all. */
export const MAX_FILE_ROWS = 10_000;

/** The content security policy: the page may load nothing, only run its own inline parts. */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/** The whole page for `summary`, as one HTML document. */
export function renderReport(summary: ReportSummary): string {
  const { all } = summary;
  const panels = (Object.entries(all.panels ?? {}) as [string, unknown][]).map(([name, value]) => ({
    name,
    value,
    blocks: panelBlocks(name, value),
  }));
  // A panel that is one number (bytes served) is a headline figure; the rest get sections.
  const single = (blocks: readonly Block[]): (Block & { kind: 'figure' }) | undefined => {
    const [only] = blocks;
    return blocks.length === 1 && only?.kind === 'figure' ? only : undefined;
  };
  const panelFigures = panels.flatMap(({ name, blocks }) => {
    const figure = single(blocks);
    return figure ? [panelFigure(`panel-${name}`, panelTitle(name), figure.value)] : [];
  });
  const body = [
    `<h1>Access logs: ${escapeHtml(formatNumber(all.total))} requests, ${escapeHtml(formatNumber(all.ip))} distinct clients</h1>`,
    `<p class="sub">${escapeHtml(runLine(summary))}</p>`,
    figuresHtml([...headline(summary), ...panelFigures]),
    summary.groups && summary.groups.length > 0 ? groupsHtml(summary.groups) : '',
    filesHtml(summary),
    problemsHtml(summary),
    all.top ? sectionHtml('top', 'Busiest clients', panelBlocks('top', all.top)) : '',
    ...panels
      .filter(({ blocks }) => !single(blocks))
      .map(({ name, value, blocks }) =>
        sectionHtml(`panel-${name}`, panelTitle(name), blocks, hoursChart(name, value)),
      ),
    `<footer>Made by crew logstats. Every count is exact. Per-file and per-group panels are in its --json output.</footer>`,
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>crew logstats report</title>',
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body.filter((part) => part !== ''),
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** "3 files, 2 × process, 12 ms". */
function runLine(summary: ReportSummary): string {
  const files = `${formatNumber(summary.all.files)} file${summary.all.files === 1 ? '' : 's'}`;
  const workers =
    summary.workers !== undefined && summary.workers > 0
      ? `, ${summary.workers} × ${summary.runtime ?? 'worker'}`
      : '';
  return `${files}${workers}, counted in ${formatDuration(summary.ms)}`;
}

interface Figure {
  readonly id: string;
  readonly label: string;
  readonly shown: string;
  /** The exact value, when the figure rounds it. */
  readonly exact?: string;
}

function headline(summary: ReportSummary): Figure[] {
  const { all } = summary;
  const count = (id: string, label: string, n: number): Figure => ({
    id,
    label,
    shown: formatNumber(n),
  });
  return [
    count('files', 'files', all.files),
    count('requests', 'requests', all.total),
    count('clients', 'distinct clients', all.ip),
    count('malformed', 'malformed lines', all.malformed),
    ...(all.filtered !== undefined ? [count('filtered', 'filtered out', all.filtered)] : []),
    {
      id: 'bytes',
      label: 'log text read',
      shown: formatSize(all.bytes),
      exact: `${formatNumber(all.bytes)} bytes`,
    },
    { id: 'time', label: 'time', shown: formatDuration(summary.ms) },
  ];
}

function figuresHtml(figures: readonly Figure[]): string {
  const cards = figures.map(
    (f) =>
      `<div class="figure" data-figure="${escapeHtml(f.id)}"><div class="label">${escapeHtml(f.label)}</div>` +
      `<div class="value"${f.exact ? ` title="${escapeHtml(f.exact)}"` : ''}>${escapeHtml(f.shown)}</div></div>`,
  );
  return `<div class="figures">${cards.join('')}</div>`;
}

/** The --by groups: a chart of requests and one of distinct clients, then their table. */
function groupsHtml(groups: NonNullable<ReportSummary['groups']>): string {
  const labels = groups.map((g) => g.key);
  const per = groups.some((g) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(g.key)) ? 'hour' : 'day';
  const table: Table = {
    columns: [
      { key: 'key', title: per },
      { key: 'total', title: 'requests' },
      { key: 'ip', title: 'distinct clients' },
      { key: 'malformed', title: 'malformed' },
    ],
    rows: groups.map((g) => [g.key, g.total, g.ip, g.malformed]),
  };
  return [
    `<section id="groups"><h2>Requests and distinct clients per ${per}</h2>`,
    '<h3>requests</h3>',
    barChartSvg({
      title: `requests per ${per}`,
      labels,
      values: groups.map((g) => g.total),
      tone: 'requests',
    }),
    '<h3>distinct clients</h3>',
    barChartSvg({
      title: `distinct clients per ${per}`,
      labels,
      values: groups.map((g) => g.ip),
      tone: 'clients',
    }),
    tableHtml(table),
    '</section>',
  ].join('\n');
}

function filesHtml(summary: ReportSummary): string {
  const filtering = summary.all.filtered !== undefined;
  const shown = summary.files.slice(0, MAX_FILE_ROWS);
  const table: Table = {
    columns: [
      { key: 'file', title: 'file' },
      { key: 'total', title: 'requests' },
      { key: 'ip', title: 'distinct clients' },
      { key: 'malformed', title: 'malformed' },
      ...(filtering ? [{ key: 'filtered', title: 'filtered out' }] : []),
      { key: 'bytes', title: 'bytes' },
    ],
    rows: shown.map((f): Cell[] => [
      f.file,
      f.total,
      f.ip,
      f.malformed,
      ...(filtering ? [f.filtered] : []),
      f.bytes,
    ]),
  };
  const note =
    summary.files.length > shown.length
      ? `<p class="note">The first ${formatNumber(shown.length)} of ${formatNumber(summary.files.length)} files; --json lists them all.</p>`
      : '';
  const content =
    summary.files.length === 0 ? '<p class="note">No log files.</p>' : tableHtml(table);
  return `<section id="files"><h2>Files</h2>\n${note}${content}\n</section>`;
}

/** Files that could not be read, and files counted only in part. */
function problemsHtml(summary: ReportSummary): string {
  const failed = summary.failed ?? [];
  const warnings = summary.warnings ?? [];
  if (failed.length === 0 && warnings.length === 0) return '';
  const parts = ['<section id="problems"><h2>Not counted, or not in full</h2>'];
  const table = (rows: readonly (readonly [string, string])[], what: string): string =>
    tableHtml({
      columns: [
        { key: 'file', title: 'file' },
        { key: 'why', title: what },
      ],
      rows,
    });
  if (failed.length > 0)
    parts.push(
      '<h3>could not be read</h3>',
      table(
        failed.map((f) => [f.file, f.error]),
        'error',
      ),
    );
  if (warnings.length > 0) {
    parts.push(
      '<h3>counted in part</h3>',
      table(
        warnings.map((w) => [w.file, w.warning]),
        'warning',
      ),
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

/** The `hours` panel (requests by hour of day) as a chart too, when it has that shape. */
function hoursChart(name: string, value: unknown): string {
  if (name !== 'hours' || !Array.isArray(value)) return '';
  const hours = value.filter(
    (hour): hour is { key: string; requests: number } =>
      typeof hour === 'object' &&
      hour !== null &&
      typeof (hour as { key?: unknown }).key === 'string' &&
      typeof (hour as { requests?: unknown }).requests === 'number',
  );
  if (hours.length === 0 || hours.length !== value.length) return '';
  return barChartSvg({
    title: 'requests by hour of day',
    labels: hours.map((hour) => hour.key),
    values: hours.map((hour) => hour.requests),
    tone: 'requests',
  });
}

/**
 * A panel's section: its chart if it has one, its figures together, then its tables, each
 * under its own title.
 */
function sectionHtml(id: string, title: string, blocks: readonly Block[], chart = ''): string {
  const figures: Figure[] = [];
  const rest: string[] = [];
  for (const block of blocks) {
    if (block.kind === 'figure') {
      figures.push(panelFigure(id, block.title, block.value));
      continue;
    }
    if (block.title !== undefined) rest.push(`<h3>${escapeHtml(block.title)}</h3>`);
    rest.push(block.kind === 'table' ? tableHtml(block.table) : '<p class="note">(none)</p>');
  }
  return [
    `<section id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>`,
    chart,
    figures.length > 0 ? figuresHtml(figures) : '',
    ...rest,
    '</section>',
  ].join('\n');
}

/** A panel's number or word as a figure; a count of bytes as a size, exact on hover. */
function panelFigure(id: string, label: string, value: number | string): Figure {
  if (typeof value === 'string') return { id, label, shown: value };
  if (/bytes/.test(id) || label === 'bytes') {
    return { id, label, shown: formatSize(value), exact: `${formatNumber(value)} bytes` };
  }
  return { id, label, shown: formatNumber(value) };
}
