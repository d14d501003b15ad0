/**
 * A logstats run's numbers, put together from the parts the workers sent: per file, per
 * group (--by), and the exact union over everything. Pure.
 */
import type { PoolRuntime } from '../pool/pool.ts';
import type { LogstatsConfig } from './config.ts';
import { compareKeys } from './keyed.ts';
import type { LogInput } from './read.ts';
import type { Grouping } from './timestamp.ts';
import { ClientUnion, distinctClients, type TallyResult } from './tally.ts';

export interface TopClient {
  readonly ip: string;
  readonly requests: number;
}

export interface FileStats {
  readonly file: string;
  readonly total: number;
  readonly ip: number;
  readonly malformed: number;
  /** Bytes of log text scanned (after decompression). */
  readonly bytes: number;
  readonly ranges: number;
  readonly top?: readonly TopClient[];
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
    readonly bytes: number;
    readonly top?: readonly TopClient[];
  };
  /** With --by: one row per day or hour across every file, in time order. */
  readonly groups?: readonly GroupStats[];
  readonly by?: Grouping;
  /** JSON-lines logs: the fields the clients were read from. */
  readonly fields: readonly string[];
  readonly ms: number;
  readonly workers: number;
  readonly runtime: PoolRuntime;
}

export interface GroupStats {
  readonly key: string;
  readonly total: number;
  readonly ip: number;
  readonly malformed: number;
}

/** What the scan left to summarize: each input's parts, failures, warnings. */
export interface Scanned {
  readonly inputs: readonly LogInput[];
  readonly listErrors: readonly { readonly name: string; readonly error: string }[];
  /** Input index -> reason, for inputs that could not be read. */
  readonly failed: ReadonlyMap<number, string>;
  /** Input index -> its parts' results. */
  readonly parts: ReadonlyMap<number, readonly TallyResult[]>;
  /** Input index -> why it was counted only in part. */
  readonly warnings: ReadonlyMap<number, string>;
}

/** Per-file numbers, and the exact union over every file. */
export function summarize(
  scanned: Scanned,
  config: Pick<LogstatsConfig, 'top' | 'rules'>,
  pool: { readonly workers: number; readonly runtime: PoolRuntime },
  ms: number,
): LogstatsResult {
  const want = config.top > 0;
  const stats: FileStats[] = [];
  const counted: TallyResult[][] = [];
  scanned.inputs.forEach((input, index) => {
    const parts = scanned.parts.get(index);
    if (scanned.failed.has(index) || !parts) return;
    stats.push(countFile(input.name, parts, config.top));
    counted.push([...parts]);
  });
  // One file without --top is its own union: skip re-building a set of every address.
  const only = counted.length === 1 && !want ? stats[0] : undefined;
  const union = new ClientUnion(want);
  if (!only) for (const part of counted.flat()) union.add(part);
  const sum = (key: 'total' | 'malformed' | 'bytes'): number =>
    stats.reduce((n, f) => n + f[key], 0);
  const parts = counted.flat();
  return {
    files: stats,
    ...(config.rules.by !== undefined ? { by: config.rules.by, groups: mergeGroups(parts) } : {}),
    fields: [...new Set(parts.flatMap((part) => part.fields ?? []))].sort(),
    warnings: [...scanned.warnings]
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
      ip: only ? only.ip : union.ips,
      malformed: sum('malformed'),
      bytes: sum('bytes'),
      ...(want ? { top: union.top(config.top) } : {}),
    },
    ms,
    workers: pool.workers,
    runtime: pool.runtime,
  };
}

/**
 * Each group's numbers over every file and range that holds it: the distinct IPs of a day
 * are the exact union of that day's sets from every part.
 */
function mergeGroups(parts: readonly TallyResult[]): GroupStats[] {
  const byKey = new Map<string, ClientUnion>();
  for (const part of parts) {
    for (const group of part.groups ?? []) {
      let union = byKey.get(group.key);
      if (union === undefined) byKey.set(group.key, (union = new ClientUnion(false)));
      union.add({ ...group, bytes: 0 });
    }
  }
  return [...byKey]
    .sort(([a], [b]) => compareKeys(a, b))
    .map(([key, union]) => ({
      key,
      total: union.total,
      ip: union.ips,
      malformed: union.malformed,
    }));
}

/** One file's numbers from its ranges; a lone range without --top needs no merging. */
function countFile(name: string, parts: readonly TallyResult[], top: number): FileStats {
  const sum = (key: 'total' | 'malformed' | 'bytes'): number =>
    parts.reduce((n, part) => n + part[key], 0);
  let ip: number;
  let topClients: readonly TopClient[] | undefined;
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && top === 0) {
    ip = distinctClients(only);
  } else {
    const union = new ClientUnion(top > 0);
    for (const part of parts) union.add(part);
    ip = union.ips;
    if (top > 0) topClients = union.top(top);
  }
  return {
    file: name,
    total: sum('total'),
    ip,
    malformed: sum('malformed'),
    bytes: sum('bytes'),
    ranges: parts.length,
    ...(topClients ? { top: topClients } : {}),
  };
}
