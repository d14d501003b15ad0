/**
 * What a line says of its request, for panels (`--panels`) and the filters that look at it
 * (`--status`, `--ignore-crawlers`): status code, request path, bytes sent, referrer, user
 * agent and hour of day. Readers fill one slot of these per line, only when asked (plain
 * counting reads none of it). The common-log-format family's request part is read here. Pure.
 */
import type { ReadRules } from './formats/format.ts';
import { InternedText } from './interned-text.ts';

/** Whether lines' requests must be read: for panels, --status or --ignore-crawlers. */
export const readsRequests = (rules: ReadRules): boolean =>
  (rules.panels !== undefined && rules.panels.length > 0) ||
  rules.filter?.statuses !== undefined ||
  rules.filter?.ignoreCrawlers === true;

/** Whether lines' hours of day must be read (the hours panel). */
export const readsHours = (rules: ReadRules): boolean => rules.panels?.includes('hours') === true;

/** A line's request fields, in one slot reused for every line (see LineFields). */
export interface LineRequest {
  /** The status code, 0 to 999; -1 when the line has none. */
  status: number;
  /** The request target without its query string; undefined when the line has none. */
  target: string | undefined;
  /** Bytes sent (`-` and a missing field are 0). */
  sent: number;
  /** The Referer as written; undefined when the line has none (common log format). */
  referrer: string | undefined;
  /** The User-Agent as written; undefined when the line has none (common log format). */
  agent: string | undefined;
  /** Hour of day 0 to 23, in the line's own offset or in UTC (--utc); -1 without a time. */
  hour: number;
}

/** A new slot, empty. */
export const emptyRequest = (): LineRequest => ({
  status: -1,
  target: undefined,
  sent: 0,
  referrer: undefined,
  agent: undefined,
  hour: -1,
});

/** An empty slot: what a line that says nothing of its request leaves. */
export function clearRequest(out: LineRequest): void {
  out.status = -1;
  out.target = undefined;
  out.sent = 0;
  out.referrer = undefined;
  out.agent = undefined;
  out.hour = -1;
}

/**
 * The hour of day of a time `seconds` as written (in its own offset, seconds since 1970 as if
 * UTC) whose offset is `offsetMinutes`; in UTC with `utc`. -1 for NaN (no time).
 */
export function hourOf(seconds: number, offsetMinutes: number, utc: boolean): number {
  if (Number.isNaN(seconds)) return -1;
  const at = utc ? seconds - offsetMinutes * 60 : seconds;
  return Math.floor((((at % 86_400) + 86_400) % 86_400) / 3600);
}

/**
 * The path a request line (`GET /a?b HTTP/1.1`) asks for: its target without the query
 * string. A target with spaces in it (a client that did not escape them) runs from the
 * method to the protocol. undefined for a line that names no target (`-`, TLS bytes).
 */
export function requestTarget(request: string): string | undefined {
  const first = request.indexOf(' ');
  if (first < 0) return undefined;
  const last = request.lastIndexOf(' ');
  const target =
    last > first && /^HTTP\/\d/i.test(request.slice(last + 1))
      ? request.slice(first + 1, last)
      : request.slice(first + 1);
  return target === '' ? undefined : withoutQuery(target);
}

/** A target as a path: without the query string (from the first `?`). */
export function withoutQuery(target: string): string {
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/**
 * The site a Referer names: the host of its URL, in lower case, without user or port;
 * `direct` for none (`-`, empty, missing); the text as written when it is not a URL.
 */
export function referrerSite(referrer: string | undefined): string {
  if (referrer === undefined || referrer === '' || referrer === '-') return DIRECT;
  const url = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(\[[^\]/?#]*\]|[^/?#:]*)/i.exec(referrer);
  if (!url || url[1] === '') return referrer;
  return url[1]!.toLowerCase();
}

/** The referrers panel's key for requests without a referrer. */
export const DIRECT = 'direct';

/**
 * The request part of a common or combined line, from its first `"` after the time:
 * `"GET / HTTP/1.1" 200 2326 "referrer" "agent"`. Quotes inside a field are escaped as
 * Apache writes them (`\"`; nginx writes `\x22`); a line with a raw quote in its request is
 * read up to the first `" <status> <bytes>` after it. No pattern here nests quantifiers, so
 * a hostile line of any length is read in time linear in its length.
 */
const ESCAPED_REQUEST = /^"((?:[^"\\]|\\.)*)" (\d{3}) (\d{1,15}|-)(?=\s|$)/s;
const RAW_END = /" (\d{3}) (\d{1,15}|-)(?=\s|$)/;
const REFERRER_AGENT = /^ "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"/s;

const utf8 = new TextDecoder('utf-8');

/** A cache of the texts of lines' paths, referrers and agents. */
export class ClfTexts {
  readonly target = new InternedText(unescape);
  readonly referrer = new InternedText(unescape);
  readonly agent = new InternedText(unescape);
}

let sharedTexts: ClfTexts | undefined;

/**
 * The cache every reader in this thread shares, made when first asked for. One a reader
 * cost each file three tables of 4,096 slots, even for a count that reads no requests: of
 * 10.5 s counting 100,000 one-line files, ~5 s went to making and collecting them.
 */
export const clfTexts = (): ClfTexts => (sharedTexts ??= new ClfTexts());

/**
 * Fills `out` from the common/combined line `bytes[start, end)`; leaves it clear if it cannot.
 * The usual line is read from its bytes (`readUsual`), any other through the patterns above.
 */
export function readClfRequest(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: LineRequest,
  texts?: ClfTexts,
): void {
  // The request starts at the first quote after the time's `]` (or the first quote at all).
  let close = start;
  while (close < end && bytes[close] !== 0x5d) close++;
  let open = close < end ? close : start;
  while (open < end && bytes[open] !== QUOTE) open++;
  if (open >= end) return;
  if (texts !== undefined && readUsual(bytes, open, end, out, texts)) return;
  readByPatterns(utf8.decode(bytes.subarray(open, end)), out);
}

function readByPatterns(text: string, out: LineRequest): void {
  let request: string;
  let status: string;
  let sent: string;
  let rest: number;
  const escaped = ESCAPED_REQUEST.exec(text);
  if (escaped) {
    [, request = '', status = '', sent = ''] = escaped;
    rest = escaped[0].length;
  } else {
    const raw = RAW_END.exec(text.slice(1));
    if (!raw) return;
    [, status = '', sent = ''] = raw;
    request = text.slice(1, raw.index + 1);
    rest = raw.index + 1 + raw[0].length;
  }
  out.target = requestTarget(unescape(request));
  out.status = Number(status);
  out.sent = sent === '-' ? 0 : Number(sent);
  const tail = REFERRER_AGENT.exec(text.slice(rest));
  if (tail) {
    out.referrer = unescape(tail[1]!);
    out.agent = unescape(tail[2]!) || '-';
  }
}

const QUOTE = 0x22;
const SPACE = 0x20;
const BACKSLASH = 0x5c;

/** Where the quoted field that starts after `from` ends (its closing quote); -1 if nowhere. */
function quotedEnd(bytes: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === BACKSLASH) i++;
    else if (byte === QUOTE) return i;
  }
  return -1;
}

const isDigit = (byte: number | undefined): boolean =>
  byte !== undefined && byte >= 0x30 && byte <= 0x39;

/**
 * The line whose request, status and bytes are as ESCAPED_REQUEST has them, followed by a
 * space, a tab or the line's end, read from its bytes with the same result as the patterns;
 * false for any other line, which the patterns read (`open`: the request's quote).
 */
function readUsual(
  bytes: Uint8Array,
  open: number,
  end: number,
  out: LineRequest,
  texts: ClfTexts,
): boolean {
  const close = quotedEnd(bytes, open + 1, end);
  if (close < 0 || bytes[close + 1] !== SPACE || bytes[close + 5] !== SPACE) return false;
  if (!isDigit(bytes[close + 2]) || !isDigit(bytes[close + 3]) || !isDigit(bytes[close + 4])) {
    return false;
  }
  let p = close + 6;
  let sent = 0;
  if (bytes[p] === 0x2d) p++;
  else {
    const first = p;
    while (p < end && isDigit(bytes[p])) sent = sent * 10 + bytes[p++]! - 0x30;
    if (p === first || p - first > 15) return false;
  }
  if (p < end && bytes[p] !== SPACE && bytes[p] !== 0x09) return false;
  out.status =
    (bytes[close + 2]! - 0x30) * 100 + (bytes[close + 3]! - 0x30) * 10 + bytes[close + 4]! - 0x30;
  out.sent = sent;
  out.target = usualTarget(bytes, open + 1, close, texts.target);
  // ` "referrer" "agent"`, as REFERRER_AGENT: both or neither.
  if (bytes[p] !== SPACE || bytes[p + 1] !== QUOTE) return true;
  const referrerEnd = quotedEnd(bytes, p + 2, end);
  if (referrerEnd < 0 || bytes[referrerEnd + 1] !== SPACE || bytes[referrerEnd + 2] !== QUOTE) {
    return true;
  }
  const agentEnd = quotedEnd(bytes, referrerEnd + 3, end);
  if (agentEnd < 0) return true;
  out.referrer = texts.referrer.of(bytes, p + 2, referrerEnd);
  out.agent = agentEnd === referrerEnd + 3 ? '-' : texts.agent.of(bytes, referrerEnd + 3, agentEnd);
  return true;
}

/** requestTarget of the request `bytes[from, to)`, from its bytes. */
function usualTarget(
  bytes: Uint8Array,
  from: number,
  to: number,
  texts: InternedText,
): string | undefined {
  let first = from;
  while (first < to && bytes[first] !== SPACE) first++;
  if (first === to) return undefined;
  let last = to - 1;
  while (bytes[last] !== SPACE) last--;
  const protocol =
    last > first &&
    last + 6 < to &&
    (bytes[last + 1]! | 0x20) === 0x68 &&
    (bytes[last + 2]! | 0x20) === 0x74 &&
    (bytes[last + 3]! | 0x20) === 0x74 &&
    (bytes[last + 4]! | 0x20) === 0x70 &&
    bytes[last + 5] === 0x2f &&
    isDigit(bytes[last + 6]);
  const targetEnd = protocol ? last : to;
  if (targetEnd === first + 1) return undefined;
  let cut = first + 1;
  while (cut < targetEnd && bytes[cut] !== 0x3f) cut++;
  return texts.of(bytes, first + 1, cut);
}

/** A field as Apache escapes it (`\"`, `\\`), as it was sent. */
const unescape = (field: string): string =>
  field.includes('\\') ? field.replace(/\\(["\\])/g, '$1') : field;
