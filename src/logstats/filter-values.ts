/**
 * The values of logstats' filters as they are typed: `--since`/`--until` (a date, a date and
 * time, or a span back from now) and `--exclude-ip` (addresses and CIDR blocks, IPv4 and
 * IPv6). Parsing only: the command line turns them into the rules a scan is given, and the
 * queue's check reads the blocks back with the same parser. Pure.
 */
import { formatIPv4, parseIPv4 } from './client-ip.ts';
import { formatIPv6, parseIPv6 } from './ipv6.ts';
import { parseIsoTime, realMoment, writtenSeconds } from './timestamp.ts';

/**
 * One end of a time window, in whole seconds since 1970, both ends included. An `instant` is
 * compared with each line's time in UTC (its offset applied); otherwise with the line's time
 * as written, in its own offset, as `--by` groups it.
 */
export interface TimeBound {
  readonly seconds: number;
  readonly instant: boolean;
}

/** Which end of the window a value is: a date names its first second, or its last. */
export type WindowEnd = 'since' | 'until';

const SPAN_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 7 * 86_400,
};

/** What `--since` and `--until` take, for the message when a value is not one of them. */
export const TIME_BOUND_SYNTAX =
  'a date (2026-12-01), a date and time (2026-12-01T08:30, 2026-12-01 08:30:00+02:00), ' +
  'or a span back from now (90s, 30m, 12h, 7d, 2w)';

/**
 * `text` as one end of a time window, or undefined when it is none of TIME_BOUND_SYNTAX.
 * `nowMs` is when the run started (spans count back from it); `utc` (--utc) reads a date or
 * time without an offset as UTC. A date's `until` is its last second, so the day is in.
 */
export function parseTimeBound(
  text: string,
  end: WindowEnd,
  nowMs: number,
  utc: boolean,
): TimeBound | undefined {
  const span = /^(\d{1,9})([smhdw])$/.exec(text);
  if (span) {
    return {
      seconds: Math.floor(nowMs / 1000) - Number(span[1]) * SPAN_SECONDS[span[2]!]!,
      instant: true,
    };
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (date) {
    const fields = { year: Number(date[1]), month: Number(date[2]), day: Number(date[3]) };
    const real = realMoment({ ...fields, hour: 0, minute: 0, second: 0, offsetMinutes: 0 });
    if (!real) return undefined;
    const first = Date.UTC(real.year, real.month - 1, real.day) / 1000;
    return { seconds: end === 'since' ? first : first + 86_399, instant: utc };
  }
  const written = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/i.test(text) ? parseIsoTime(text) : undefined;
  if (!written || written.hour === undefined) return undefined;
  const wall = writtenSeconds(written);
  const offset = written.offsetMinutes;
  return offset === undefined
    ? { seconds: wall, instant: utc }
    : { seconds: wall - offset * 60, instant: true };
}

/** A block of addresses: IPv4 as numbers, IPv6 as four 32-bit words each, ends included. */
export type IpBlock =
  | { readonly v4: true; readonly first: number; readonly last: number; readonly text: string }
  | {
      readonly v4: false;
      readonly first: Uint32Array;
      readonly last: Uint32Array;
      readonly text: string;
    };

/** What `--exclude-ip` takes, for the message when a value is not one of them. */
export const IP_BLOCK_SYNTAX =
  'an IPv4 or IPv6 address or CIDR block (192.0.2.7, 10.0.0.0/8, 2001:db8::/32)';

/**
 * `text` as a block of addresses, with `text` canonical (`10.0.0.0/8`, `2001:db8::/32`), or
 * why it is not one. Host bits set past the prefix (`10.1.2.3/8`) are refused rather than
 * guessed at. An IPv4-mapped block (`::ffff:10.0.0.0/104`) is the IPv4 block, as crew counts
 * such clients as IPv4.
 */
export function parseIpBlock(text: string): IpBlock | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  if (prefixText !== undefined && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) {
    return `the prefix length after "/" must be a whole number`;
  }
  if (!/^[0-9A-Fa-f:.]+$/.test(address)) return `not an IP address`;
  const bytes = Buffer.from(address, 'latin1');
  const v4 = parseIPv4(bytes, 0, bytes.length);
  if (v4 >= 0) return ipv4Block(v4, prefixText === undefined ? 32 : Number(prefixText));
  const words = new Uint32Array(4);
  if (!parseIPv6(bytes, 0, bytes.length, words)) return `not an IP address`;
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (prefix > 128) return `an IPv6 prefix is at most /128`;
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff && prefix >= 96) {
    return ipv4Block(words[3]!, prefix - 96);
  }
  return ipv6Block(words, prefix);
}

function ipv4Block(address: number, prefix: number): IpBlock | string {
  if (prefix > 32) return `an IPv4 prefix is at most /32`;
  const hostBits = 32 - prefix;
  const size = 2 ** hostBits;
  if (address % size !== 0) return `it has bits set past its /${prefix}`;
  const text = `${formatIPv4(address)}${prefix === 32 ? '' : `/${prefix}`}`;
  return { v4: true, first: address, last: address + size - 1, text };
}

function ipv6Block(words: Uint32Array, prefix: number): IpBlock | string {
  const first = new Uint32Array(4);
  const last = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    // Bits of this word inside the prefix: 32, none, or some.
    const kept = Math.max(0, Math.min(32, prefix - i * 32));
    const mask = kept === 0 ? 0 : kept === 32 ? 0xffffffff : (0xffffffff << (32 - kept)) >>> 0;
    if ((words[i]! & ~mask) >>> 0 !== 0) return `it has bits set past its /${prefix}`;
    first[i] = words[i]!;
    last[i] = (words[i]! | ~mask) >>> 0;
  }
  const text = `${formatIPv6(first)}${prefix === 128 ? '' : `/${prefix}`}`;
  return { v4: false, first, last, text };
}

/** What `--status` takes, for the message when a value is not one of them. */
export const STATUS_SYNTAX = 'status codes (404) and classes (4xx), 100 to 599, comma-separated';

/** The most codes and classes --status takes (there are 500 codes). */
export const MAX_STATUSES = 500;

/**
 * `text` as the canonical list of codes and classes it names (`4xx,500`, each once, classes
 * lower case), or why it is not one.
 */
export function parseStatusList(text: string): string[] | string {
  const items = new Set<string>();
  for (const raw of text.split(',')) {
    const item = raw.trim().toLowerCase();
    const code = /^[1-5](\d\d|xx)$/.exec(item);
    if (!code) return item === '' ? 'an empty item' : `"${raw.trim()}" is not one`;
    items.add(item);
  }
  return [...items];
}

/** Codes 0 to 999 -> 1 where a code of `statuses` (checked by parseStatusList) counts. */
export function statusMask(statuses: readonly string[]): Uint8Array {
  const mask = new Uint8Array(1000);
  for (const item of statuses) {
    const hundreds = Number(item[0]) * 100;
    if (item.endsWith('xx')) mask.fill(1, hundreds, hundreds + 100);
    else mask[Number(item)] = 1;
  }
  return mask;
}
