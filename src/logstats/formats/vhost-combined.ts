/**
 * Apache's vhost_combined: the combined format after the virtual host and port,
 * `www.example.com:443 1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326
 * "ref" "agent"`. The rest of the line after the first token is read as a combined line
 * (combined.ts, the client rule and all). Auto recognises it by its first two tokens: a
 * `host:port` that is not itself an address, then an address. Every line of that shape is
 * malformed as combined (its client field would hold the host), so auto takes no client
 * from combined by it. Pure.
 */
import type { FinishedLine } from '../carried-line.ts';
import { BLANK, isSpace, MALFORMED, parseIPv4 } from '../client-ip.ts';
import { parseIPv6 } from '../ipv6.ts';
import { combined } from './combined.ts';
import type { LineFields, LineReader, LogFormat, ReadRules } from './format.ts';

const SPACE = 0x20;
const COLON = 0x3a;
const COMMA = 0x2c;

/** Where the line's first token ends (the first whitespace after it), or `end`. */
function afterHost(bytes: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p < end && isSpace(bytes[p]!)) p++;
  while (p < end && !isSpace(bytes[p]!)) p++;
  return p;
}

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let p = start; p < end; p++) if (!isSpace(bytes[p]!)) return false;
  return true;
}

class VhostReader implements LineReader {
  readonly fields: ReadonlySet<string> = new Set();
  readonly #rest: LineReader;

  constructor(rules: ReadRules) {
    this.#rest = combined.reader(rules);
  }

  read(bytes: Uint8Array, start: number, end: number, out: LineFields): number {
    const kind = this.#rest.read(bytes, afterHost(bytes, start, end), end, out);
    // A line of only a host has no client (a line of nothing at all is blank).
    return kind === BLANK && !isBlank(bytes, start, end) ? MALFORMED : kind;
  }

  readCarried(line: FinishedLine, out: LineFields): number {
    // Kept whole (wholeLine) up to MAX_KEPT_LINE: the client is near the start of it.
    return this.read(line.kept, 0, line.kept.length, out);
  }
}

/** `host:port` then one space and an address then a space: a vhost_combined line's start. */
export function looksLikeVhost(bytes: Uint8Array, start: number, end: number): boolean {
  let p = start;
  let colon = -1;
  // The host: no space, no comma (a combined line's X-Forwarded-For list), a colon.
  for (; p < end; p++) {
    const byte = bytes[p]!;
    if (byte === SPACE) break;
    if (byte === COMMA || isSpace(byte)) return false;
    if (byte === COLON) colon = p;
  }
  const digits = p - colon - 1;
  if (colon < 0 || digits < 1 || digits > 5 || p === end) return false;
  // An address is a combined line's client (`::1 2001:db8::1:1 frank` is one from ::1).
  if (p - start <= 45 && (parseIPv4(bytes, start, p) >= 0 || parseIPv6(bytes, start, p, SCRATCH))) {
    return false;
  }
  for (let d = colon + 1; d < p; d++) if (bytes[d]! < 0x30 || bytes[d]! > 0x39) return false;
  const from = p + 1;
  let to = from;
  while (to < end && bytes[to] !== SPACE && to - from <= 45) to++;
  if (to === end || to === from) return false;
  return parseIPv4(bytes, from, to) >= 0 || parseIPv6(bytes, from, to, SCRATCH);
}

const SCRATCH = new Uint32Array(4);

export const vhostCombined: LogFormat<'vhost_combined'> = {
  name: 'vhost_combined',
  help: 'vhost_combined (Apache)',
  recognises: looksLikeVhost,
  wholeLine: true,
  reader: (rules) => new VhostReader(rules),
};
