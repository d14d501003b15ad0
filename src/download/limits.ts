/**
 * Limits on text crew takes from a CSV or a server, shared by the parent and the workers.
 * Kept apart from fetch.ts so that the parent never loads undici, which only the workers
 * use: loading it cost the parent ~5 MiB of heap and ~26 MiB of RSS for nothing.
 */

/** The longest URL crew fetches or follows, as browsers and servers limit them. */
export const MAX_URL_BYTES = 8192;

/** A text cut to `max` characters, saying how long it was. */
export function capText(text: string, max = 1024): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
}
