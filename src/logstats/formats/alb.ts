/**
 * AWS Application Load Balancer access logs: space-separated fields, some quoted,
 * `https 2018-07-02T22:23:00.186641Z app/my-lb/50dc6c 192.168.131.39:2817 10.0.0.1:80
 * 0.000 0.001 0.000 200 200 34 366 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0"
 * ...`: the time (ISO 8601, UTC) in field 2, the client `ip:port` in field 4 (an IPv6
 * client `[ip]:port` or `ip:port`), elb_status_code in field 9, sent_bytes in field 12, the
 * request line in 13 and the user agent in 14. ALB logs no Referer. Auto recognises a line by
 * its first field, the request type, followed by a date. Pure.
 */
import type { FinishedLine } from '../carried-line.ts';
import { BLANK, classifyLine, isSpace, MALFORMED } from '../client-ip.ts';
import { clearRequest, readsRequests, requestTarget } from '../request-fields.ts';
import { parseIsoTime, type Written } from '../timestamp.ts';
import { bytesCount, Columns, isSpaceByte, statusCode } from './fields.ts';
import type { LineFields, LineReader, LogFormat, ReadRules } from './format.ts';
import { WrittenTime } from './written-time.ts';

/** Field numbers (from 0) of what crew reads. */
const TIME = 1;
const CLIENT = 3;
const STATUS = 8;
const SENT = 11;
const REQUEST = 12;
const AGENT = 13;

/** ALB's request types: what its lines start with. */
const TYPES = ['http', 'https', 'h2', 'grpcs', 'ws', 'wss'].map((type) => Buffer.from(`${type} `));

const utf8 = new TextDecoder('utf-8');

/**
 * Where the address of a `client:port` field ends: before `:port`; an IPv6 client may be
 * bracketed (`[2001:db8::1]:443`), and is without brackets `2001:db8::1:443` (the port is
 * the last group). Returns [from, to), or undefined when there is no port.
 */
export function addressOfClient(
  bytes: Uint8Array,
  start: number,
  end: number,
): [number, number] | undefined {
  if (bytes[start] === 0x5b) {
    let close = start + 1;
    while (close < end && bytes[close] !== 0x5d) close++;
    return close + 1 < end && bytes[close + 1] === 0x3a ? [start + 1, close] : undefined;
  }
  let colon = end - 1;
  while (colon > start && bytes[colon] !== 0x3a) colon--;
  return colon > start && colon < end - 1 ? [start, colon] : undefined;
}

/** An absolute target (`https://host:443/a`, as ALB logs it) as its path (`/a`). */
export function pathOfUrl(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(target);
  if (!m) return target;
  return target.length === m[0].length ? '/' : target.slice(m[0].length);
}

class AlbReader implements LineReader {
  readonly fields: ReadonlySet<string> = new Set();
  readonly #columns = new Columns(AGENT + 1);
  readonly #time: WrittenTime;
  readonly #requests: boolean;

  constructor(rules: ReadRules) {
    this.#time = new WrittenTime(rules);
    this.#requests = readsRequests(rules);
  }

  read(bytes: Uint8Array, start: number, end: number, out: LineFields): number {
    let s = start;
    while (s < end && isSpace(bytes[s]!)) s++;
    while (end > s && isSpace(bytes[end - 1]!)) end--;
    const columns = this.#columns;
    const n = s === end ? 0 : columns.cut(bytes, s, end, isSpaceByte, true);
    let written: Written | undefined;
    if (this.#time.wanted) {
      written = n > TIME ? parseIsoTime(this.#text(bytes, TIME)) : undefined;
      this.#time.set(written, out);
    }
    if (this.#requests) this.#readRequest(bytes, n, written, out);
    if (s === end) return BLANK;
    if (n <= CLIENT) return MALFORMED;
    const address = addressOfClient(bytes, columns.starts[CLIENT]!, columns.ends[CLIENT]!);
    if (address === undefined) return MALFORMED;
    const kind = classifyLine(bytes, address[0], address[1], out);
    return kind === BLANK ? MALFORMED : kind;
  }

  readCarried(line: FinishedLine, out: LineFields): number {
    // Kept whole up to MAX_KEPT_LINE (wholeLine): the client is near its start.
    return this.read(line.kept, 0, line.kept.length, out);
  }

  #text(bytes: Uint8Array, i: number): string {
    return utf8.decode(bytes.subarray(this.#columns.starts[i], this.#columns.ends[i]));
  }

  #readRequest(bytes: Uint8Array, n: number, written: Written | undefined, out: LineFields): void {
    clearRequest(out);
    const columns = this.#columns;
    if (n > STATUS) out.status = statusCode(bytes, columns.starts[STATUS]!, columns.ends[STATUS]!);
    if (n > SENT) out.sent = bytesCount(bytes, columns.starts[SENT]!, columns.ends[SENT]!);
    // A request ALB could not read is logged as "- - - ".
    const request = n > REQUEST ? unescape(this.#text(bytes, REQUEST)) : '-';
    if (!request.startsWith('- ') && request !== '-')
      out.target = pathOfUrl(requestTarget(request));
    if (n > AGENT) out.agent = unescape(this.#text(bytes, AGENT)) || '-';
    this.#time.setHour(written, out);
  }
}

/** A quoted field as sent (`\"` is `"`, `\\` is `\`). */
const unescape = (field: string): string =>
  field.includes('\\') ? field.replace(/\\(["\\])/g, '$1') : field;

/** A line that starts with an ALB request type and a space, then a digit. */
export function looksLikeAlb(bytes: Uint8Array, start: number, end: number): boolean {
  const first = bytes[start];
  // Only h, g and w start a type: an address never does (so the common line costs one test).
  if (first !== 0x68 && first !== 0x67 && first !== 0x77) return false;
  for (const type of TYPES) {
    const at = start + type.length;
    if (at >= end) continue;
    let same = true;
    for (let i = 0; i < type.length && same; i++) same = bytes[start + i] === type[i];
    if (same) return bytes[at]! >= 0x30 && bytes[at]! <= 0x39;
  }
  return false;
}

export const alb: LogFormat<'alb'> = {
  name: 'alb',
  help: 'AWS ALB',
  recognises: looksLikeAlb,
  wholeLine: true,
  reader: (rules) => new AlbReader(rules),
};
