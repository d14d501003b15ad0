/**
 * A line that straddles reads (512 KiB of a file, 16 KiB of a gunzip, 64 KiB of a pipe): its
 * client from all of it, however long (LongLine), and, where a JSON line or a timestamp may be
 * read from it, its text whole up to MAX_KEPT_LINE.
 */
import { LongLine } from './long-line.ts';

/**
 * The most of one line kept to read its time or parse it as JSON: a JSON line longer than
 * this is malformed; a common-log line keeps its client exactly (LongLine) at any length.
 */
export const MAX_KEPT_LINE = 1 << 20;

/** A finished line: what of it was kept, and a short line with the same client. */
export interface FinishedLine {
  /** The line's first MAX_KEPT_LINE bytes (empty when only the client is kept). */
  readonly kept: Uint8Array;
  /** The line was longer than what was kept. */
  readonly cut: boolean;
  /** A short line that has the whole line's client (see LongLine). */
  readonly client: Uint8Array;
}

/** Feeds a line in pieces with `append`; `finish` hands it over and empties the holder. */
export class CarriedLine {
  readonly #keepText: boolean;
  readonly #client = new LongLine();
  #text = new Uint8Array(0);
  #length = 0;
  #cut = false;

  /** `keepText`: keep the line's text too, not only its client (JSON lines, --by). */
  constructor(keepText: boolean) {
    this.#keepText = keepText;
  }

  append(bytes: Uint8Array, start: number, end: number): void {
    this.#client.append(bytes, start, end);
    if (!this.#keepText) return;
    const take = Math.min(MAX_KEPT_LINE - this.#length, end - start);
    if (take < end - start) this.#cut = true;
    if (this.#length + take > this.#text.length) {
      const grown = new Uint8Array(Math.min(MAX_KEPT_LINE, (this.#length + take) * 2));
      grown.set(this.#text.subarray(0, this.#length));
      this.#text = grown;
    }
    this.#text.set(bytes.subarray(start, start + take), this.#length);
    this.#length += take;
  }

  /** The line is complete. `kept` is valid until the next `append`. */
  finish(): FinishedLine {
    const line = {
      kept: this.#text.subarray(0, this.#length),
      cut: this.#cut,
      client: this.#client.finish(),
    };
    this.#length = 0;
    this.#cut = false;
    return line;
  }
}
