/**
 * Planning which worker reads what: whole files, and big files cut into byte ranges so one
 * huge log still keeps every core busy. Pure: sizes in, ranges out.
 */

export interface LogFile {
  /** The path to open (a Buffer for a name that is not UTF-8). */
  readonly path: string | Buffer;
  /** Bytes on disk (compressed size for .gz). */
  readonly size: number;
  /** Gzip streams cannot be entered in the middle, so .gz files are never split. */
  readonly gzip: boolean;
}

/** One task: bytes `[start, end)` of file number `file`, by the lines that start there. */
export interface ScanRange {
  readonly file: number;
  readonly path: string | Buffer;
  readonly start: number;
  readonly end: number;
  readonly gzip: boolean;
}

/**
 * The smallest range crew cuts a file into on its own (without --split-size): below it a
 * range is not worth a worker's start-up and a second set merge.
 */
export const MIN_AUTO_RANGE_BYTES = 32 * 2 ** 20;

/**
 * Cuts files into ranges of about `pieceBytes`: by default the total divided by the workers
 * (so a lone big file is shared by all of them) but never under MIN_AUTO_RANGE_BYTES; a file
 * is only cut when it is clearly bigger than a piece. Ranges come biggest first, so the
 * longest task starts first and the pool drains evenly.
 */
export function planRanges(
  files: readonly LogFile[],
  workers: number,
  pieceBytes?: number,
): ScanRange[] {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const piece = Math.max(
    1,
    pieceBytes ?? Math.max(MIN_AUTO_RANGE_BYTES, Math.ceil(total / workers)),
  );
  const ranges: ScanRange[] = [];
  files.forEach((f, file) => {
    const parts = f.gzip || f.size <= piece * 1.25 ? 1 : Math.ceil(f.size / piece);
    const step = Math.ceil(f.size / parts);
    for (let i = 0; i < parts; i++) {
      const start = i * step;
      const end = i === parts - 1 ? f.size : Math.min(f.size, start + step);
      ranges.push({ file, path: f.path, start, end, gzip: f.gzip });
    }
  });
  return ranges.sort((a, b) => b.end - b.start - (a.end - a.start) || a.file - b.file);
}

/** What one task of the pool counts: a range of a file, or several small files whole. */
export type ScanTask =
  | { readonly kind: 'range'; readonly range: ScanRange }
  | { readonly kind: 'files'; readonly files: readonly ScanRange[] };

/** Files up to this size that no cut touches are counted several to a task. */
export const SMALL_FILE_BYTES = 2 ** 20;
/** A batch's most files: each is a path in the task and a count in its answer. */
export const MAX_BATCH_FILES = 1000;
/** A batch's most work, in bytes plus FILE_COST for each file (~10 ms of scanning). */
const BATCH_BYTES = 16 * 2 ** 20;
/** A batch's least work: below it (a millisecond or so) sharing out costs more than it saves. */
const MIN_BATCH_BYTES = 2 ** 20;
/** Opening, reading and closing a file costs about as much as scanning this many bytes. */
const FILE_COST = 16 * 2 ** 10;

/**
 * The tasks for `files`: the ranges of planRanges, but small files left whole go several to
 * a task (in the order given, so neighbours share one), at most MAX_BATCH_FILES and about
 * BATCH_BYTES of work each, and less when that would leave the workers too few batches to
 * share. Biggest tasks first.
 */
export function planTasks(
  files: readonly LogFile[],
  workers: number,
  pieceBytes?: number,
): ScanTask[] {
  const ranges = planRanges(files, workers, pieceBytes);
  const whole = (r: ScanRange): boolean =>
    r.start === 0 && r.end === files[r.file]!.size && r.end <= SMALL_FILE_BYTES;
  const small = ranges.filter(whole).sort((a, b) => a.file - b.file);
  const work = (r: ScanRange): number => r.end + FILE_COST;
  const smallWork = small.reduce((sum, r) => sum + work(r), 0);
  const shared = Math.ceil(smallWork / (workers * 4));
  const most = Math.min(BATCH_BYTES, Math.max(MIN_BATCH_BYTES, shared));
  const batches: ScanRange[][] = [];
  let batch: ScanRange[] = [];
  let batchWork = 0;
  for (const range of small) {
    if (batch.length === MAX_BATCH_FILES || (batch.length > 0 && batchWork + work(range) > most)) {
      batches.push(batch);
      batch = [];
      batchWork = 0;
    }
    batch.push(range);
    batchWork += work(range);
  }
  if (batch.length > 0) batches.push(batch);
  const tasks: { task: ScanTask; bytes: number; first: number }[] = [
    ...ranges
      .filter((r) => !whole(r))
      .map((range) => ({
        task: { kind: 'range', range } as const,
        bytes: range.end - range.start,
        first: range.file,
      })),
    ...batches.map((files) => ({
      task: { kind: 'files', files } as const,
      bytes: files.reduce((sum, r) => sum + r.end, 0),
      first: files[0]!.file,
    })),
  ];
  return tasks.sort((a, b) => b.bytes - a.bytes || a.first - b.first).map(({ task }) => task);
}
