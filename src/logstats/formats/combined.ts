/**
 * The common log format and its combined variant, Apache's and nginx's usual access log:
 * `1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 "ref" "agent"`.
 * The client is the field before the first " - " (the rule of client-ip.ts), the time the
 * first `[...]` (clf-time.ts). Its plain count runs in WebAssembly (line-scan.ts).
 */
import type { FinishedLine } from '../carried-line.ts';
import { classifyLine } from '../client-ip.ts';
import { LineScanner } from '../line-scan.ts';
import { filtersTimes } from '../line-filter.ts';
import {
  clfTexts,
  clearRequest,
  hourOf,
  readClfRequest,
  readsHours,
  readsRequests,
} from '../request-fields.ts';
import { ClfTimeKeys, ClfTimes } from './clf-time.ts';
import type { LineFields, LineReader, LogFormat, ReadRules } from './format.ts';

const NO_FIELDS: ReadonlySet<string> = new Set();

class CombinedReader implements LineReader {
  readonly fields = NO_FIELDS;
  readonly #keys: ClfTimeKeys | undefined;
  readonly #times: ClfTimes | undefined;
  /** Panels, --status, --ignore-crawlers: the request part is read. */
  readonly #requests: boolean;
  /** The hours panel: each line's hour of day, in UTC with --utc. */
  readonly #hours: boolean;
  readonly #utc: boolean;

  constructor(rules: ReadRules) {
    this.#keys = rules.by === undefined ? undefined : new ClfTimeKeys(rules.by, rules.utc);
    this.#hours = readsHours(rules);
    this.#times = filtersTimes(rules.filter) || this.#hours ? new ClfTimes() : undefined;
    this.#requests = readsRequests(rules);
    this.#utc = rules.utc;
  }

  read(bytes: Uint8Array, start: number, end: number, out: LineFields): number {
    this.#readText(bytes, start, end, out);
    return classifyLine(bytes, start, end, out);
  }

  groupOf(bytes: Uint8Array, start: number, end: number): string {
    return this.#keys!.ofLine(bytes, start, end);
  }

  readCarried(line: FinishedLine, out: LineFields): number {
    // The client from all of the line, however long; the rest from the start that was kept.
    this.#readText(line.kept, 0, line.kept.length, out);
    return classifyLine(line.client, 0, line.client.length, out);
  }

  /** What the rules ask of the line but its client: group, time, request. */
  #readText(bytes: Uint8Array, start: number, end: number, out: LineFields): void {
    if (this.#keys) out.key = this.#keys.ofLine(bytes, start, end);
    if (this.#times) this.#times.ofLine(bytes, start, end, out);
    if (!this.#requests) return;
    clearRequest(out);
    readClfRequest(bytes, start, end, out, clfTexts());
    if (this.#hours) out.hour = hourOf(out.seconds, out.offsetMinutes, this.#utc);
  }
}

export const combined: LogFormat<'combined'> = {
  name: 'combined',
  help: 'common/combined',
  // Its client rule reads any line, and one without an address is malformed: so it is auto's
  // last resort, the format of every line no other format recognises.
  recognises: () => true,
  wholeLine: false,
  reader: (rules) => new CombinedReader(rules),
  fastPath: () => LineScanner.take(),
};
