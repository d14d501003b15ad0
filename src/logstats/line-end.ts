/** Where a line ends, by the one rule every reader of a log shares. Pure. */
import { Buffer } from 'node:buffer';

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

/**
 * The line ends of one chunk, `bytes[0, to)`, asked for in order: as `lineEnd`, without its
 * two views a line (garbage to collect on every line read in JavaScript), and each byte
 * searched for at most once a chunk: where there is no CR, the first search says so for all
 * the chunk's lines.
 */
export class LineEnds {
  /** The chunk as a Buffer: its search (memchr) is several times a typed array's indexOf. */
  #bytes: Buffer = Buffer.alloc(0);
  #to = 0;
  #lf = -1;
  #cr = -1;

  /** Starts on a chunk whose data is `bytes[0, to)` (what lies past `to` is not read as data). */
  start(bytes: Uint8Array, to: number): void {
    this.#bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#to = to;
    this.#lf = -1;
    this.#cr = -1;
  }

  /** The first line end at or after `from` (no earlier than the last one asked for), or `to`. */
  next(from: number): number {
    if (this.#lf < from) this.#lf = this.#find(0x0a, from);
    if (this.#cr < from) this.#cr = this.#find(0x0d, from);
    return this.#lf < this.#cr ? this.#lf : this.#cr;
  }

  #find(byte: number, from: number): number {
    const at = this.#bytes.indexOf(byte, from);
    return at < 0 || at > this.#to ? this.#to : at;
  }
}
