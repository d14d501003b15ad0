/**
 * A text list's bytes in, batches of whole lines out, each ending in `\n`. The encoding is
 * told, or detected from the first bytes (encoding.ts); the format (CSV, TSV, JSON lines) is
 * told, or decided from the first non-blank line (input-format.ts), before any line is cut,
 * since only CSV gives quotes a meaning; then the text is cut into lines (csv-lines.ts), and
 * each batch is given out as soon as it arrives.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';
import { LineCutter, MAX_ROW_CHARS } from './csv-lines.ts';
import { AUTO_ENCODING, detectEncoding } from './encoding.ts';
import { formatByText, type TextFormat } from './input-format.ts';

export class TextLines extends Transform {
  #decoder: TextDecoder | undefined;
  #head: Buffer = Buffer.alloc(0);
  #format: TextFormat | undefined;
  #cutter: LineCutter | undefined;
  /** Text held until its first non-blank line says the format. */
  #held = '';

  /** `format` undefined: decided from the first non-blank line. */
  constructor(encoding: string, format: TextFormat | undefined) {
    // One batch waiting at most: 16 (the default) read a megabyte ahead, whose strings lived
    // long enough to be promoted (100,000 failing rows ended with an 88 MB heap, now 75).
    super({ readableObjectMode: true, readableHighWaterMark: 1 });
    if (encoding !== AUTO_ENCODING) this.#decoder = new TextDecoder(encoding);
    if (format !== undefined) this.#start(format);
  }

  /** The canonical name of the encoding in use (utf-8 until known). */
  get encoding(): string {
    return this.#decoder?.encoding ?? 'utf-8';
  }

  /** The format, once known (csv until then). */
  get format(): TextFormat {
    return this.#format ?? 'csv';
  }

  override _transform(chunk: Buffer, _: BufferEncoding, done: TransformCallback): void {
    done(caught(() => this.#decode(chunk, false)));
  }

  override _flush(done: TransformCallback): void {
    done(
      caught(() => {
        this.#decode(Buffer.alloc(0), true);
        this.#text('', true);
        if (this.#cutter) this.#lines(this.#cutter.end());
      }),
    );
  }

  #start(format: TextFormat): void {
    this.#format = format;
    this.#cutter = new LineCutter(MAX_ROW_CHARS, { quotes: format === 'csv' });
  }

  #decode(chunk: Buffer, final: boolean): void {
    let bytes = chunk;
    if (this.#decoder === undefined) {
      bytes = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk]);
      const detected = detectEncoding(bytes, final);
      if (detected === undefined) {
        this.#head = bytes;
        return;
      }
      this.#head = Buffer.alloc(0);
      this.#decoder = new TextDecoder(detected);
    }
    this.#text(this.#decoder.decode(bytes, { stream: !final }), final);
  }

  #text(text: string, final: boolean): void {
    if (this.#cutter === undefined) {
      this.#held += text;
      const first = firstLine(this.#held);
      if (first === undefined && !final && this.#held.length <= MAX_ROW_CHARS) return;
      this.#start(formatByText(first ?? this.#held));
      text = this.#held;
      this.#held = '';
    }
    this.#lines(this.#cutter!.push(text));
  }

  #lines(lines: string): void {
    if (lines !== '') this.push(lines);
  }
}

/** The first whole non-blank line of `text`, if one has ended. */
function firstLine(text: string): string | undefined {
  const ends = /[\r\n]/g;
  let from = 0;
  for (let m = ends.exec(text); m !== null; m = ends.exec(text)) {
    const line = text.slice(from, m.index);
    if (line.trim() !== '') return line;
    from = m.index + 1;
  }
  return undefined;
}

/** What `work` threw, for a stream callback; null when it did not. */
function caught(work: () => void): Error | null {
  try {
    work();
    return null;
  } catch (error) {
    return error as Error;
  }
}
