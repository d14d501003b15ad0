import { reasonOf } from '../errors.ts';
import { capText } from './limits.ts';

/**
 * Errors of the download domain. They know nothing of the command line: the command layer
 * decides what each means to the user (both below are usage errors there, exit 2).
 */

/** The CSV cannot be used as given: missing, a directory, unreadable, or not CSV at all. */
export class InputError extends Error {
  override name = 'InputError';
}

/** The CSV's columns do not fit what was asked (`--url-column`, `--name-column`), or hold no URL. */
export class LayoutError extends InputError {
  override name = 'LayoutError';
}

/**
 * The output directory cannot take more: a full disk or quota, a file-size limit, a
 * read-only, vanished or forbidden --out, a manifest that is not crew's. The run stops at
 * once (every later row would fail the same way); what finished stays in the manifest.
 */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** The errno codes of writing that say the output as a whole is unusable, not one file. */
const OUTPUT_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EFBIG',
  'EROFS',
  'EACCES',
  'EPERM',
  'ENOENT',
  'ENOTDIR',
  'EIO',
]);

/** Whether a failed write or rename in --out means the output as a whole is unusable. */
export const isOutputProblem = (error: unknown): boolean =>
  OUTPUT_CODES.has((error as { code?: string } | undefined)?.code ?? '');

/**
 * EMFILE or ENFILE when a failure (or its cause) says the process or the system ran out of
 * file descriptors: not the fault of a URL or of the disk, and gone once fewer are open.
 */
export function outOfDescriptors(error: unknown): 'EMFILE' | 'ENFILE' | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return code === 'EMFILE' || code === 'ENFILE' ? code : undefined;
}

/**
 * A failed file operation's reason without the paths Node writes into its message
 * (`EMFILE: too many open files, open '<path>'`): a temp file's name is random, and the
 * summary groups rows by their reason, so one cause must read the same for every row.
 */
export function reasonWithoutPaths(error: unknown): string {
  let reason = reasonOf(error);
  const { path, dest } = (error ?? {}) as { path?: unknown; dest?: unknown };
  if (typeof dest === 'string') reason = reason.replace(` -> '${dest}'`, '');
  if (typeof path === 'string') reason = reason.replace(` '${path}'`, '');
  return reason;
}

/** Why a whole body could not be given its final name (its temp file is gone then). */
export interface WriteFailure {
  readonly message: string;
  /** The output as a whole is unusable (a full disk, a read-only --out): the run stops. */
  readonly output: boolean;
}

/**
 * A failed placement in words, and whether it means the output as a whole is unusable.
 * Here, not beside the fetch that uses it too: the run's parent needs it, and fetch.ts
 * would load undici into the parent (100 ms of a run's start).
 */
export const writeFailure = (error: unknown): WriteFailure => ({
  message: capText(reasonWithoutPaths(error)),
  output: isOutputProblem(error),
});
