/**
 * Counting one scan (a file, or one byte range of it): lines, malformed lines, and the exact
 * set of distinct client IPs, kept compact (IPv4Set: 4 bytes an address, not a string in a JS
 * Set at ~60), so sets are cheap to send and to combine; with --by, the same per day or hour.
 * Each line is read by its format (formats/); the plain count of common/combined logs runs
 * in WebAssembly, that format's fast path.
 */
import { CarriedLine } from './carried-line.ts';
import { BLANK, IPV6, MALFORMED } from './client-ip.ts';
import type { LineFields, LineReader, LogFormat } from './formats/format.ts';
import { formatsOf, type LineRules } from './formats/index.ts';
import { MisreadLines, type Misread } from './formats/misread.ts';
import { IPv4Set, unionRun, type IPv4Run } from './ipv4-set.ts';
import { IPv6Set, unionRunIPv6, type IPv6Run, type ScanProgress } from './ipv6-set.ts';
import { LineEnds, lineEnd } from './line-end.ts';
import { FILTERED, filtersTimes, LineFilter } from './line-filter.ts';
import { INPUT_BYTES, IPV6_MARK, type LineScanner } from './line-scan.ts';
import { PanelCounts, type ClientKey, type PanelData, type PanelName } from './panels.ts';
import { emptyRequest, readsRequests } from './request-fields.ts';
import { compareKeys } from './timestamp.ts';

/** One group's counts from one scan. */
export interface GroupResult {
  readonly key: string;
  readonly total: number;
  readonly malformed: number;
  readonly ipv4: IPv4Run;
  readonly ipv6: IPv6Run;
  /** With --panels: the group's panel counts. */
  readonly panels?: PanelData;
}

/** What one scan found, compact enough to send back. */
export interface TallyResult {
  readonly total: number;
  readonly malformed: number;
  /** Lines a filter left out (--since, --until, --exclude-ip): not in `total`. */
  readonly filtered: number;
  readonly bytes: number;
  /** The distinct IPv4 clients, compact and ordered for merging (see ipv4-set.ts). */
  readonly ipv4: IPv4Run;
  /** The distinct IPv6 clients, 16 bytes each, ordered for merging (see ipv6-set.ts). */
  readonly ipv6: IPv6Run;
  /** Set when the input was counted only in part, e.g. a .gz with trailing garbage. */
  readonly warning?: string;
  /** With --by: each day's (or hour's) own counts, in key order. */
  readonly groups?: readonly GroupResult[];
  /** JSON logs: the fields the clients were read from. */
  readonly fields?: readonly string[];
  /** With --panels: their exact counts over the scan's lines. */
  readonly panels?: PanelData;
  /** With --log-format: the lines it could not read, and why for the first few. */
  readonly misread?: Misread;
}

/** How many distinct clients one scan saw. */
export function distinctClients(result: TallyResult): number {
  return result.ipv4.count + result.ipv6.count;
}

/** The counts of a whole scan, or of one of its groups. */
class Counts {
  total = 0;
  malformed = 0;
  filtered = 0;
  readonly ipv4: IPv4Set;
  readonly ipv6: IPv6Set;
  /** With --panels: what else the lines are counted in. */
  readonly panels: PanelCounts | undefined;

  constructor(
    withCounts: boolean,
    expectedClients = 0,
    panels?: readonly PanelName[],
    progress?: ScanProgress,
  ) {
    this.ipv4 = new IPv4Set(withCounts, expectedClients);
    this.ipv6 = new IPv6Set(withCounts, progress);
    this.panels = panels && panels.length > 0 ? new PanelCounts(panels) : undefined;
  }

  /** One line that is not blank: its client as a format's reader gave it. */
  add(kind: number, ipv6: Uint32Array): void {
    this.total++;
    if (kind >= 0) this.ipv4.add(kind);
    else if (kind === MALFORMED) this.malformed++;
    else if (kind === IPV6) this.ipv6.add(ipv6);
  }

  /** As `add`, for a line whose client is kept in its group's sets, not in these. */
  addLine(kind: number): void {
    this.total++;
    if (kind === MALFORMED) this.malformed++;
  }

  release(): void {
    this.ipv4.release();
    this.ipv6.release();
  }
}

/** A line's client as panels keep it: an IPv4 number, or IPv6 as its four words in hex. */
function clientKey(kind: number, ipv6: Uint32Array): ClientKey | undefined {
  if (kind >= 0) return kind;
  if (kind !== IPV6) return undefined;
  return `${ipv6[0]!.toString(16)}:${ipv6[1]!.toString(16)}:${ipv6[2]!.toString(16)}:${ipv6[3]!.toString(16)}`;
}

/** The input of this thread's tallies without a scanner (see LineTally.input). */
let sharedInput: Uint8Array | undefined;

/** How a scan given no rules reads lines: as common/combined, without times. */
const COMBINED: LineRules = {
  format: 'combined',
  by: undefined,
  utc: false,
  ipField: undefined,
  timeField: undefined,
};

/**
 * Counts lines fed to it in chunks of any size. A line that straddles chunks is held as the
 * few bytes that decide its client (LongLine), however long it is, and its text too (up to
 * MAX_KEPT_LINE) where a format reads it whole, its time is wanted, or auto must recognise it.
 */
export class LineTally {
  bytes = 0;
  readonly #withCounts: boolean;
  readonly #whole: Counts;
  /** With --by: each day's (or hour's) counts. */
  readonly #groups: Map<string, Counts> | undefined;
  /** The formats lines are read as, in the order auto asks, and a reader for each. */
  readonly #formats: readonly LogFormat[];
  readonly #readers: readonly LineReader[];
  readonly #out: LineFields = {
    ipv6: new Uint32Array(4),
    key: undefined,
    seconds: NaN,
    offsetMinutes: 0,
    ...emptyRequest(),
  };
  /** --since, --until, --exclude-ip, --status, --ignore-crawlers: what is left out. */
  readonly #filter: LineFilter | undefined;
  /** Panels, --status or --ignore-crawlers: each line's request is read. */
  readonly #requests: boolean;
  readonly #panels: readonly PanelName[] | undefined;
  /** The fast path's scanner, whose memory the input is read into (see LogFormat). */
  readonly #scanner: LineScanner | undefined;
  /** With --by and the fast path: the group of a line it took. */
  readonly #groupOf: ((bytes: Uint8Array, start: number, end: number) => string) | undefined;
  readonly #carried: CarriedLine;
  #carrying = false;
  readonly #ends = new LineEnds();
  /**
   * With --by, how big the first group's table starts (most files hold a day or two). Each
   * line's client goes into its group's sets only, and the whole scan's are their union.
   */
  #firstGroupClients: number;

  /**
   * `expectedBytes`: how much input is coming, to size the address tables for it;
   * `tableRoom`: how many more bytes of tables its reader lets it have (see read.ts).
   */
  constructor(
    withCounts: boolean,
    rules: LineRules = COMBINED,
    expectedBytes = 0,
    tableRoom: () => number = () => Infinity,
  ) {
    const formats = formatsOf(rules);
    const grouped = rules.by !== undefined;
    // Lines whose time or request is wanted (--by, --since, --until, panels, --status,
    // --ignore-crawlers) are read in JavaScript: the fast path reads only clients.
    this.#requests = readsRequests(rules);
    const timed = grouped || filtersTimes(rules.filter) || this.#requests;
    this.#filter = rules.filter && new LineFilter(rules.filter);
    this.#withCounts = withCounts;
    this.#panels = rules.panels;
    // Most logs run 100 to 300 bytes a line and repeat clients: a table that rarely grows.
    // A group's clients come at the rate of its own lines, not of the whole input's.
    const progress = grouped
      ? undefined
      : { done: () => this.bytes, expected: expectedBytes, room: tableRoom };
    this.#whole = new Counts(withCounts, grouped ? 0 : expectedBytes / 256, rules.panels, progress);
    this.#firstGroupClients = expectedBytes / 256;
    this.#groups = grouped ? new Map() : undefined;
    this.#formats = formats;
    this.#readers = formats.map((format) => format.reader(rules));
    // The fast path reads no times; under auto it is the last format's.
    // With --by alone, the fast path still finds the clients, and the format each line's group.
    const last = this.#readers.at(-1)!;
    const groupFast = grouped && rules.filter === undefined && !this.#requests;
    this.#groupOf = groupFast ? last.groupOf?.bind(last) : undefined;
    const fast = !timed || this.#groupOf !== undefined;
    this.#scanner = fast ? formats.at(-1)!.fastPath?.() : undefined;
    const keepText = timed || formats.length > 1 || formats.some((format) => format.wholeLine);
    this.#carried = new CarriedLine(keepText);
  }

  /**
   * Shows the readers a header line from before the scan's start (a W3C `#Fields:`, see
   * LogFormat.directive): it is read, not counted.
   */
  header(line: Uint8Array): void {
    const out = this.#out;
    for (const reader of this.#readers) reader.read(line, 0, line.length, out);
  }

  /**
   * Where a reader may put up to INPUT_BYTES for `pushInput`: saves copying each chunk. One
   * buffer for every tally of the thread, as the scanner's memory is: a reader fills it and
   * pushes it before it awaits anything, and each chunk overwrites the last anyway. With a
   * buffer each, 100,000 one-line files allocated and zeroed 51 GB, and `--panels` took them
   * twice as long.
   */
  get input(): Uint8Array {
    const scanner = this.#scanner;
    if (!scanner) return (sharedInput ??= new Uint8Array(INPUT_BYTES));
    return scanner.memory.subarray(scanner.inputStart, scanner.inputStart + INPUT_BYTES);
  }

  /** Counts every complete line of `chunk`; keeps the unfinished one for the next. */
  push(chunk: Uint8Array): void {
    const scanner = this.#scanner;
    if (!scanner) return this.#readLines(chunk, chunk.length);
    for (let at = 0; at < chunk.length; at += INPUT_BYTES) {
      const part = chunk.subarray(at, at + INPUT_BYTES);
      scanner.memory.set(part, scanner.inputStart);
      this.#scanFast(scanner, part.length);
    }
  }

  /** As `push`, for `length` bytes already written to the start of `input`. */
  pushInput(length: number): void {
    const scanner = this.#scanner;
    if (scanner) this.#scanFast(scanner, length);
    else this.#readLines(this.input, length);
  }

  /** The input ended: count its last line if it had no final line end. */
  end(): void {
    if (this.#carrying) this.#finishCarried();
  }

  /** Every line through its format's reader. */
  #readLines(chunk: Uint8Array, length: number): void {
    this.bytes += length;
    let pos = 0;
    const ends = this.#ends;
    ends.start(chunk, length);
    if (this.#carrying) {
      const end = ends.next(0);
      this.#carried.append(chunk, 0, end);
      if (end === length) return;
      this.#finishCarried();
      pos = end + 1;
    }
    for (;;) {
      const end = ends.next(pos);
      if (end === length) break;
      this.#line(chunk, pos, end);
      pos = end + 1;
    }
    if (pos < length) {
      this.#carrying = true;
      this.#carried.append(chunk, pos, length);
    }
  }

  /** The common line in WebAssembly; each line it does not take through its format's reader. */
  #scanFast(scanner: LineScanner, length: number): void {
    this.bytes += length;
    const memory = scanner.memory;
    const whole = this.#whole;
    let pos = scanner.inputStart;
    const end = pos + length;
    if (this.#carrying) {
      const nl = lineEnd(memory, pos, end);
      this.#carried.append(memory, pos, nl);
      if (nl === end) return;
      this.#finishCarried();
      pos = nl + 1;
    }
    const grouped = this.#groupOf !== undefined;
    // --exclude-ip is applied to the IPv4 clients it took; IPv6 lines take the full rule.
    const withIPv6 = this.#filter === undefined;
    for (;;) {
      pos = scanner.scan(pos, end, grouped, withIPv6);
      whole.total += scanner.lines;
      whole.malformed += scanner.malformed;
      if (grouped) this.#groupFast(scanner);
      else if (withIPv6) {
        whole.ipv4.addAll(scanner.addresses, scanner.count);
        whole.ipv6.addAll(scanner.addresses6, scanner.count6);
      } else this.#addExcluding(scanner.addresses, scanner.count, this.#filter);
      const lineEnd = scanner.lineEnd;
      if (lineEnd >= end) break;
      this.#line(memory, pos, lineEnd);
      pos = lineEnd + 1;
    }
    if (pos < end) {
      this.#carried.append(memory, pos, end);
      this.#carrying = true;
    }
  }

  /** The reader for a line: auto asks each format in turn, and the last takes the rest. */
  #readerOf(bytes: Uint8Array, start: number, end: number): LineReader {
    const readers = this.#readers;
    const last = readers.length - 1;
    for (let i = 0; i < last; i++) {
      if (this.#formats[i]!.recognises(bytes, start, end)) return readers[i]!;
    }
    return readers[last]!;
  }

  #line(bytes: Uint8Array, start: number, end: number): void {
    const out = this.#out;
    this.#count(this.#readerOf(bytes, start, end).read(bytes, start, end, out), out.key);
  }

  #finishCarried(): void {
    const line = this.#carried.finish();
    this.#carrying = false;
    const out = this.#out;
    const reader = this.#readerOf(line.kept, 0, line.kept.length);
    this.#count(reader.readCarried(line, out), out.key);
  }

  /** The lines the fast path took, each into its group (--by), which holds its client. */
  #groupFast(scanner: LineScanner): void {
    const { marks, addresses, addresses6, memory } = scanner;
    const groupOf = this.#groupOf!;
    let key: string | undefined;
    let group: Counts | undefined;
    // The addresses of a run of lines in one group go into its sets at once.
    let runFrom = 0;
    let next = 0;
    let runFrom6 = 0;
    let next6 = 0;
    for (let i = 0, at = 0; i < scanner.lines; i++, at += 2) {
      const mark = marks[at]!;
      const lineKey = groupOf(memory, mark & (IPV6_MARK - 1), marks[at + 1]!);
      // Lines of one day come together, and a format gives one string for one group.
      if (lineKey !== key || group === undefined) {
        group?.ipv4.addAll(addresses, next, runFrom);
        group?.ipv6.addAll(addresses6, next6, runFrom6);
        runFrom = next;
        runFrom6 = next6;
        group = this.#group((key = lineKey));
      }
      group.total++;
      if (mark >= 0x80000000) group.malformed++;
      else if (mark & IPV6_MARK) next6++;
      else next++;
    }
    group?.ipv4.addAll(addresses, next, runFrom);
    group?.ipv6.addAll(addresses6, next6, runFrom6);
  }

  /** The counts of the group `key`, new if it has none yet. */
  #group(key: string): Counts {
    const groups = this.#groups!;
    let group = groups.get(key);
    if (group === undefined) {
      group = new Counts(this.#withCounts, this.#firstGroupClients, this.#panels);
      this.#firstGroupClients = 0;
      groups.set(key, group);
    }
    return group;
  }

  /** The fast path's clients but those --exclude-ip leaves out, which count as filtered. */
  #addExcluding(addresses: Uint32Array, count: number, filter: LineFilter): void {
    const whole = this.#whole;
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const ip = addresses[i]!;
      if (filter.excludesIPv4(ip)) whole.filtered++;
      else addresses[kept++] = ip;
    }
    whole.total -= count - kept;
    whole.ipv4.addAll(addresses, kept);
  }

  #count(kind: number, key: string | undefined): void {
    if (kind === BLANK) return;
    const out = this.#out;
    if (this.#filter !== undefined) {
      kind = this.#filter.verdict(kind, out.ipv6, out, this.#requests ? out : undefined);
      if (kind === FILTERED) {
        this.#whole.filtered++;
        return;
      }
    }
    const ipv6 = out.ipv6;
    const whole = this.#whole;
    const groups = this.#groups;
    if (groups === undefined || key === undefined) whole.add(kind, ipv6);
    else whole.addLine(kind);
    // Panels count the lines with a client: a malformed line's other fields are not trusted.
    const client = whole.panels && kind !== MALFORMED ? clientKey(kind, ipv6) : undefined;
    if (client !== undefined) whole.panels!.add(out, client);
    if (groups === undefined || key === undefined) return;
    const group = this.#group(key);
    group.add(kind, ipv6);
    if (client !== undefined) group.panels!.add(out, client);
  }

  toResult(): TallyResult {
    const whole = this.#whole;
    const fields = new Set(this.#readers.flatMap((reader) => [...reader.fields]));
    const groups = this.#groups && this.#groupResults(this.#groups);
    const ipv4 = whole.ipv4.toRun();
    const ipv6 = whole.ipv6.toRun();
    const misread = new MisreadLines();
    for (const reader of this.#readers) misread.absorb(reader.misread);
    const misreadResult = misread.toResult();
    return {
      total: whole.total,
      malformed: whole.malformed,
      filtered: whole.filtered,
      bytes: this.bytes,
      ipv4: groups ? unionRun([ipv4, ...groups.map((g) => g.ipv4)], this.#withCounts) : ipv4,
      ipv6: groups ? unionRunIPv6([ipv6, ...groups.map((g) => g.ipv6)], this.#withCounts) : ipv6,
      ...(groups ? { groups } : {}),
      ...(fields.size > 0 ? { fields: [...fields] } : {}),
      ...(whole.panels ? { panels: whole.panels.toData() } : {}),
      ...(misreadResult ? { misread: misreadResult } : {}),
    };
  }

  /** The groups, in key order (`unknown` last). */
  #groupResults(groups: Map<string, Counts>): GroupResult[] {
    return [...groups]
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([key, counts]) => ({
        key,
        total: counts.total,
        malformed: counts.malformed,
        ipv4: counts.ipv4.toRun(),
        ipv6: counts.ipv6.toRun(),
        ...(counts.panels ? { panels: counts.panels.toData() } : {}),
      }));
  }

  /** Its clients' table is due to outgrow the room its reader gave it (see IPv6Set.full). */
  get full(): boolean {
    return this.#whole.ipv6.full;
  }

  /** Done with this tally: its memory goes to the next one in this process. */
  release(): void {
    this.#whole.release();
    for (const counts of this.#groups?.values() ?? []) counts.release();
    this.#scanner?.release();
  }
}
