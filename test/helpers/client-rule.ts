/**
 * The client-IP rule written on strings, slowly and obviously, and awkward lines to try it
 * on: the reference every byte-level fast path is compared with.
 */
import { isIPv4 } from 'node:net';
import {
  BLANK,
  classifyLine,
  formatIPv4,
  IPV6,
  MALFORMED,
  type LineClient,
} from '../../src/logstats/client-ip.ts';
import { formatIPv6 } from '../../src/logstats/ipv6.ts';

/** crew's byte-level rule (classifyLine) on one line of text: an address, "blank" or "malformed". */
export function clientIp(line: string): string {
  const bytes = Buffer.from(line, 'utf8');
  const out: LineClient = { ipv6: new Uint32Array(4) };
  const kind = classifyLine(bytes, 0, bytes.length, out);
  if (kind === BLANK) return 'blank';
  if (kind === MALFORMED) return 'malformed';
  if (kind === IPV6) return formatIPv6(out.ipv6);
  return formatIPv4(kind);
}

/** Canonical IPv6 text as the WHATWG URL parser writes it, or undefined. */
export function urlIPv6(text: string): string | undefined {
  // Only hex digits, colons and dots, so nothing in the text can end the host early.
  if (!text.includes(':') || !/^[0-9a-f:.]+$/i.test(text)) return undefined;
  return URL.parse(`http://[${text}]/`)?.hostname.slice(1, -1);
}

/** The rule as the issue words it: an address, "blank" or "malformed". */
export function reference(line: string): string {
  const ws = /[ \t\n\v\f\r]/;
  const lead = /^[ \t\n\v\f\r]*/.exec(line)![0].length;
  if (lead === line.length) return 'blank';
  const dash = line.indexOf(' - ');
  if (dash >= 0 && dash < lead) return 'malformed';
  const field = dash >= 0 ? line.slice(lead, dash) : line.slice(lead).split(ws)[0]!;
  const element = field.split(',')[0]!.replace(/[ \t\n\v\f\r]+$/, '');
  if (isIPv4(element) && !/(^|\.)0\d/.test(element)) return element;
  const v6 = urlIPv6(element);
  if (v6 === undefined) return 'malformed';
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (!mapped) return v6;
  return formatIPv4(parseInt(mapped[1]!, 16) * 65536 + parseInt(mapped[2]!, 16));
}

/** Pieces that meet every branch of the rule when strung together at random. */
export const awkwardPieces = [
  '1.2.3.4',
  '10.0.0.1',
  '999.1.1.1',
  '01.2.3.4',
  '::1',
  '2001:DB8::1',
  '::ffff:1.2.3.4',
  '::ffff:a0b:c0d',
  'fe80:0:0:0:0:0:0:ab',
  'abcd',
  '12345',
  '::',
  ' - ',
  ' -',
  '- ',
  ',',
  ', ',
  ' ',
  '\t',
  'frank',
  '[x]',
  '.',
  '1',
  ':',
  '"GET / HTTP/1.1"',
  '-',
];

/** A seeded generator of numbers below `n`, the same on every run. */
export function seeded(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
}

/** A line of 1 to `most` random pieces. */
export function awkwardLine(next: (n: number) => number, most = 7): string {
  let line = '';
  for (let k = 1 + next(most); k > 0; k--) line += awkwardPieces[next(awkwardPieces.length)];
  return line;
}
