/**
 * A webdataset shard's `NNNNN.parquet`: one row per input row of the shard, in row order,
 * with its key, status, the metadata of its json sidecar, and the error of a failed row;
 * written with hyparquet-writer (pure JavaScript, the family crew reads parquet with).
 */
import { closeSync, openSync } from 'node:fs';
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import type { ManifestLine } from './manifest.ts';
import { writeAllSync } from './store.ts';

/**
 * How a kept column is typed in the table: text from a CSV or TSV, a JSON value (as JSON
 * text, with parquet's JSON annotation) from JSON lines or parquet, whose values may be
 * numbers, booleans or objects and are kept exactly.
 */
export type ColumnKind = 'STRING' | 'JSON';

/** Crew's own fields in a sidecar and a shard's table; a kept column of the same name is prefixed. */
const OWN_FIELDS = new Set([
  'key',
  'row',
  'url',
  'caption',
  'width',
  'height',
  'originalWidth',
  'originalHeight',
  'sha256',
  'bytes',
  'status',
  'http',
  'contentType',
  'error',
]);

/** The name a kept column has in sidecars and shard tables: `column_<name>` if crew uses it. */
export const keptName = (name: string): string => (OWN_FIELDS.has(name) ? `column_${name}` : name);

/**
 * Rows per row group. The writer's default (1,000, then up to 100,000) encoded a shard of
 * 10,000 rows as a group of 9,000, and all it built for it at once was most of the ~20 MiB
 * a shard's end added to a run's peak memory (webdataset was 1.14x files layout's peak);
 * groups of 1,000 took 25-30 MiB less at their peak, for a file ~4% bigger.
 */
const ROW_GROUP = 1000;

export interface TableSchema {
  readonly keyOf: (row: number) => string;
  readonly caption: boolean;
  readonly columns: readonly { readonly name: string; readonly kind: ColumnKind }[];
}

/** Writes the table of `lines` (one shard's, in row order) to a new file at `path`. */
export function writeShardTable(
  path: string,
  lines: readonly ManifestLine[],
  schema: TableSchema,
): void {
  const column = <T>(pick: (line: ManifestLine) => T): T[] => lines.map(pick);
  const columnData = [
    { name: 'key', data: column((l) => schema.keyOf(l.row)), type: 'STRING' as const },
    { name: 'row', data: column((l) => BigInt(l.row)), type: 'INT64' as const },
    { name: 'url', data: column((l) => l.url), type: 'STRING' as const },
    ...(schema.caption
      ? [{ name: 'caption', data: column((l) => l.caption ?? null), type: 'STRING' as const }]
      : []),
    { name: 'status', data: column((l) => l.status), type: 'STRING' as const },
    { name: 'error', data: column((l) => l.error), type: 'STRING' as const },
    { name: 'http', data: column((l) => l.http), type: 'INT32' as const },
    { name: 'width', data: column((l) => l.width ?? null), type: 'INT32' as const },
    { name: 'height', data: column((l) => l.height ?? null), type: 'INT32' as const },
    // With the image step: the size as served, before the resize.
    ...(lines.some((l) => l.originalWidth !== undefined)
      ? [
          {
            name: 'originalWidth',
            data: column((l) => l.originalWidth ?? null),
            type: 'INT32' as const,
          },
          {
            name: 'originalHeight',
            data: column((l) => l.originalHeight ?? null),
            type: 'INT32' as const,
          },
        ]
      : []),
    { name: 'bytes', data: column((l) => BigInt(l.bytes)), type: 'INT64' as const },
    { name: 'sha256', data: column((l) => l.sha256), type: 'STRING' as const },
    { name: 'contentType', data: column((l) => l.contentType), type: 'STRING' as const },
    ...schema.columns.map((kept) => ({
      name: keptName(kept.name),
      data: column((l) => l.columns?.[kept.name] ?? null),
      type: kept.kind,
    })),
  ];
  const fd = openSync(path, 'wx', 0o644);
  try {
    // Synchronous: a writer without `flush` makes parquetWrite return nothing to wait for.
    void parquetWrite({
      writer: new FileChunks(fd),
      columnData,
      createdBy: 'crew',
      rowGroupSize: ROW_GROUP,
    });
  } finally {
    closeSync(fd);
  }
}

/** Bytes of a table gathered before they are written to its file. */
const CHUNK_BYTES = 64 * 1024;

/**
 * hyparquet-writer's writer, to a file `CHUNK_BYTES` at a time. Its own builds the whole
 * file in one buffer it doubles as it fills (up to 512 KiB for 10,000 rows) and then copies:
 * big allocations, one shard after another, that glibc's malloc kept from the system once
 * they were freed (a run's peak RSS was ~14 MiB lower with a fixed mmap threshold).
 */
class FileChunks extends ByteWriter {
  readonly #fd: number;

  constructor(fd: number) {
    super(CHUNK_BYTES);
    this.#fd = fd;
  }

  override ensure(size: number): void {
    if (this.index + size <= this.buffer.byteLength) return;
    this.#write();
    if (size > this.buffer.byteLength) super.ensure(size); // one value bigger than a chunk
  }

  override finish(): void {
    this.#write();
  }

  #write(): void {
    writeAllSync(this.#fd, [new Uint8Array(this.buffer, 0, this.index)]);
    this.index = 0;
  }
}
