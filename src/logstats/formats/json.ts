/**
 * JSON-lines access logs: one object per line, the client and the time in named fields
 * (nginx with an `escape=json` log_format, Caddy, Traefik). A line is recognised by its
 * first non-blank byte, `{`; the client rule of client-ip.ts reads the client field's value
 * (X-Forwarded-For lists too); the time is ISO 8601 text or Unix seconds. Pure.
 */
import type { FinishedLine } from '../carried-line.ts';
import { BLANK, classifyLine, isSpace, MALFORMED } from '../client-ip.ts';
import {
  fromUnixSeconds,
  groupKey,
  parseIsoTime,
  UNKNOWN,
  writtenSeconds,
  type Grouping,
  type Written,
} from '../timestamp.ts';
import { filtersTimes } from '../line-filter.ts';
import {
  clearRequest,
  hourOf,
  readsHours,
  readsRequests,
  requestTarget,
  withoutQuery,
} from '../request-fields.ts';
import type { LineFields, LineReader, LogFormat, ReadRules } from './format.ts';

/** Where common servers put the client, tried in this order when --ip-field is not given. */
export const IP_FIELDS = [
  'remote_addr', // nginx log_format ... escape=json
  'request.client_ip', // Caddy: the client behind trusted proxies
  'request.remote_ip', // Caddy: the peer
  'ClientHost', // Traefik
] as const;

/** Where common servers put the time (ISO 8601 text, or Caddy's `ts` in Unix seconds). */
export const TIME_FIELDS = ['time_iso8601', 'time', 'timestamp', '@timestamp', 'ts'] as const;

/**
 * Where nginx (`$status`, `$request_uri`, `$body_bytes_sent`, ...), Caddy and Traefik put a
 * request's status, target, bytes sent, Referer and User-Agent; the first present is read.
 */
export const STATUS_FIELDS = ['status', 'DownstreamStatus'] as const;
/** Targets with their query string (cut off); `request` is nginx's whole request line. */
export const TARGET_FIELDS = ['request_uri', 'request.uri', 'RequestPath', 'uri'] as const;
export const REQUEST_LINE_FIELD = 'request';
export const BYTES_FIELDS = [
  'body_bytes_sent',
  'bytes_sent',
  'size',
  'DownstreamContentSize',
] as const;
export const REFERER_FIELDS = [
  'http_referer',
  'request.headers.Referer',
  'request_Referer',
] as const;
export const AGENT_FIELDS = [
  'http_user_agent',
  'request.headers.User-Agent',
  'request_User-Agent',
] as const;

/** A line is JSON when its first non-blank byte is `{`. */
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

/** A time field's value as written: ISO 8601 text, or Unix seconds (read in UTC). */
export function timeOfValue(value: unknown): Written | undefined {
  if (typeof value === 'string') return parseIsoTime(value);
  if (typeof value === 'number') return fromUnixSeconds(value);
  return undefined;
}

const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();
/** A client field's bytes; a longer one (not an address: malformed) gets its own. */
const clientBytes = new Uint8Array(256);

class JsonReader implements LineReader {
  /** The client fields that held clients (for the note that says which was used). */
  readonly fields = new Set<string>();
  readonly #ipFields: readonly string[];
  readonly #timeFields: readonly string[];
  readonly #by: Grouping | undefined;
  readonly #utc: boolean;
  /** --since or --until (or the hours panel): each line's time is wanted. */
  readonly #times: boolean;
  /** Panels, --status, --ignore-crawlers: the request's fields are read. */
  readonly #requests: boolean;
  readonly #hours: boolean;
  /** The last line's time had an hour (a bare date has none). */
  #hourWritten = false;
  /** The bytes lines were last read from, and a Buffer over them (see #text). */
  #bytes: Uint8Array | undefined;
  #view = Buffer.alloc(0);

  constructor(rules: ReadRules) {
    this.#ipFields = rules.ipField === undefined ? IP_FIELDS : [rules.ipField];
    this.#timeFields = rules.timeField === undefined ? TIME_FIELDS : [rules.timeField];
    this.#by = rules.by;
    this.#utc = rules.utc;
    this.#hours = readsHours(rules);
    this.#times = filtersTimes(rules.filter) || this.#hours;
    this.#requests = readsRequests(rules);
  }

  read(bytes: Uint8Array, start: number, end: number, out: LineFields): number {
    let s = start;
    while (s < end && isSpace(bytes[s]!)) s++;
    if (s === end) return BLANK;
    const doc = parseJsonLine(this.#text(bytes, s, end));
    if (this.#by !== undefined || this.#times) this.#readTime(doc, out);
    if (this.#requests) this.#readRequest(doc, out);
    if (doc === undefined) return MALFORMED;
    const client = firstField(doc, this.#ipFields);
    if (client === undefined || typeof client.value !== 'string') return MALFORMED;
    this.fields.add(client.path);
    // Into a buffer kept for it: Buffer.from cost an allocation a line.
    const text = client.value;
    const { read, written } = encoder.encodeInto(text, clientBytes);
    const value = read === text.length ? clientBytes : Buffer.from(text);
    const kind = classifyLine(value, 0, value === clientBytes ? written : value.length, out);
    return kind === BLANK ? MALFORMED : kind;
  }

  /**
   * The line as text. Node's Buffer decodes UTF-8 in ~0.6x TextDecoder's time, with the
   * same U+FFFD for each bad sequence, but keeps a leading byte order mark, which TextDecoder
   * drops: such a line is decoded as before.
   */
  #text(bytes: Uint8Array, start: number, end: number): string {
    if (bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf) {
      return utf8.decode(bytes.subarray(start, end));
    }
    if (bytes !== this.#bytes) {
      this.#bytes = bytes;
      this.#view = Buffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
    }
    return this.#view.toString('utf8', start, end);
  }

  readCarried(line: FinishedLine, out: LineFields): number {
    if (!line.cut) return this.read(line.kept, 0, line.kept.length, out);
    // Parsed whole or not at all: a JSON line longer than MAX_KEPT_LINE is malformed.
    this.#readTime(undefined, out);
    if (this.#requests) this.#readRequest(undefined, out);
    return MALFORMED;
  }

  /** The request's status, path, bytes, Referer and User-Agent (see STATUS_FIELDS ...). */
  #readRequest(doc: Record<string, unknown> | undefined, out: LineFields): void {
    clearRequest(out);
    if (doc === undefined) return;
    out.status = statusOf(firstField(doc, STATUS_FIELDS)?.value);
    out.target = targetOf(doc);
    out.sent = bytesOf(firstField(doc, BYTES_FIELDS)?.value);
    // A JSON log names no Referer or User-Agent where the request had none.
    out.referrer = headerOf(firstField(doc, REFERER_FIELDS)?.value) ?? '';
    out.agent = headerOf(firstField(doc, AGENT_FIELDS)?.value) || '-';
    if (this.#hours && this.#hourWritten) {
      out.hour = hourOf(out.seconds, out.offsetMinutes, this.#utc);
    }
  }

  /** The line's group (--by) and time (--since, --until) from its time field. */
  #readTime(doc: Record<string, unknown> | undefined, out: LineFields): void {
    const written = doc && timeOfValue(firstField(doc, this.#timeFields)?.value);
    this.#hourWritten = written?.hour !== undefined;
    if (this.#by !== undefined) {
      out.key = (written && groupKey(written, this.#by, this.#utc)) ?? UNKNOWN;
    }
    if (this.#times) {
      out.seconds = written ? writtenSeconds(written) : NaN;
      out.offsetMinutes = written?.offsetMinutes ?? 0;
    }
  }
}

/** A status as a number (Caddy, Traefik) or text (nginx): 0 to 999, else -1. */
function statusOf(value: unknown): number {
  const code = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 999 ? code : -1;
}

/** Bytes as a number or text (nginx); `-` or anything else that is not a count is 0. */
function bytesOf(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** A header as text, or Caddy's list of values (the first). */
function headerOf(value: unknown): string | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/** The request's path: a target field without its query, or nginx's request line's. */
function targetOf(doc: Record<string, unknown>): string | undefined {
  for (const field of TARGET_FIELDS) {
    const value = fieldAt(doc, field);
    if (typeof value === 'string' && value !== '') return withoutQuery(value);
  }
  const line = fieldAt(doc, REQUEST_LINE_FIELD);
  return typeof line === 'string' ? requestTarget(line) : undefined;
}

export const json: LogFormat<'json'> = {
  name: 'json',
  help: 'JSON lines',
  recognises: looksLikeJson,
  wholeLine: true,
  reader: (rules) => new JsonReader(rules),
};
