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
  /** The number its ranges carry as `file`; by default its place in the list planned. */
  readonly index?: number;
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
  const piece = pieceOf(files, workers, pieceBytes);
  const ranges: ScanRange[] = [];
  files.forEach((f, at) => cut(f, f.index ?? at, piece, ranges));
  return ranges.sort(biggestFirst);
}

/** The size planRanges cuts files to. */
function pieceOf(files: readonly LogFile[], workers: number, pieceBytes?: number): number {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  return Math.max(1, pieceBytes ?? Math.max(MIN_AUTO_RANGE_BYTES, Math.ceil(total / workers)));
}

/** How many ranges a file is cut into. */
const partsOf = (f: LogFile, piece: number): number =>
  f.gzip || f.size <= piece * 1.25 ? 1 : Math.ceil(f.size / piece);

/** File `f`'s ranges, numbered `file`, onto `ranges`. */
function cut(f: LogFile, file: number, piece: number, ranges: ScanRange[]): void {
  const parts = partsOf(f, piece);
  const step = Math.ceil(f.size / parts);
  for (let i = 0; i < parts; i++) {
    const start = i * step;
    const end = i === parts - 1 ? f.size : Math.min(f.size, start + step);
    ranges.push({ file, path: f.path, start, end, gzip: f.gzip });
  }
}

const biggestFirst = (a: ScanRange, b: ScanRange): number =>
  b.end - b.start - (a.end - a.start) || a.file - b.file;

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
  // Small files left whole go straight to batches, in order: a million of them were a
  // million ranges sorted by size, then sorted back.
  const piece = pieceOf(files, workers, pieceBytes);
  const small: ScanRange[] = [];
  const cuts: ScanRange[] = [];
  files.forEach((f, at) => {
    const whole = f.size <= SMALL_FILE_BYTES && partsOf(f, piece) === 1;
    cut(f, f.index ?? at, piece, whole ? small : cuts);
  });
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
    ...cuts.map((range) => ({
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
