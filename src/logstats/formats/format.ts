/**
 * What a log format is to crew: how `--format auto` recognises its lines, and a reader that
 * finds each line's client and time. formats/index.ts lists the formats; the tally reads
 * every line through them (tally.ts). Types only.
 */
import type { FinishedLine } from '../carried-line.ts';
import type { LineClient } from '../client-ip.ts';
import type { FilterRules, LineTime } from '../line-filter.ts';
import type { LineScanner } from '../line-scan.ts';
import type { Misread } from './misread.ts';
import type { PanelName } from '../panels.ts';
import type { LineRequest } from '../request-fields.ts';
import type { Grouping } from '../timestamp.ts';

/** What a reader is told by the command line (everything of LineRules but the format). */
export interface ReadRules {
  /** --by: the group each line's time falls in; undefined: no time is read. */
  readonly by: Grouping | undefined;
  readonly utc: boolean;
  /** --ip-field (JSON logs): a dotted path; undefined: the format's usual fields. */
  readonly ipField: string | undefined;
  /** --time-field (JSON logs): a dotted path; undefined: the format's usual fields. */
  readonly timeField: string | undefined;
  /** --since, --until, --exclude-ip, --status, --ignore-crawlers; undefined: every line counts. */
  readonly filter?: FilterRules | undefined;
  /** --panels: what else each line is counted in; undefined or empty: nothing else. */
  readonly panels?: readonly PanelName[] | undefined;
}

/**
 * What reading a line found, in one slot reused for every line (nothing allocated per line):
 * its client; with --by its group; with --since or --until its time; with panels, --status or
 * --ignore-crawlers its request (see `readsRequests`).
 */
export interface LineFields extends LineClient, LineTime, LineRequest {
  /** With --by: the line's day or hour (`unknown` without a usable time). */
  key: string | undefined;
}

/** Reads one scan's lines of one format. */
export interface LineReader {
  /**
   * Reads the line `bytes[start, end)` (without its line end): returns its client, an IPv4
   * address as a uint32, or BLANK, MALFORMED, or IPV6 with the address in `out.ipv6`; with
   * --by, sets `out.key` too, and with a time filter `out.seconds` and `out.offsetMinutes`.
   */
  read(bytes: Uint8Array, start: number, end: number, out: LineFields): number;
  /** The same for a line that came in pieces: `line.cut` when it was longer than was kept. */
  readCarried(line: FinishedLine, out: LineFields): number;
  /** The fields clients were found in (JSON logs), for the note that says which. */
  readonly fields: ReadonlySet<string>;
  /**
   * With --by, a format with a fast path: the group of a line the fast path took (which
   * found its client), read from the line `bytes[start, end)`.
   */
  groupOf?(bytes: Uint8Array, start: number, end: number): string;
  /** Lines it could not read, and why (--log-format). */
  readonly misread?: Misread | undefined;
}

/** One log format: one module in this folder, listed in index.ts. */
export interface LogFormat<Name extends string = string> {
  /** Its `--format` value. */
  readonly name: Name;
  /** What it is, in a few words, for --help ("JSON lines"). */
  readonly help: string;
  /**
   * Whether `--format auto` reads this line as this format: a cheap look at its first bytes.
   * Auto asks the formats in the table's order; the last one takes every line.
   */
  recognises(bytes: Uint8Array, start: number, end: number): boolean;
  /**
   * The line is read whole (a JSON object is parsed whole), so one that crosses reads is kept
   * up to MAX_KEPT_LINE. Otherwise it is kept as its client, and with --by its start.
   */
  readonly wholeLine: boolean;
  /**
   * For a format whose lines are read by a header line before them (W3C's `#Fields:`): how
   * such a line starts. A scan of a byte range that starts after the file's start first shows
   * its readers the last line before the range that starts with this (read.ts).
   */
  readonly directive?: string;
  /** A reader for one scan, with the command line's rules. */
  reader(rules: ReadRules): LineReader;
  /**
   * For the plain count (no --by): a WebAssembly scanner that takes this format's common line
   * whole, client and all, and hands every other line to `reader`. Under auto it sees lines
   * before auto asks, so only the table's last format may have one, and it must take no line
   * another format recognises.
   */
  readonly fastPath?: () => LineScanner;
}
