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
import { ClfTimeKeys, ClfTimes } from './clf-time.ts';
import type { LineFields, LineReader, LogFormat, ReadRules } from './format.ts';

const NO_FIELDS: ReadonlySet<string> = new Set();

class CombinedReader implements LineReader {
  readonly fields = NO_FIELDS;
  readonly #keys: ClfTimeKeys | undefined;
  readonly #times: ClfTimes | undefined;

  constructor(rules: ReadRules) {
    this.#keys = rules.by === undefined ? undefined : new ClfTimeKeys(rules.by, rules.utc);
    this.#times = filtersTimes(rules.filter) ? new ClfTimes() : undefined;
  }

  read(bytes: Uint8Array, start: number, end: number, out: LineFields): number {
    if (this.#keys) out.key = this.#keys.ofLine(bytes, start, end);
    if (this.#times) this.#times.ofLine(bytes, start, end, out);
    return classifyLine(bytes, start, end, out);
  }

  readCarried(line: FinishedLine, out: LineFields): number {
    // The client from all of the line, however long; the time from the start that was kept.
    if (this.#keys) out.key = this.#keys.ofLine(line.kept, 0, line.kept.length);
    if (this.#times) this.#times.ofLine(line.kept, 0, line.kept.length, out);
    return classifyLine(line.client, 0, line.client.length, out);
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
