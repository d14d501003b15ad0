/**
 * Where a row's bytes land inside --out, and the names crew itself uses there. Pure: every
 * rule of a file's final path is here (the folder a layout gives a row, the name from the
 * row's stem and the content's extension, the `-2` a taken name moves on to), and so are the
 * names of crew's temp folders and the check a queue worker makes of the one it is handed.
 * A new layout is one more `OutputLayout`.
 */
import { fileName, suffixed } from './names.ts';

/** Where each row's file goes, relative to --out. */
export interface OutputLayout {
  /** The folder of row `row`'s file, relative to --out, '/'-separated; '' for --out itself. */
  folderOf(row: number): string;
}

/** Every file in --out itself: today's layout. */
export const flatLayout: OutputLayout = { folderOf: () => '' };

/**
 * A row's file, relative to --out: its folder, then its stem with `-n` when the plain name
 * was taken on disk (`n` 0: not taken), then the extension (the forced one or the content's).
 */
export function filePath(folder: string, stem: string, ext: string, n = 0): string {
  return inFolder(folder, fileName(n === 0 ? stem : suffixed(stem, n), ext));
}

/** The names a row's file may have (by extension and `-n`), as a re-run looks for it. */
export const namesFor =
  (folder: string, stem: string) =>
  (ext: string, n: number): string =>
    filePath(folder, stem, ext, n);

/** A file's path relative to --out from its folder's and its name. */
export const inFolder = (folder: string, name: string): string =>
  folder === '' ? name : `${folder}/${name}`;

/** The `-n` of a recorded file name: the number to give `filePath` to name it again, or 0. */
export function suffixOf(file: string): number {
  const match = /-(\d{1,5})(?:\.[a-z0-9]{1,10}){0,2}$/i.exec(file);
  return match ? Number(match[1]) : 0;
}

/** Names tried for one file before its folder counts as full of other people's files. */
export const MAX_NAME_TRIES = 1000;

/**
 * The hidden folder in --out that holds one run's bodies while they arrive: created by the
 * run (mode 0700, so no other user can plant or swap anything in it) and removed with all it
 * holds when the run ends; a killed run's is removed by the next run that takes its lock.
 */
export const tempFolderName = (runId: string): string => `.crew-${runId}`;

/** A crew temp folder's name (a run's id is hex). */
export const TEMP_FOLDER = /^\.crew-[0-9a-f]{8,32}$/;

/** A body's file in a temp folder: random, so no two attempts ever share one. */
export const TEMP_FILE = /^[0-9a-f]{16}\.part$/;

/** Older crew's temp files, directly in --out: removed like a temp folder. */
export const OLD_TEMP_FILE = /^\.crew-[0-9a-f]+-[0-9a-f]+\.part$/;

/** Why a temp folder handed to a worker is not one crew makes: `<dir>/.crew-<run>`. */
export function tempFolderProblem(path: string): string | undefined {
  const parts = path.split('/');
  return path.startsWith('/') &&
    parts.length >= 2 &&
    !parts.includes('..') &&
    !parts.includes('.') &&
    TEMP_FOLDER.test(parts.at(-1) ?? '')
    ? undefined
    : 'must be the absolute path of a crew temp folder';
}

/** The shard of row `row` (1-based) in shards of `size` rows: 0 for rows 1 to `size`. */
export const shardOf = (row: number, size: number): number => Math.floor((row - 1) / size);

/** A shard's folder or file stem: five digits, `00000`, `00001`... (more past 99,999). */
export const shardName = (shard: number): string => String(shard).padStart(5, '0');

/** Rows go to numbered folders of `size` rows each, by row number: a re-run agrees on every path. */
export function shardsLayout(size: number): OutputLayout {
  return { folderOf: (row) => shardName(shardOf(row, size)) };
}

/**
 * A row's webdataset key: its shard's five digits, then its place in the shard, as many
 * digits as the last place needs (`000010023`: shard 1, row 23 of it, in shards of 10,000),
 * so keys sort in row order, as webdataset's and img2dataset's readers expect.
 */
export function keyOf(row: number, size: number): string {
  const digits = String(size - 1).length;
  return shardName(shardOf(row, size)) + String((row - 1) % size).padStart(digits, '0');
}
