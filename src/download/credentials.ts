/**
 * Which headers each origin of a download gets, and how a URL is written down. Credentials
 * (-H Authorization/Cookie/Proxy-Authorization, a URL's user:pass@) go to the row's own
 * origin only, as curl does, unless --location-trusted; a password is never written. Pure.
 */
import { capText, MAX_URL_BYTES } from './limits.ts';

/** Headers that carry credentials: dropped when a redirect leaves the row's origin. */
export const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'] as const;

/** A row's URL made ready to request: without its user:pass@, which becomes a header. */
export interface Target {
  /** The URL without credentials. */
  readonly url: string;
  readonly origin: string;
  /** Basic credentials from the URL, for `authorization` on the row's origin. */
  readonly basic: string | undefined;
}

/** The URL without its user:pass@ and the Basic header they make, or why the row fails. */
export function toTarget(url: string): Target | { readonly error: string } {
  if (Buffer.byteLength(url) > MAX_URL_BYTES) {
    return { error: `URL longer than ${MAX_URL_BYTES} bytes` };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: 'not a valid URL' };
  }
  if (parsed.username === '' && parsed.password === '') {
    return { url: parsed.href, origin: parsed.origin, basic: undefined };
  }
  let user: string;
  let password: string;
  try {
    user = decodeURIComponent(parsed.username);
    password = decodeURIComponent(parsed.password);
  } catch {
    return { error: 'the user:password in the URL is not valid percent-encoding' };
  }
  if (user.includes(':')) return { error: 'the user name in the URL holds a ":"' };
  parsed.username = '';
  parsed.password = '';
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { url: parsed.href, origin: parsed.origin, basic };
}

/**
 * The headers a request to `origin` carries: all of them on the row's own origin (an
 * explicit -H Authorization wins over the URL's user:pass@), none of the credentials
 * elsewhere unless `trusted`.
 */
export function headersFor(
  headers: Readonly<Record<string, string>>,
  target: Target,
  origin: string,
  trusted: boolean,
): Readonly<Record<string, string>> {
  const withBasic =
    target.basic !== undefined && headers['authorization'] === undefined
      ? { ...headers, authorization: target.basic }
      : headers;
  if (trusted || origin === target.origin) return withBasic;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(withBasic)) {
    if (!(CREDENTIAL_HEADERS as readonly string[]).includes(name)) kept[name] = value;
  }
  return kept;
}

/** Schemes whose authority the URL parser ends at a backslash too, after any slashes. */
const SPECIAL = /^(?:https?|wss?|ftp|file):$/i;

/**
 * The user info of `url` as the WHATWG URL parser finds it in the text: the authority runs
 * from the scheme's slashes to the first `/`, `?` or `#` (or backslash, in an http URL),
 * and the user info is all of it before its last `@`. Undefined when there is none.
 */
function userInfoSpan(url: string): { start: number; end: number } | undefined {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0];
  if (scheme === undefined) return undefined;
  const special = SPECIAL.test(scheme);
  const slashes = (special ? /^[/\\]*/ : /^\/\//).exec(url.slice(scheme.length))?.[0];
  if (slashes === undefined) return undefined;
  const start = scheme.length + slashes.length;
  const authority = (special ? /^[^/\\?#]*/ : /^[^/?#]*/).exec(url.slice(start))![0];
  const at = authority.lastIndexOf('@');
  return at < 0 ? undefined : { start, end: start + at };
}

/**
 * Whether `recorded` hides what `original` (both parsed) carries: a password shows as
 * `***` beside the user name, a user name alone as `***`.
 */
function hides(recorded: URL, original: URL): boolean {
  return original.password === ''
    ? recorded.username === '***' && recorded.password === ''
    : recorded.username === original.username && recorded.password === '***';
}

/**
 * A URL as the manifest, the summary and --json show it: as the CSV wrote it, with its
 * credentials hidden, and cut when it is very long. Whatever the URL parser calls the
 * password shows as `user:***@` however the user name is spelled (`me@example.com:***@`);
 * a user name alone is often a token, and shows as `***@`. A URL the text rule misreads
 * (a tab inside its scheme) is written in the parser's form, credentials hidden.
 */
export function recordedUrl(url: string): string {
  // Cheap test first: most URLs carry no credentials.
  if (!url.includes('@')) return capText(url, MAX_URL_BYTES);
  const span = userInfoSpan(url);
  let recorded = url;
  if (span !== undefined && span.end > span.start) {
    const info = url.slice(span.start, span.end);
    const colon = info.indexOf(':');
    const hidden = colon < 0 || colon === info.length - 1 ? '***' : `${info.slice(0, colon)}:***`;
    recorded = `${url.slice(0, span.start)}${hidden}${url.slice(span.end)}`;
  }
  const original = URL.parse(url);
  if (original !== null && (original.username !== '' || original.password !== '')) {
    const check = URL.parse(recorded);
    if (check === null || !hides(check, original)) {
      if (original.password === '') original.username = '***';
      else original.password = '***';
      recorded = original.href;
    }
  }
  return capText(recorded, MAX_URL_BYTES);
}
