/**
 * Counting: lines, malformed lines, and the exact set of distinct client IPs, kept compact
 * (IPv4Set: 4 bytes an address, not a string in a JS Set at ~60), which is what keeps
 * 10 million distinct addresses well under 300 MB, and sets cheap to send and to combine.
 */
import { BLANK, classifyLine, formatIPv4, IPV6, MALFORMED, type LineClient } from './client-ip.ts';
import { INPUT_BYTES, LineScanner } from './line-scan.ts';
import { CarriedLine } from './carried-line.ts';
import { HeldRuns } from './held-runs.ts';
import { IPv4Set, unionRun, unionSize, visitUnion, type IPv4Run } from './ipv4-set.ts';
import { IPv6Set, unionRunIPv6, unionSizeIPv6, visitUnionIPv6, type IPv6Run } from './ipv6-set.ts';
import { formatIPv6 } from './ipv6.ts';
import { looksLikeJson } from './json-line.ts';
import { readJsonLine, type GroupResult, type LineRules } from './keyed.ts';

/**
 * The first line end ("\n" or "\r": a lone CR ends a line, and CRLF is a line end and an
 * empty line, which counts for nothing) in `bytes[from, to)`, or `to`.
 */
export function lineEnd(bytes: Uint8Array, from: number, to: number): number {
  const part = bytes.subarray(from, to);
  const lf = part.indexOf(0x0a);
  // A CR counts only before that LF: searching the whole rest for one (most logs have none)
  // made every line cost the rest of its chunk, quadratic in lines per chunk.
  const cr = (lf < 0 ? part : part.subarray(0, lf)).indexOf(0x0d);
  const first = cr >= 0 ? cr : lf;
  return first < 0 ? to : from + first;
}

export { IPv4Set };

/** What one scan (a file, or one byte range of it) found, compact enough to send back. */
export interface TallyResult {
  readonly total: number;
  readonly malformed: number;
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
}

/** How many distinct clients one scan saw. */
export function distinctClients(result: TallyResult): number {
  return result.ipv4.count + result.ipv6.count;
}

/**
 * Counts lines fed to it in chunks of any size. The WebAssembly scanner takes the common
 * line; the rest get the full rule here. A line that straddles chunks is held as the few
 * bytes that decide its client (LongLine), however long it is, and with --format auto as
 * its text too (up to MAX_KEPT_LINE), since a JSON line is parsed whole.
 */
export class Tally {
  total = 0;
  malformed = 0;
  bytes = 0;
  readonly ipv4: IPv4Set;
  readonly ipv6: IPv6Set;
  readonly #slot: LineClient = { ipv6: new Uint32Array(4) };
  readonly #scanner = LineScanner.take();
  readonly #long: CarriedLine;
  #carrying = false;
  /** With --format auto: lines that are JSON objects are read as JSON logs. */
  readonly #json: Pick<LineRules, 'ipField'> | undefined;
  readonly #fields = new Set<string>();

  /** `expectedBytes`: how much input is coming, to size the address table for it. */
  constructor(withCounts: boolean, expectedBytes = 0, json?: Pick<LineRules, 'ipField'>) {
    this.#json = json;
    this.#long = new CarriedLine(json !== undefined);
    // Most logs run 100 to 300 bytes a line and repeat clients; a table that rarely grows.
    this.ipv4 = new IPv4Set(withCounts, expectedBytes / 256);
    this.ipv6 = new IPv6Set(withCounts);
  }

  /** Where a reader may put up to INPUT_BYTES for `pushInput`: saves copying each chunk. */
  get input(): Uint8Array {
    const { memory, inputStart } = this.#scanner;
    return memory.subarray(inputStart, inputStart + INPUT_BYTES);
  }

  /** Scans every complete line of `chunk`; keeps the unfinished tail for the next one. */
  push(chunk: Uint8Array): void {
    const memory = this.#scanner.memory;
    for (let at = 0; at < chunk.length; at += INPUT_BYTES) {
      const part = chunk.subarray(at, at + INPUT_BYTES);
      memory.set(part, this.#scanner.inputStart);
      this.pushInput(part.length);
    }
  }

  /** As `push`, for `length` bytes already written to the start of `input`. */
  pushInput(length: number): void {
    this.bytes += length;
    const scanner = this.#scanner;
    const memory = scanner.memory;
    let pos = scanner.inputStart;
    const end = pos + length;
    if (this.#carrying) {
      const nl = lineEnd(memory, pos, end);
      this.#long.append(memory, pos, nl);
      if (nl === end) return;
      this.#finishLong();
      pos = nl + 1;
    }
    for (;;) {
      pos = scanner.scan(pos, end);
      this.total += scanner.lines;
      this.malformed += scanner.malformed;
      this.ipv4.addAll(scanner.addresses, scanner.count);
      const lineEnd = scanner.lineEnd;
      if (lineEnd >= end) break;
      this.#line(memory, pos, lineEnd);
      pos = lineEnd + 1;
    }
    if (pos < end) {
      this.#long.append(memory, pos, end);
      this.#carrying = true;
    }
  }

  /** The input ended: count its last line if it had no final newline. */
  end(): void {
    if (this.#carrying) this.#finishLong();
  }

  #finishLong(): void {
    const { kept, cut, client } = this.#long.finish();
    this.#carrying = false;
    if (!this.#json || !looksLikeJson(kept, 0, kept.length)) {
      this.#line(client, 0, client.length);
    } else if (cut) {
      // Parsed whole or not at all: a JSON line longer than MAX_KEPT_LINE is malformed.
      this.total++;
      this.malformed++;
    } else {
      this.#line(kept, 0, kept.length);
    }
  }

  #line(bytes: Uint8Array, start: number, end: number): void {
    // The WebAssembly path never takes a line that starts with "{": JSON lines end up here.
    let kind: number;
    if (this.#json && looksLikeJson(bytes, start, end)) {
      const line = readJsonLine(bytes, start, end, this.#json, this.#slot);
      if (line.field !== undefined) this.#fields.add(line.field);
      kind = line.kind;
    } else {
      kind = classifyLine(bytes, start, end, this.#slot);
    }
    if (kind === BLANK) return;
    this.total++;
    if (kind >= 0) this.ipv4.add(kind);
    else if (kind === MALFORMED) this.malformed++;
    else if (kind === IPV6) this.ipv6.add(this.#slot.ipv6);
  }

  toResult(): TallyResult {
    return {
      total: this.total,
      malformed: this.malformed,
      bytes: this.bytes,
      ipv4: this.ipv4.toRun(),
      ipv6: this.ipv6.toRun(),
      ...(this.#fields.size > 0 ? { fields: [...this.#fields] } : {}),
    };
  }

  /** Done with this tally: its memory goes to the next one in this process. */
  release(): void {
    this.ipv4.release();
    this.ipv6.release();
    this.#scanner.release();
  }
}

/**
 * Distinct clients of several scans together: the exact union, with summed counts. It holds
 * the scans' runs, merging them as they pile up (held-runs.ts).
 */
export class ClientUnion {
  total = 0;
  malformed = 0;
  bytes = 0;
  readonly #runs: HeldRuns<IPv4Run>;
  readonly #ipv6: HeldRuns<IPv6Run>;
  readonly #withCounts: boolean;

  /** `withCounts`: the union will be asked for its busiest clients (the runs carry counts). */
  constructor(withCounts = false) {
    this.#withCounts = withCounts;
    this.#runs = new HeldRuns((runs) => unionRun(runs, withCounts));
    this.#ipv6 = new HeldRuns((runs) => unionRunIPv6(runs, withCounts));
  }

  get ips(): number {
    return unionSize(this.#runs.runs) + unionSizeIPv6(this.#ipv6.runs);
  }

  add(result: TallyResult): void {
    this.total += result.total;
    this.malformed += result.malformed;
    this.bytes += result.bytes;
    const run = result.ipv4;
    if (run.count > 0) this.#runs.add(this.#withCounts ? run : { ...run, counts: undefined });
    const v6 = result.ipv6;
    if (v6.count > 0) this.#ipv6.add(this.#withCounts ? v6 : { ...v6, counts: undefined });
  }

  /** Adds everything another union holds (its runs are shared, not copied). */
  absorb(other: ClientUnion): void {
    this.total += other.total;
    this.malformed += other.malformed;
    this.bytes += other.bytes;
    const strip = <R extends { counts: Uint32Array | undefined }>(run: R): R =>
      this.#withCounts || !run.counts ? run : { ...run, counts: undefined };
    for (const run of other.#runs.runs) this.#runs.add(strip(run));
    for (const run of other.#ipv6.runs) this.#ipv6.add(strip(run));
  }

  /**
   * The `k` busiest clients, busiest first; ties go to IPv4 before IPv6, then the lower
   * address, so the answer is the same whatever order workers finished in.
   */
  top(k: number): { ip: string; requests: number }[] {
    if (k <= 0) return [];
    type Entry = { key: number | string; requests: number };
    const before = (a: Entry, b: Entry): boolean =>
      a.requests !== b.requests
        ? a.requests > b.requests
        : typeof a.key !== typeof b.key
          ? typeof a.key === 'number'
          : a.key < b.key;
    const best: Entry[] = [];
    const consider = (entry: Entry): void => {
      const last = best[best.length - 1];
      if (best.length === k && last !== undefined && !before(entry, last)) return;
      let at = best.length;
      while (at > 0 && before(entry, best[at - 1]!)) at--;
      best.splice(at, 0, entry);
      if (best.length > k) best.pop();
    };
    // Most clients fall short of the list: skip them before making an entry or any text.
    const short = (requests: number): boolean =>
      best.length === k && requests < best[best.length - 1]!.requests;
    visitUnion(this.#runs.runs, (key, requests) => {
      if (!short(requests)) consider({ key, requests });
    });
    visitUnionIPv6(this.#ipv6.runs, (words, requests) => {
      if (!short(requests)) consider({ key: formatIPv6(words), requests });
    });
    return best.map(({ key, requests }) => ({
      ip: typeof key === 'number' ? formatIPv4(key) : key,
      requests,
    }));
  }
}
