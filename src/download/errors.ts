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
