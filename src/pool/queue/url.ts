/** The queue's address: a PostgreSQL URL, which may hold a password that is never shown. */

/** Checks that `text` is a postgres:// URL; returns an error message, or undefined. */
export function queueUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'the queue must be a URL such as postgres://user@host/db';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `the queue must be a postgres:// URL; got ${url.protocol}//...`;
  }
  if (url.hostname === '') return 'the queue URL names no host';
  return undefined;
}

/** The URL as it may be printed: the password replaced by ***, query parameters dropped. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    url.search = '';
    return url.href;
  } catch {
    return '(an unreadable queue URL)';
  }
}
