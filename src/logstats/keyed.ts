/**
 * Counting by group (`--by day|hour`) and JSON-lines logs: every line through JavaScript,
 * its client and time read by the rules of client-ip.ts, timestamp.ts and json-line.ts, and
 * added both to the whole's sets and to its group's. The plain count of common/combined logs
 * stays on the WebAssembly path of tally.ts.
 */
import { BLANK, classifyLine, IPV6, isSpace, MALFORMED, type LineClient } from './client-ip.ts';
import { IPv4Set, type IPv4Run } from './ipv4-set.ts';
import { IPv6Set, type IPv6Run } from './ipv6-set.ts';
import { firstField, IP_FIELDS, looksLikeJson, parseJsonLine, TIME_FIELDS } from './json-line.ts';
import type { LogFormat } from './json-line.ts';
import { CarriedLine } from './carried-line.ts';
import { INPUT_BYTES } from './line-scan.ts';
import { lineEnd, type TallyResult } from './tally.ts';
import { LineKeys, UNKNOWN, type Grouping } from './timestamp.ts';

/** How lines are read: the CLI's --by, --utc, --format, --ip-field and --time-field. */
export interface LineRules {
  readonly by: Grouping | undefined;
  readonly utc: boolean;
  readonly format: LogFormat;
  /** A dotted path; undefined: the common names of IP_FIELDS. */
  readonly ipField: string | undefined;
  readonly timeField: string | undefined;
}

/** One group's counts from one scan. */
export interface GroupResult {
  readonly key: string;
  readonly total: number;
  readonly malformed: number;
  readonly ipv4: IPv4Run;
  readonly ipv6: IPv6Run;
}

class Counts {
  total = 0;
  malformed = 0;
  readonly ipv4: IPv4Set;
  readonly ipv6: IPv6Set;
  constructor(withCounts: boolean) {
    this.ipv4 = new IPv4Set(withCounts);
    this.ipv6 = new IPv6Set(withCounts);
  }
}

const utf8 = new TextDecoder('utf-8');

/** A Tally's counterpart for --by and JSON logs: same input calls, groups in the result. */
export class KeyedTally {
  bytes = 0;
  readonly #rules: LineRules;
  readonly #keys: LineKeys | undefined;
  readonly #whole: Counts;
  readonly #groups = new Map<string, Counts>();
  readonly #withCounts: boolean;
  readonly #slot: LineClient = { ipv6: new Uint32Array(4) };
  /** JSON client fields that held the clients (for the note that says which was used). */
  readonly fields = new Set<string>();
  // A line that straddles chunks: its first MAX_KEPT_LINE bytes, and its client kept apart.
  readonly #carried = new CarriedLine(true);
  #carrying = false;
  #input: Uint8Array | undefined;

  constructor(withCounts: boolean, rules: LineRules) {
    this.#rules = rules;
    this.#withCounts = withCounts;
    this.#keys = rules.by === undefined ? undefined : new LineKeys(rules.by, rules.utc);
    this.#whole = new Counts(withCounts);
  }

  /** Where a reader may put up to INPUT_BYTES for `pushInput`. */
  get input(): Uint8Array {
    return (this.#input ??= new Uint8Array(INPUT_BYTES));
  }

  /** As `push`, for `length` bytes already written to the start of `input`. */
  pushInput(length: number): void {
    this.push(this.input.subarray(0, length));
  }

  /** Counts every complete line of `chunk`; keeps the unfinished one for the next. */
  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    let pos = 0;
    if (this.#carrying) {
      const end = lineEnd(chunk, 0, chunk.length);
      this.#carried.append(chunk, 0, end);
      if (end === chunk.length) return;
      this.#finishCarried();
      pos = end + 1;
    }
    for (;;) {
      const end = lineEnd(chunk, pos, chunk.length);
      if (end === chunk.length) break;
      this.#line(chunk, pos, end, false);
      pos = end + 1;
    }
    if (pos < chunk.length) {
      this.#carrying = true;
      this.#carried.append(chunk, pos, chunk.length);
    }
  }

  /** The input ended: count its last line if it had no final line end. */
  end(): void {
    if (this.#carrying) this.#finishCarried();
  }

  #finishCarried(): void {
    const { kept, cut, client } = this.#carried.finish();
    this.#carrying = false;
    if (cut && !this.#isJson(kept, 0, kept.length)) {
      // The client from all of it, the time from the kept start.
      this.#count(
        classifyLine(client, 0, client.length, this.#slot),
        this.#keyOf(kept, 0, kept.length),
      );
    } else {
      this.#line(kept, 0, kept.length, cut);
    }
  }

  #isJson(bytes: Uint8Array, start: number, end: number): boolean {
    const format = this.#rules.format;
    return format === 'json' || (format === 'auto' && looksLikeJson(bytes, start, end));
  }

  #keyOf(bytes: Uint8Array, start: number, end: number): string | undefined {
    return this.#keys?.ofLine(bytes, start, end);
  }

  #line(bytes: Uint8Array, start: number, end: number, cut: boolean): void {
    if (!this.#isJson(bytes, start, end)) {
      this.#count(classifyLine(bytes, start, end, this.#slot), this.#keyOf(bytes, start, end));
      return;
    }
    const line = cut
      ? { kind: MALFORMED }
      : readJsonLine(bytes, start, end, this.#rules, this.#slot);
    if (line.field !== undefined) this.fields.add(line.field);
    this.#count(line.kind, this.#keys && (line.doc ? this.#timeKey(line.doc) : UNKNOWN));
  }

  #timeKey(doc: Record<string, unknown>): string {
    const rules = this.#rules;
    const time = firstField(doc, rules.timeField === undefined ? TIME_FIELDS : [rules.timeField]);
    return this.#keys!.ofValue(time?.value);
  }

  #count(kind: number, key: string | undefined): void {
    if (kind === BLANK) return;
    let group: Counts | undefined;
    if (key !== undefined) {
      group = this.#groups.get(key);
      if (group === undefined) this.#groups.set(key, (group = new Counts(this.#withCounts)));
    }
    for (const counts of group ? [this.#whole, group] : [this.#whole]) {
      counts.total++;
      if (kind >= 0) counts.ipv4.add(kind);
      else if (kind === MALFORMED) counts.malformed++;
      else if (kind === IPV6) counts.ipv6.add(this.#slot.ipv6);
    }
  }

  toResult(): TallyResult {
    const whole = this.#whole;
    return {
      total: whole.total,
      malformed: whole.malformed,
      bytes: this.bytes,
      ipv4: whole.ipv4.toRun(),
      ipv6: whole.ipv6.toRun(),
      ...(this.#keys ? { groups: this.groups() } : {}),
      ...(this.fields.size > 0 ? { fields: [...this.fields] } : {}),
    };
  }

  /** The groups, in key order (`unknown` last). */
  groups(): GroupResult[] {
    return [...this.#groups]
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([key, c]) => ({
        key,
        total: c.total,
        malformed: c.malformed,
        ipv4: c.ipv4.toRun(),
        ipv6: c.ipv6.toRun(),
      }));
  }

  release(): void {
    for (const counts of [this.#whole, ...this.#groups.values()]) {
      counts.ipv4.release();
      counts.ipv6.release();
    }
  }
}

/**
 * A JSON log line's client by the client rule (X-Forwarded-For lists included) applied to
 * its client field: an IPv4 as a uint32, IPV6 (in `slot`), BLANK, or MALFORMED (not JSON,
 * no client field, not an address). Says which field held the client.
 */
export function readJsonLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  rules: Pick<LineRules, 'ipField'>,
  slot: LineClient,
): { kind: number; field?: string; doc?: Record<string, unknown> } {
  let s = start;
  while (s < end && isSpace(bytes[s]!)) s++;
  if (s === end) return { kind: BLANK };
  const doc = parseJsonLine(utf8.decode(bytes.subarray(s, end)));
  if (doc === undefined) return { kind: MALFORMED };
  const client = firstField(doc, rules.ipField === undefined ? IP_FIELDS : [rules.ipField]);
  if (client === undefined || typeof client.value !== 'string') return { kind: MALFORMED, doc };
  const value = Buffer.from(client.value);
  const kind = classifyLine(value, 0, value.length, slot);
  return { kind: kind === BLANK ? MALFORMED : kind, field: client.path, doc };
}

/** Dates and hours in time order, `unknown` after them. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  if (a === UNKNOWN) return 1;
  if (b === UNKNOWN) return -1;
  return a < b ? -1 : 1;
}
