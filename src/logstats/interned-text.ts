/**
 * The text of a field that repeats from line to line (a path, a referrer, a user agent), as
 * one string per distinct value: a small direct-mapped cache of byte runs to the strings they
 * decoded to. A hit costs a hash and a compare of the bytes, with no decoding and no new
 * string, and the string that comes back is the same object each time, whose hash V8 keeps:
 * the panel's Map finds it without hashing it again. Pure.
 */

const SLOTS = 1 << 12;
/** Longer fields are decoded every time: rarely repeated, and a compare would cost as much. */
const MAX_CACHED = 512;

const utf8 = new TextDecoder('utf-8');

export class InternedText {
  readonly #hashes = new Int32Array(SLOTS);
  readonly #bytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS);
  readonly #texts: string[] = new Array<string>(SLOTS).fill('');
  /** What a field's decoded text becomes (e.g. Apache's escapes undone); once per value. */
  readonly #finish: (text: string) => string;

  constructor(finish: (text: string) => string = (text) => text) {
    this.#finish = finish;
  }

  /** The text of `bytes[start, end)`, decoded as UTF-8 and finished. */
  of(bytes: Uint8Array, start: number, end: number): string {
    const length = end - start;
    if (length > MAX_CACHED) return this.#finish(utf8.decode(bytes.subarray(start, end)));
    // FNV-1a over the bytes.
    let hash = 0x811c9dc5 ^ length;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
    const slot = (hash ^ (hash >>> 15)) & (SLOTS - 1);
    const held = this.#bytes[slot];
    if (held !== undefined && this.#hashes[slot] === hash && held.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (held[i] !== bytes[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#texts[slot]!;
    }
    const copy = bytes.slice(start, end);
    const text = this.#finish(utf8.decode(copy));
    this.#hashes[slot] = hash;
    this.#bytes[slot] = copy;
    this.#texts[slot] = text;
    return text;
  }
}
