/**
 * The client-IP rule, on raw bytes so the hot loop never builds a string per line.
 *
 * The client field is the text before the first " - " (the ident field of common/combined
 * log format), or, if the line has none, its first whitespace-separated token; of that
 * field, the first comma-separated element, trimmed (so an X-Forwarded-For list counts its
 * first address). The element must be a valid IPv4 or IPv6 address.
 */
import { parseIPv6 } from './ipv6.ts';

/** What one line holds. Non-negative numbers are IPv4 addresses as unsigned 32-bit ints. */
export const BLANK = -1;
export const MALFORMED = -2;
/** An IPv6 address: its four words are in `LineClient.ipv6`. */
export const IPV6 = -3;

/** The longest textual IP (an IPv6 address with an embedded IPv4 tail). */
export const MAX_IP_CHARS = 45;

const SPACE = 0x20;
const HYPHEN = 0x2d;
const COMMA = 0x2c;
const DOT = 0x2e;
const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;

/** Space, \t, \n, \v, \f or \r: what separates fields (and trims them) in every rule. */
export function isSpace(byte: number): boolean {
  return byte === SPACE || (byte >= 0x09 && byte <= 0x0d);
}

/** Reused result slot, so classifying a line allocates nothing. */
export interface LineClient {
  /** The address's 16 bytes as four big-endian words. */
  readonly ipv6: Uint32Array;
}

/**
 * Classifies the line `bytes[start, end)` (without its newline): an IPv4 address as a uint32,
 * or BLANK, MALFORMED, or IPV6 with the address in `out.ipv6`.
 */
export function classifyLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: LineClient,
): number {
  let s = start;
  while (s < end && isSpace(bytes[s]!)) s++;
  if (s === end) return BLANK;

  // Fast paths for the common line, an address followed by " - " or "," (or by nothing: a
  // JSON log's client field): the general rule below gives the same answer (hex digits,
  // colons and dots hold no " - ", comma or space), but makes three passes over the field
  // where these make one. Anything else takes the general path.
  let p = s;
  while (p < end && ((bytes[p]! >= ZERO && bytes[p]! <= NINE) || bytes[p] === DOT)) p++;
  if (addressEnds(bytes, p, end)) {
    const v4 = parseIPv4(bytes, s, p);
    if (v4 >= 0) return v4;
  }
  // The same for the common IPv6 line: hex digits, colons and dots, then " - " or ",".
  while (p < end && isAddressByte(bytes[p]!)) p++;
  if (p - s <= MAX_IP_CHARS && addressEnds(bytes, p, end)) {
    return parseIPv6(bytes, s, p, out.ipv6) ? ipv6Kind(out.ipv6) : MALFORMED;
  }

  // The field ends at the first " - ", else (no ident field at all) at the first whitespace.
  let fieldEnd = -1;
  for (let i = start; i + 2 < end; i++) {
    if (bytes[i] === SPACE && bytes[i + 1] === HYPHEN && bytes[i + 2] === SPACE) {
      fieldEnd = i;
      break;
    }
  }
  if (fieldEnd >= 0 && fieldEnd < s) return MALFORMED;
  if (fieldEnd < 0) {
    fieldEnd = s;
    while (fieldEnd < end && !isSpace(bytes[fieldEnd]!)) fieldEnd++;
  }

  let e = s;
  while (e < fieldEnd && bytes[e] !== COMMA) e++;
  while (e > s && isSpace(bytes[e - 1]!)) e--;
  if (e - s > MAX_IP_CHARS || e === s) return MALFORMED;

  const v4 = parseIPv4(bytes, s, e);
  if (v4 >= 0) return v4;
  return parseIPv6(bytes, s, e, out.ipv6) ? ipv6Kind(out.ipv6) : MALFORMED;
}

/** Whether an address read up to `p` ends there: at the end, or before " - " or ",". */
function addressEnds(bytes: Uint8Array, p: number, end: number): boolean {
  return (
    p === end ||
    bytes[p] === COMMA ||
    (bytes[p] === SPACE && p + 2 < end && bytes[p + 1] === HYPHEN && bytes[p + 2] === SPACE)
  );
}

/** IPV6, or for ::ffff:a.b.c.d (an IPv4 client on a dual-stack socket) that IPv4 address. */
function ipv6Kind(words: Uint32Array): number {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff ? words[3]! : IPV6;
}

/** A byte an address's text can hold: a hex digit, ":" or ".". */
function isAddressByte(byte: number): boolean {
  const lower = byte | 0x20;
  return (byte >= ZERO && byte <= COLON) || byte === DOT || (lower >= 0x61 && lower <= 0x66);
}

/**
 * Dotted-quad IPv4 from bytes: four decimal octets 0-255, no leading zeros (they are
 * ambiguous: some parsers read them as octal). Returns the address as a uint32, or -1.
 */
export function parseIPv4(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte >= ZERO && byte <= NINE) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (byte - ZERO);
      if (octet > 255) return -1;
      digits++;
    } else if (byte === DOT) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** 0x01020304 -> "1.2.3.4". */
export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}
