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
