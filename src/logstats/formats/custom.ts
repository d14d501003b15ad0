/**
 * `--log-format`: a format the user writes in a notation they already know, GoAccess's
 * specifiers (`%h %^[%d:%t %^] "%r" %s %b "%R" "%u"`, with --date-format, --time-format and
 * --datetime-format) or nginx's log_format variables (`$remote_addr - $remote_user
 * [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`).
 * Compiled once (custom/pattern.ts) and checked where it is given (a usage error) and where
 * a task carries it (a queue row). A line it cannot read is malformed, and the first few say
 * why (misread.ts). Pure.
 */
import type { FinishedLine } from '../carried-line.ts';
import { BLANK, classifyLine, isSpace, MALFORMED } from '../client-ip.ts';
import { clearRequest, readsRequests, requestTarget, withoutQuery } from '../request-fields.ts';
import { fromUnixSeconds, parseIsoTime, realMoment, type Written } from '../timestamp.ts';
import { parseClfTime } from './clf-time.ts';
import { goaccessTokens } from './custom/goaccess.ts';
import { isNginxFormat, nginxTokens } from './custom/nginx.ts';
import { Matcher, type FieldKind } from './custom/pattern.ts';
import { TimeFormat, type TimeParts } from './custom/time-format.ts';
import { bytesCount, statusCode } from './fields.ts';
import type { LineFields, LineReader, LogFormat, ReadRules } from './format.ts';
import { MisreadLines, misreadExample, type Misread } from './misread.ts';
import { WrittenTime } from './written-time.ts';

/** A --log-format as given: the pattern and, for GoAccess's %d, %t and %x, their formats. */
export interface LogFormatSpec {
  readonly pattern: string;
  readonly dateFormat?: string | undefined;
  readonly timeFormat?: string | undefined;
  readonly datetimeFormat?: string | undefined;
}

/** GoAccess's formats for COMBINED's %d and %t, and a common-log-format time for %x. */
export const DEFAULT_DATE_FORMAT = '%d/%b/%Y';
export const DEFAULT_TIME_FORMAT = '%H:%M:%S';
export const DEFAULT_DATETIME_FORMAT = '%d/%b/%Y:%H:%M:%S %z';

/** The longest --log-format or time format taken (a task carries it to every worker). */
export const MAX_PATTERN_CHARS = 4096;

/** A spec, compiled: what a reader needs. */
interface Compiled {
  readonly matcher: Matcher;
  readonly date: TimeFormat | undefined;
  readonly time: TimeFormat | undefined;
  readonly datetime: TimeFormat | undefined;
}

/** Compiles `spec`; a string says what is wrong with it and what was expected. */
export function compileLogFormat(spec: LogFormatSpec): Compiled | string {
  const { pattern } = spec;
  for (const text of [pattern, spec.dateFormat, spec.timeFormat, spec.datetimeFormat]) {
    if (text !== undefined && text.length > MAX_PATTERN_CHARS) {
      return `formats are at most ${MAX_PATTERN_CHARS} characters`;
    }
  }
  if (pattern.trim() === '') {
    return `the format is empty: write GoAccess's specifiers (%h %^[%d:%t %^] "%r" %s %b) or nginx's variables ($remote_addr [$time_local] "$request" $status)`;
  }
  const nginx = isNginxFormat(pattern);
  const tokens = nginx ? nginxTokens(pattern) : goaccessTokens(pattern);
  if (typeof tokens === 'string') return tokens;
  const kinds = new Set(tokens.flatMap((t) => ('field' in t ? [t.field.kind] : [])));
  if (!kinds.has('client')) {
    return nginx
      ? 'it names no client: $remote_addr (or $http_x_forwarded_for, $realip_remote_addr)'
      : 'it names no client: %h';
  }
  const matcher = Matcher.compile(tokens);
  if (typeof matcher === 'string') return matcher;
  const time = (kind: FieldKind, given: string | undefined, fallback: string, flag: string) => {
    if (!kinds.has(kind)) return undefined;
    const format = TimeFormat.compile(given ?? fallback);
    return typeof format === 'string' ? `${flag} ${format}` : format;
  };
  const date = time('date', spec.dateFormat, DEFAULT_DATE_FORMAT, '--date-format');
  const clock = time('time', spec.timeFormat, DEFAULT_TIME_FORMAT, '--time-format');
  const datetime = time(
    'datetime',
    spec.datetimeFormat,
    DEFAULT_DATETIME_FORMAT,
    '--datetime-format',
  );
  for (const format of [date, clock, datetime]) if (typeof format === 'string') return format;
  return {
    matcher,
    date: date as TimeFormat | undefined,
    time: clock as TimeFormat | undefined,
    datetime: datetime as TimeFormat | undefined,
  };
}

const utf8 = new TextDecoder('utf-8');

class CustomReader implements LineReader {
  readonly fields: ReadonlySet<string> = new Set();
  readonly #compiled: Compiled;
  readonly #time: WrittenTime;
  readonly #requests: boolean;
  readonly #misread = new MisreadLines();
  readonly #parts: TimeParts = {};
  /** The last date field read: its bytes, and what they said (undefined: no date). */
  #lastDate: { readonly bytes: Uint8Array; readonly parts: TimeParts | undefined } | undefined;
  /** Each kind of field's first step. */
  readonly #steps = new Map<FieldKind, number>();

  constructor(rules: ReadRules, compiled: Compiled) {
    this.#compiled = compiled;
    compiled.matcher.steps.forEach((step, i) => {
      if (!this.#steps.has(step.field.kind)) this.#steps.set(step.field.kind, i);
    });
    this.#time = new WrittenTime(rules);
    this.#requests = readsRequests(rules);
  }

  get misread(): Misread | undefined {
    return this.#misread.toResult();
  }

  read(bytes: Uint8Array, start: number, end: number, out: LineFields): number {
    let s = start;
    while (s < end && isSpace(bytes[s]!)) s++;
    const matcher = this.#compiled.matcher;
    const why = s === end ? undefined : matcher.match(bytes, start, end);
    if (s === end || why !== undefined) {
      this.#time.set(undefined, out);
      if (this.#requests) clearRequest(out);
      if (s === end) return BLANK;
      return this.#malformed(why!, bytes, start, end);
    }
    const written = this.#time.wanted || this.#requests ? this.#written(bytes) : undefined;
    this.#time.set(written, out);
    if (this.#requests) this.#readRequest(bytes, written, out);
    const client = this.#steps.get('client')!;
    const from = matcher.spans.starts[client]!;
    const to = matcher.spans.ends[client]!;
    const kind = classifyLine(bytes, from, to, out);
    if (kind !== BLANK && kind !== MALFORMED) return kind;
    const value = utf8.decode(bytes.subarray(from, Math.min(to, from + 64)));
    const field = matcher.steps[client]!.field.written;
    return this.#malformed(`${field} "${value}" is not an IP address`, bytes, start, end);
  }

  readCarried(line: FinishedLine, out: LineFields): number {
    // Kept whole up to MAX_KEPT_LINE (wholeLine): a longer line is read as far as it was kept.
    return this.read(line.kept, 0, line.kept.length, out);
  }

  #malformed(why: string, bytes: Uint8Array, start: number, end: number): number {
    this.#misread.add(() =>
      misreadExample(why, utf8.decode(bytes.subarray(start, Math.min(end, start + 4096)))),
    );
    return MALFORMED;
  }

  /** The text of the first field of `kind`, or undefined when the format has none. */
  #text(bytes: Uint8Array, kind: FieldKind): string | undefined {
    const span = this.#span(kind);
    return span && utf8.decode(bytes.subarray(span[0], span[1]));
  }

  /** Where the first field of `kind` is in the line just matched. */
  #span(kind: FieldKind): [number, number] | undefined {
    const i = this.#steps.get(kind);
    if (i === undefined) return undefined;
    const { starts, ends } = this.#compiled.matcher.spans;
    return [starts[i]!, ends[i]!];
  }

  /** The line's time, from whichever time fields the format has. */
  #written(bytes: Uint8Array): Written | undefined {
    const iso = this.#text(bytes, 'iso8601');
    if (iso !== undefined) return parseIsoTime(iso);
    const clf = this.#text(bytes, 'clf-time');
    if (clf !== undefined) return parseClfTime(clf);
    const epoch = this.#text(bytes, 'epoch');
    if (epoch !== undefined)
      return /^\d{1,12}(\.\d+)?$/.test(epoch) ? fromUnixSeconds(Number(epoch)) : undefined;
    const parts = this.#parts;
    // Reset, not deleted: the object keeps its shape (and V8 its fast properties).
    parts.year = parts.month = parts.day = parts.hour = parts.minute = parts.second = undefined;
    parts.offsetMinutes = parts.epoch = undefined;
    const { date, time, datetime } = this.#compiled;
    if (date !== undefined && !this.#readDate(bytes, date, parts)) return undefined;
    for (const [kind, format] of [
      ['time', time],
      ['datetime', datetime],
    ] as const) {
      if (format === undefined) continue;
      const text = this.#text(bytes, kind);
      if (text === undefined || !format.read(text, parts)) return undefined;
    }
    if (parts.epoch !== undefined) return fromUnixSeconds(parts.epoch);
    if (parts.year === undefined || parts.month === undefined || parts.day === undefined) {
      return undefined;
    }
    return realMoment({
      year: parts.year,
      month: parts.month,
      day: parts.day,
      hour: parts.hour,
      minute: parts.minute ?? 0,
      second: parts.second ?? 0,
      offsetMinutes: parts.offsetMinutes,
    });
  }

  /**
   * The date field into `parts`: consecutive lines mostly share a date, so the last one's
   * text and fields are kept and a line with the same bytes is not parsed again.
   */
  #readDate(bytes: Uint8Array, format: TimeFormat, parts: TimeParts): boolean {
    const span = this.#span('date')!;
    const length = span[1] - span[0];
    const last = this.#lastDate;
    let same = last !== undefined && last.bytes.length === length;
    for (let i = 0; same && i < length; i++) same = bytes[span[0] + i] === last!.bytes[i];
    if (!same) {
      const found: TimeParts = {};
      const ok = format.read(utf8.decode(bytes.subarray(span[0], span[1])), found);
      this.#lastDate = { bytes: bytes.slice(span[0], span[1]), parts: ok ? found : undefined };
    }
    const known = this.#lastDate!.parts;
    if (known === undefined) return false;
    parts.year = known.year;
    parts.month = known.month;
    parts.day = known.day;
    return true;
  }

  #readRequest(bytes: Uint8Array, written: Written | undefined, out: LineFields): void {
    clearRequest(out);
    const status = this.#span('status');
    if (status) out.status = statusCode(bytes, status[0], status[1]);
    const sent = this.#span('bytes');
    if (sent) out.sent = bytesCount(bytes, sent[0], sent[1]);
    const target = this.#text(bytes, 'target');
    const path = this.#text(bytes, 'path');
    const request = this.#text(bytes, 'request');
    if (target !== undefined && target !== '' && target !== '-') out.target = withoutQuery(target);
    else if (path !== undefined && path !== '' && path !== '-') out.target = path;
    else if (request !== undefined) out.target = requestTarget(unescape(request));
    const referrer = this.#text(bytes, 'referrer');
    if (referrer !== undefined) out.referrer = unescape(referrer);
    const agent = this.#text(bytes, 'agent');
    if (agent !== undefined) out.agent = unescape(agent) || '-';
    this.#time.setHour(written, out);
  }
}

/** A field as Apache escapes it (`\"`, `\\`), as it was sent. */
const unescape = (field: string): string =>
  field.includes('\\') ? field.replace(/\\(["\\])/g, '$1') : field;

/** The format a --log-format names; `spec` must compile (it was checked where it was given). */
export function customFormat(spec: LogFormatSpec): LogFormat<'custom'> {
  const check = compileLogFormat(spec);
  if (typeof check === 'string') throw new Error(`--log-format: ${check}`);
  return {
    name: 'custom',
    help: '--log-format',
    recognises: () => true,
    wholeLine: true,
    // Each reader its own matcher: a matcher holds the last line's spans.
    reader: (rules) => {
      const compiled = compileLogFormat(spec) as Compiled;
      return new CustomReader(rules, compiled);
    },
  };
}
