/**
 * A line that arrives in pieces (it straddles two reads, or it is megabytes long), kept as the
 * few bytes that decide its client, so a line's length never changes the answer and never
 * costs memory.
 *
 * Why a few bytes are enough, with the rule of client-ip.ts: call R the run of bytes from the
 * first non-space up to the first space or comma. The field always contains R (no " - " can
 * start inside it or before it, except one starting on R's first byte, which makes the line
 * malformed), so an R longer than the longest address is malformed whatever follows. Otherwise
 * the element is R exactly when R ends at a comma, at the line's end, or at spaces that run up
 * to a comma, to " - ", or to the line's end; or when the line holds no " - " at all (the
 * field is then the first token). Else the element holds R, spaces and more: malformed.
 * So the line is kept as: the last leading space, R (at most 46 bytes), the first and last
 * space after R, and a stand-in for the rest that has the same effect on those cases.
 */

import { isSpace } from './client-ip.ts';

const SPACE = 0x20;
const COMMA = 0x2c;
const HYPHEN = 0x2d;
const X = 0x78;
/** One byte longer than the longest address text (45): enough to know R is too long. */
const MAX_FIELD = 46;

const LEAD = 0;
const FIELD = 1;
const GAP = 2;
const REST = 3;
const SETTLED = 4;

/** Feeds a line in pieces with `append`; `finish` returns a short line with the same client. */
export class LongLine {
  #phase = LEAD;
  #lead = -1;
  readonly #field = new Uint8Array(MAX_FIELD);
  #fieldLength = 0;
  #gapLast = -1;
  /** What follows R and its spaces, in the short line. */
  #tail: readonly number[] = [];
  // The last two bytes seen after R's spaces, to find a " - " that spans two pieces.
  #prev2 = -1;
  #prev1 = -1;
  #restBytes = 0;

  append(bytes: Uint8Array, start: number, end: number): void {
    let i = start;
    while (i < end && this.#phase !== SETTLED) {
      if (this.#phase === REST) {
        i = this.#rest(bytes, i, end);
        continue;
      }
      const byte = bytes[i++]!;
      if (this.#phase === LEAD) {
        if (isSpace(byte)) {
          this.#lead = byte;
          continue;
        }
        this.#phase = FIELD;
      }
      if (this.#phase === FIELD) {
        if (byte === COMMA) this.#settle([COMMA]);
        else if (isSpace(byte)) {
          this.#gapLast = byte;
          this.#phase = GAP;
        } else {
          this.#field[this.#fieldLength++] = byte;
          // Too long for an address: malformed whatever follows.
          if (this.#fieldLength === MAX_FIELD) this.#settle([]);
        }
      } else if (isSpace(byte)) {
        this.#gapLast = byte;
      } else if (byte === COMMA) {
        this.#settle([COMMA]);
      } else {
        this.#phase = REST;
        this.#prev2 = this.#gapLast;
        this.#prev1 = byte;
        this.#restBytes = 1;
      }
    }
  }

  /** Looks for " - " after R's spaces: right there it ends the field, later it spoils it. */
  #rest(bytes: Uint8Array, start: number, end: number): number {
    let i = start;
    // Byte by byte while a " - " could still start in an earlier piece.
    for (; i < end && i < start + 2; i++) {
      const byte = bytes[i]!;
      if (this.#prev2 === SPACE && this.#prev1 === HYPHEN && byte === SPACE) {
        // Right after R's spaces, " - " ends the field at R; any later one spoils it.
        this.#settle(this.#restBytes === 1 ? [X] : [X, SPACE, HYPHEN, SPACE]);
        return end;
      }
      this.#prev2 = this.#prev1;
      this.#prev1 = byte;
      this.#restBytes++;
    }
    if (i >= end) return end;
    const at = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).indexOf(' - ');
    if (at >= 0) this.#settle([X, SPACE, HYPHEN, SPACE]);
    else {
      this.#prev2 = bytes[end - 2]!;
      this.#prev1 = bytes[end - 1]!;
      this.#restBytes += end - i;
    }
    return end;
  }

  #settle(tail: readonly number[]): void {
    this.#tail = tail;
    this.#phase = SETTLED;
  }

  /** The short line with the same client; the holder is empty again afterwards. */
  finish(): Uint8Array {
    const out: number[] = [];
    if (this.#lead >= 0) out.push(this.#lead);
    out.push(...this.#field.subarray(0, this.#fieldLength));
    if (this.#gapLast >= 0) {
      // One space stands for the run: it ends R, and only its last byte can open " - ".
      out.push(this.#gapLast);
    }
    if (this.#phase === REST) out.push(X);
    else out.push(...this.#tail);
    this.#phase = LEAD;
    this.#lead = this.#gapLast = this.#prev1 = this.#prev2 = -1;
    this.#fieldLength = this.#restBytes = 0;
    this.#tail = [];
    return Uint8Array.from(out);
  }
}
