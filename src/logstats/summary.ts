/**
 * A logstats run's numbers, put together from the parts the workers sent as they arrive:
 * per file, per group (--by), and the exact union over everything. Pure.
 */
import type { PoolRuntime } from '../pool/pool.ts';
import { MisreadLines, type Misread } from './formats/misread.ts';
import type { LogstatsConfig } from './config.ts';
import type { FileCount } from './batch.ts';
import type { LogInput } from './read.ts';
import { compareKeys, type Grouping } from './timestamp.ts';
import { ClientUnion } from './client-union.ts';
import {
  PANEL_NAMES as PANEL_ALL,
  panelCountsOf,
  PanelCounts,
  type PanelData,
  type PanelName,
  type PanelsJson,
} from './panels.ts';
import { distinctClients, type TallyResult } from './tally.ts';

export interface TopClient {
  readonly ip: string;
  readonly requests: number;
}

export interface FileStats {
  readonly file: string;
  readonly total: number;
  readonly ip: number;
  readonly malformed: number;
  /** With a filter (--since, --until, --exclude-ip): the lines it left out. */
  readonly filtered?: number;
  /** Bytes of log text scanned (after decompression). */
  readonly bytes: number;
  readonly ranges: number;
  readonly top?: readonly TopClient[];
  /** With --panels: the file's panels, lists cut to --panel-rows. */
  readonly panels?: PanelsJson;
}

export interface FileFailure {
  readonly file: string;
  readonly error: string;
}

export interface LogstatsResult {
  readonly files: readonly FileStats[];
  readonly failed: readonly FileFailure[];
  /** Files counted only in part, with why (a .gz with trailing garbage). */
  readonly warnings: readonly { readonly file: string; readonly warning: string }[];
  readonly all: {
    readonly files: number;
    readonly total: number;
    readonly ip: number;
    readonly malformed: number;
    readonly filtered?: number;
    readonly bytes: number;
    readonly top?: readonly TopClient[];
    readonly panels?: PanelsJson;
  };
  /** With --by: one row per day or hour across every file, in time order. */
  readonly groups?: readonly GroupStats[];
  readonly by?: Grouping;
  /** JSON-lines logs: the fields the clients were read from. */
  readonly fields: readonly string[];
  /** With --log-format: the lines it could not read, and why for the first few. */
  readonly misread?: Misread;
  readonly ms: number;
  readonly workers: number;
  readonly runtime: PoolRuntime;
}

export interface GroupStats {
  readonly key: string;
  readonly total: number;
  readonly ip: number;
  readonly malformed: number;
  readonly panels?: PanelsJson;
}

/** What the scan left to summarize: the inputs, those that failed, and what the rest added up to. */
export interface Scanned {
  readonly inputs: readonly LogInput[];
  readonly listErrors: readonly { readonly name: string; readonly error: string }[];
  /** Input index -> reason, for inputs that could not be read. */
  readonly failed: ReadonlyMap<number, string>;
  readonly totals: Totals;
}

/** A file still being counted: its parts so far. */
interface OpenFile {
  total: number;
  malformed: number;
  filtered: number;
  bytes: number;
  /** The first part, while it is the only one (most files: no union needed). */
  first: TallyResult | undefined;
  /** From the second part on: the file's clients, and its groups' (--by). */
  union: ClientUnion | undefined;
  groups: Map<string, ClientUnion> | undefined;
  /** From the second part on, with --panels: the file's panels, and its groups'. */
  panels: PanelCounts | undefined;
  groupPanels: Map<string, PanelCounts> | undefined;
  readonly fields: Set<string>;
}

/** What --panels asks for: which panels, and how many rows a list shows. */
export interface PanelRules {
  readonly panels: readonly PanelName[];
  readonly rows: number;
}

/**
 * What the workers' parts add up to, taken in as they arrive so that memory follows the
 * distinct clients, not the parts: each file's numbers once its last part is in, and one
 * union over every file counted (and one per --by group), whose runs merge as they pile up.
 * A file that fails leaves nothing in the whole.
 */
export class Totals {
  /** Input index -> why it was counted only in part. */
  readonly warnings = new Map<number, string>();
  readonly #top: number;
  /** Whether lines are filtered: each file then says how many were. */
  readonly #filtering: boolean;
  readonly #union: ClientUnion;
  readonly #groups = new Map<string, ClientUnion>();
  readonly #fields = new Set<string>();
  readonly #misread = new MisreadLines();
  readonly #files = new Map<number, FileStats>();
  readonly #open = new Map<number, OpenFile>();
  /** With --panels: every file's, and each --by group's. */
  readonly #panelRules: PanelRules | undefined;
  /** Every closed file's panels: the first one's own counts, the others' merged in. */
  #panels: PanelCounts | undefined;
  readonly #groupPanels = new Map<string, PanelCounts>();

  /**
   * `top`: how many busiest clients to list (0: none); `filtering`: a filter was given;
   * `panels`: what --panels asks for (undefined: none).
   */
  constructor(top: number, filtering = false, panels?: PanelRules) {
    this.#top = top;
    this.#filtering = filtering;
    this.#union = new ClientUnion(top > 0);
    this.#panelRules = panels && panels.panels.length > 0 ? panels : undefined;
  }

  /** A part of input `index` (one of its ranges, or all of it): its numbers and sets. */
  part(index: number, part: TallyResult): void {
    if (part.warning !== undefined) this.warnings.set(index, part.warning);
    this.#misread.absorb(part.misread);
    let open = this.#open.get(index);
    if (open === undefined) {
      const fields = new Set(part.fields ?? []);
      open = {
        total: 0,
        malformed: 0,
        filtered: 0,
        bytes: 0,
        first: part,
        union: undefined,
        groups: undefined,
        panels: undefined,
        groupPanels: undefined,
        fields,
      };
      this.#open.set(index, open);
    } else {
      if (open.first !== undefined) {
        open.union = new ClientUnion(this.#top > 0);
        open.groups = new Map();
        if (this.#panelRules) {
          open.panels = new PanelCounts(this.#panelRules.panels);
          open.groupPanels = new Map();
        }
        merge(open.union, open.groups, open.first);
        mergePanels(open.panels, open.groupPanels, open.first);
        open.first = undefined;
      }
      merge(open.union!, open.groups, part);
      mergePanels(open.panels, open.groupPanels, part);
      for (const field of part.fields ?? []) open.fields.add(field);
    }
    open.total += part.total;
    open.malformed += part.malformed;
    open.filtered += part.filtered;
    open.bytes += part.bytes;
  }

  /** Input `index` has all its parts in: its numbers, and its clients into the whole. */
  close(index: number, name: string, ranges: number): void {
    const open = this.#open.get(index);
    if (open === undefined) return;
    this.#open.delete(index);
    let ip: number;
    let top: readonly TopClient[] | undefined;
    let panels: PanelsJson | undefined;
    if (open.first) {
      ip = distinctClients(open.first);
      if (this.#top > 0) top = busiest(open.first, this.#top);
      panels = this.#closePanels(open.first.panels);
      this.merge(open.first);
    } else {
      ip = open.union!.ips;
      if (this.#top > 0) top = open.union!.top(this.#top);
      this.#union.absorb(open.union!);
      for (const [key, group] of open.groups!) this.#group(key).absorb(group);
      for (const field of open.fields) this.#fields.add(field);
      panels = this.#closePanels(open.panels);
      for (const [key, group] of open.groupPanels ?? []) this.#groupPanel(key).takeOver(group);
    }
    this.#fileRow(index, name, { ...open, ip, ...(top ? { top } : {}) }, ranges, panels);
  }

  /**
   * A closed file's panels into the whole; returns them as --json shows them (undefined
   * without --panels). `counts` is taken over.
   */
  #closePanels(counts: PanelData | PanelCounts | undefined): PanelsJson | undefined {
    const rules = this.#panelRules;
    if (rules === undefined || counts === undefined) return undefined;
    const file = counts instanceof PanelCounts ? counts : panelCountsOf(counts, rules.panels);
    const json = file.toJson(rules.rows);
    if (this.#panels === undefined) this.#panels = file;
    else this.#panels.takeOver(file);
    return json;
  }

  /** Every file's panels, as --json shows them; undefined without --panels. */
  panelsJson(): PanelsJson | undefined {
    const rules = this.#panelRules;
    return rules && (this.#panels ?? new PanelCounts(rules.panels)).toJson(rules.rows);
  }

  /** Input `index` failed: what came of it is left out. */
  drop(index: number): void {
    this.#open.delete(index);
  }

  /** A whole file counted in a batch: its numbers (its clients come in the batch's union). */
  file(index: number, name: string, count: FileCount): void {
    if (count.warning !== undefined) this.warnings.set(index, count.warning);
    this.#fileRow(index, name, count, 1, this.#closePanels(count.panels));
  }

  /** A finished file's row of the table; `filtered` only when a filter was given. */
  #fileRow(
    index: number,
    name: string,
    counts: Pick<FileCount, 'total' | 'ip' | 'malformed' | 'filtered' | 'bytes' | 'top'>,
    ranges: number,
    panels?: PanelsJson,
  ): void {
    const { total, ip, malformed, filtered, bytes, top } = counts;
    // Plain literals, one shape each: 100,000 rows built with spreads took 1 µs and 96 bytes
    // each. Keys in the order --json shows them.
    const row: { -readonly [K in keyof FileStats]: FileStats[K] } = this.#filtering
      ? { file: name, total, ip, malformed, filtered, bytes, ranges }
      : { file: name, total, ip, malformed, bytes, ranges };
    if (top) row.top = top;
    if (panels) row.panels = panels;
    this.#files.set(index, row);
  }

  /** Clients of files already closed (a batch's union) into the whole. */
  merge(result: TallyResult): void {
    merge(this.#union, undefined, result);
    for (const group of result.groups ?? []) {
      this.#group(group.key).add({ ...group, bytes: 0 });
      if (group.panels && this.#panelRules) this.#groupPanel(group.key).absorb(group.panels);
    }
    for (const field of result.fields ?? []) this.#fields.add(field);
    this.#misread.absorb(result.misread);
  }

  /** Input `index`'s numbers, once counted. */
  stats(index: number): FileStats | undefined {
    return this.#files.get(index);
  }

  /** The union over every file counted. */
  get union(): ClientUnion {
    return this.#union;
  }

  /** Each --by group's numbers over every file, in time order. */
  groups(): GroupStats[] {
    return [...this.#groups]
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([key, union]) => {
        const panels = this.#panelRules && this.#groupPanel(key).toJson(this.#panelRules.rows);
        return {
          key,
          total: union.total,
          ip: union.ips,
          malformed: union.malformed,
          ...(panels ? { panels } : {}),
        };
      });
  }

  #groupPanel(key: string): PanelCounts {
    let panels = this.#groupPanels.get(key);
    if (panels === undefined) {
      this.#groupPanels.set(key, (panels = new PanelCounts(this.#panelRules!.panels)));
    }
    return panels;
  }

  get fields(): readonly string[] {
    return [...this.#fields].sort();
  }

  /** The lines --log-format could not read, over every part taken in. */
  get misread(): Misread | undefined {
    return this.#misread.toResult();
  }

  #group(key: string): ClientUnion {
    let union = this.#groups.get(key);
    if (union === undefined) this.#groups.set(key, (union = new ClientUnion(false)));
    return union;
  }
}

/** A part's clients into a union, and with `groups` its groups' into theirs. */
function merge(
  union: ClientUnion,
  groups: Map<string, ClientUnion> | undefined,
  part: TallyResult,
): void {
  union.add(part);
  if (!groups) return;
  for (const group of part.groups ?? []) {
    let inGroup = groups.get(group.key);
    if (inGroup === undefined) groups.set(group.key, (inGroup = new ClientUnion(false)));
    inGroup.add({ ...group, bytes: 0 });
  }
}

/** A part's panels into a file's, and its groups' into theirs (nothing without --panels). */
function mergePanels(
  panels: PanelCounts | undefined,
  groups: Map<string, PanelCounts> | undefined,
  part: TallyResult,
): void {
  if (panels === undefined || groups === undefined) return;
  if (part.panels) panels.absorb(part.panels);
  for (const group of part.groups ?? []) {
    if (group.panels === undefined) continue;
    let inGroup = groups.get(group.key);
    if (inGroup === undefined) groups.set(group.key, (inGroup = new PanelCounts(PANEL_ALL)));
    inGroup.absorb(group.panels);
  }
}

/** The `k` busiest clients of one part. */
function busiest(part: TallyResult, k: number): readonly TopClient[] {
  const union = new ClientUnion(true);
  union.add(part);
  return union.top(k);
}

/** Per-file numbers, and the exact union over every file. */
export function summarize(
  scanned: Scanned,
  config: Pick<LogstatsConfig, 'top' | 'rules'>,
  pool: { readonly workers: number; readonly runtime: PoolRuntime },
  ms: number,
): LogstatsResult {
  const { totals } = scanned;
  const want = config.top > 0;
  const stats: FileStats[] = [];
  scanned.inputs.forEach((_, index) => {
    const counted = totals.stats(index);
    if (counted && !scanned.failed.has(index)) stats.push(counted);
  });
  // One file without --top is its own union: skip counting every address again.
  const only = stats.length === 1 && !want ? stats[0] : undefined;
  const panels = totals.panelsJson();
  const sum = (key: 'total' | 'malformed' | 'filtered' | 'bytes'): number =>
    stats.reduce((n, f) => n + (f[key] ?? 0), 0);
  return {
    files: stats,
    ...(config.rules.by !== undefined ? { by: config.rules.by, groups: totals.groups() } : {}),
    fields: totals.fields,
    ...(totals.misread ? { misread: totals.misread } : {}),
    warnings: [...totals.warnings]
      .sort(([a], [b]) => a - b)
      .map(([index, warning]) => ({ file: scanned.inputs[index]!.name, warning })),
    failed: [
      ...scanned.listErrors.map((e) => ({ file: e.name, error: e.error })),
      ...[...scanned.failed].map(([index, error]) => ({
        file: scanned.inputs[index]!.name,
        error,
      })),
    ],
    all: {
      files: stats.length,
      total: sum('total'),
      ip: only ? only.ip : totals.union.ips,
      malformed: sum('malformed'),
      ...(config.rules.filter !== undefined ? { filtered: sum('filtered') } : {}),
      bytes: sum('bytes'),
      ...(want ? { top: totals.union.top(config.top) } : {}),
      ...(panels ? { panels } : {}),
    },
    ms,
    workers: pool.workers,
    runtime: pool.runtime,
  };
}
