/**
 * Any panel of `--json` as what the report shows, by its shape alone, so that a panel added
 * later (or shaped a little differently) still shows: a list of records is a table whose
 * columns are their fields (`key` first); a record of lists, one table per list (status
 * codes, status classes); a record of numbers, a two-column table; a number or a word, a
 * figure. Known panels get a title a person reads, others their key. Pure.
 */
import type { Column, Table } from './table.ts';

/** What a panel becomes: tables and figures, each with a title when it is part of one. */
export type Block =
  | { readonly kind: 'table'; readonly title: string | undefined; readonly table: Table }
  | { readonly kind: 'figure'; readonly title: string; readonly value: number | string }
  | { readonly kind: 'empty'; readonly title: string | undefined };

/** The panels of `--json`, as the report titles them. */
const PANEL_TITLES: Readonly<Record<string, string>> = {
  status: 'Status codes',
  paths: 'Requested paths',
  not_found: 'Not found (4xx)',
  referrers: 'Referring sites',
  agents: 'User agents',
  crawlers: 'Crawlers',
  bytes: 'Bytes served',
  hours: 'Requests by hour of day',
};

/** Parts of panels and columns, as the report titles them. */
const PART_TITLES: Readonly<Record<string, string>> = {
  codes: 'by code',
  classes: 'by class',
  requests: 'requests',
  clients: 'distinct clients',
  ip: 'distinct clients',
  bytes: 'bytes',
  share: 'share',
  crawler: 'crawler',
};

/** What the `key` column holds in each panel. */
const KEY_TITLES: Readonly<Record<string, string>> = {
  paths: 'path',
  not_found: 'path',
  referrers: 'site',
  agents: 'user agent',
  hours: 'hour',
  codes: 'code',
  classes: 'class',
};

/** A panel's title: its known name, "distinct paths" for `paths_distinct`, else its key. */
export function panelTitle(name: string): string {
  const known = PANEL_TITLES[name];
  if (known) return known;
  const distinct = /^(.+)_distinct$/.exec(name)?.[1];
  if (distinct) return `Distinct ${(PANEL_TITLES[distinct] ?? distinct).toLowerCase()}`;
  return name;
}

/** Panel `name` (or a part of one, `name` then its own key) as blocks to show. */
export function panelBlocks(name: string, value: unknown, depth = 0): Block[] {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    return [
      { kind: 'figure', title: name, value: typeof value === 'boolean' ? String(value) : value },
    ];
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return [{ kind: 'empty', title: undefined }];
    return [{ kind: 'table', title: undefined, table: listTable(name, value) }];
  }
  if (typeof value !== 'object' || value === null) return [];
  const entries = Object.entries(value);
  if (entries.length > 0 && entries.every(([, v]) => typeof v === 'number')) {
    return [{ kind: 'table', title: undefined, table: numbersTable(entries) }];
  }
  // A record of parts: each under its own title; a part's figure keeps its own name.
  return entries.flatMap(([key, part]) => {
    if (depth >= 3) return [];
    const title = PART_TITLES[key] ?? key;
    return panelBlocks(key, part, depth + 1).map((block) =>
      block.kind === 'figure' ? { ...block, title } : { ...block, title: block.title ?? title },
    );
  });
}

/** A list of records as a table: the union of their fields, `key` first. */
function listTable(name: string, list: readonly unknown[]): Table {
  const records = list.map((item) => (isRecord(item) ? item : { value: item }));
  const keys: string[] = [];
  for (const record of records) {
    for (const key of Object.keys(record)) if (!keys.includes(key)) keys.push(key);
  }
  keys.sort((a, b) => Number(b === 'key') - Number(a === 'key'));
  const columns: Column[] = keys.map((key) => ({
    key,
    title: key === 'key' ? (KEY_TITLES[name] ?? 'key') : (PART_TITLES[key] ?? key),
  }));
  return {
    columns,
    rows: records.map((record) => keys.map((key) => record[key] as Table['rows'][number][number])),
  };
}

/** A record of numbers as a two-column table. */
function numbersTable(entries: readonly [string, unknown][]): Table {
  return {
    columns: [
      { key: 'name', title: 'name' },
      { key: 'value', title: 'value' },
    ],
    rows: entries.map(([key, value]) => [PART_TITLES[key] ?? key, value as number]),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
