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

/**
 * A URL as the manifest, the summary and --json show it: its password replaced by `***`,
 * and cut when it is very long.
 */
export function recordedUrl(url: string): string {
  // Cheap test first: most URLs carry no credentials.
  const at = url.indexOf('@');
  if (at >= 0) {
    const redacted = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)[^/?#]*@/i, '$1***@');
    if (redacted !== url) return capText(redacted, MAX_URL_BYTES);
  }
  return capText(url, MAX_URL_BYTES);
}
