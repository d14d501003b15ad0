/**
 * JSON-lines access logs: one object per line, the client and time in named fields (nginx
 * with an `escape=json` log_format, Caddy, Traefik). Pure.
 */
import { isSpace } from './client-ip.ts';

/** Where common servers put the client, tried in this order when --ip-field is not given. */
export const IP_FIELDS = [
  'remote_addr', // nginx log_format ... escape=json
  'request.client_ip', // Caddy: the client behind trusted proxies
  'request.remote_ip', // Caddy: the peer
  'ClientHost', // Traefik
] as const;

/** Where common servers put the time (ISO 8601 text, or Caddy's `ts` in Unix seconds). */
export const TIME_FIELDS = ['time_iso8601', 'time', 'timestamp', '@timestamp', 'ts'] as const;

/** The line formats `--format` takes. */
export const LOG_FORMATS = ['auto', 'combined', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A line is JSON when its first non-blank byte is `{`: how `auto` picks a file's format. */
export function looksLikeJson(bytes: Uint8Array, start: number, end: number): boolean {
  let s = start;
  while (s < end && isSpace(bytes[s]!)) s++;
  return bytes[s] === 0x7b;
}

/** The object a JSON line holds, or undefined when it is not one (a malformed line). */
export function parseJsonLine(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The value at a dotted path (`request.remote_ip`); a key that itself holds dots
 * (`"request.remote_ip": ...` at the top) is found too, before the nested one.
 */
export function fieldAt(doc: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(doc, path)) return doc[path];
  let value: unknown = doc;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * The first of `paths` the object has a value for (not null, not ""), and that value; with
 * one path given by the user, only that one.
 */
export function firstField(
  doc: Record<string, unknown>,
  paths: readonly string[],
): { path: string; value: unknown } | undefined {
  for (const path of paths) {
    const value = fieldAt(doc, path);
    if (value !== undefined && value !== null && value !== '') return { path, value };
  }
  return undefined;
}
