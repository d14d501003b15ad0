/**
 * Gzip members one after another, as gzip(1) reads them. After the last member, bytes that
 * do not start another one (a log appended to a .gz, a copy cut into another file) are
 * "trailing garbage": reading stops there, says so, and keeps everything before. Node's
 * Gunzip fails the whole stream instead, and drops the last piece it decoded.
 *
 * Each member is its header (parsed here, RFC 1952), raw deflate data (zlib), and a trailer
 * whose CRC-32 and length are checked, so a corrupt or cut member still fails.
 */
import { finished } from 'node:stream/promises';
import { crc32, createInflateRaw, type InflateRaw } from 'node:zlib';

/** Input fed to zlib at a time: what one write can expand to stays small even for a bomb. */
const SLICE = 16 * 1024;

/** Decompressed pieces; the return value says whether trailing garbage ended the input. */
export async function* gunzipMembers(
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array, boolean> {
  const input = new Input(source);
  for (let member = 0; ; member++) {
    if (!(await input.fill(1))) {
      if (member === 0) throw gzipError('unexpected end of file');
      return false;
    }
    if (member > 0 && (await input.onlyZeros())) return false; // padding, as zlib allows
    const header = await headerLength(input);
    if (header < 0) {
      if (member === 0) throw gzipError('incorrect header check');
      return true;
    }
    input.take(header);
    let crc = 0;
    let size = 0;
    for await (const piece of inflateMember(input)) {
      crc = crc32(piece, crc);
      size += piece.length;
      yield piece;
    }
    if (!(await input.fill(8))) throw gzipError('unexpected end of file');
    const trailer = input.peek(8);
    input.take(8);
    if (trailer.readUInt32LE(0) !== crc >>> 0) throw gzipError('incorrect data check');
    if (trailer.readUInt32LE(4) !== size % 2 ** 32) throw gzipError('incorrect length check');
  }
}

function gzipError(message: string): Error {
  return Object.assign(new Error(message), { code: 'Z_DATA_ERROR' });
}

/** The deflate data of one member, leaving the input just after it. */
async function* inflateMember(input: Input): AsyncGenerator<Buffer> {
  const inflate: InflateRaw = createInflateRaw();
  const out: Buffer[] = [];
  let failure: Error | undefined;
  inflate.on('data', (piece: Buffer) => out.push(piece));
  inflate.on('error', (error: Error) => (failure = error));
  try {
    for (;;) {
      const slice = await input.next(SLICE);
      if (slice === undefined) {
        // The input ended: zlib says whether the data was complete.
        inflate.end();
        await finished(inflate).catch((error: Error) => (failure ??= error));
        if (failure !== undefined) throw failure;
        yield* out.splice(0);
        return;
      }
      const before = inflate.bytesWritten;
      await new Promise<void>((resolve) => inflate.write(slice, () => resolve()));
      if (failure !== undefined) throw failure;
      yield* out.splice(0);
      // zlib takes every byte until the data ends: what it left is the trailer and beyond.
      const taken = inflate.bytesWritten - before;
      if (taken < slice.length) {
        input.unshift(slice.subarray(taken));
        return;
      }
    }
  } finally {
    inflate.destroy();
  }
}

/** A member header's length in bytes, or -1 when the input does not start with one. */
async function headerLength(input: Input): Promise<number> {
  if (!(await input.fill(10))) return -1;
  const fixed = input.peek(10);
  if (fixed[0] !== 0x1f || fixed[1] !== 0x8b || fixed[2] !== 8 || (fixed[3]! & 0xe0) !== 0) {
    return -1;
  }
  const flags = fixed[3]!;
  let length = 10;
  if (flags & 4) {
    // FEXTRA: a two-byte length, then that many bytes.
    if (!(await input.fill(length + 2))) return -1;
    length += 2 + input.peek(length + 2).readUInt16LE(length);
  }
  for (const bit of [8, 16]) {
    // FNAME, FCOMMENT: zero-terminated.
    if (!(flags & bit)) continue;
    for (;;) {
      if (!(await input.fill(length + 1))) return -1;
      if (input.peek(length + 1)[length++] === 0) break;
    }
  }
  if (flags & 2) length += 2; // FHCRC
  return (await input.fill(length)) ? length : -1;
}

/** Compressed input with a little lookahead: peek, take, and give back. */
class Input {
  readonly #source: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #length = 0;
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Waits until `n` bytes are buffered; false if the input ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.#length < n && !this.#done) {
      const next = await this.#source.next();
      if (next.done) this.#done = true;
      else {
        this.#chunks.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length));
        this.#length += next.value.length;
      }
    }
    return this.#length >= n;
  }

  /** True when nothing but zero bytes is left (it reads to the end to know). */
  async onlyZeros(): Promise<boolean> {
    for (;;) {
      if (this.#chunks.some((chunk) => chunk.some((byte) => byte !== 0))) return false;
      if (!(await this.fill(this.#length + 1))) return true;
    }
  }

  peek(n: number): Buffer {
    if (this.#chunks[0]!.length < n) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0]!.subarray(0, n);
  }

  take(n: number): void {
    const head = this.peek(n);
    this.#chunks[0] = this.#chunks[0]!.subarray(head.length);
    this.#length -= n;
  }

  /** Up to `most` bytes, or undefined at the end of the input. */
  async next(most: number): Promise<Buffer | undefined> {
    if (!(await this.fill(1))) return undefined;
    while (this.#chunks[0]!.length === 0) this.#chunks.shift();
    const head = this.#chunks[0]!;
    const piece = head.subarray(0, most);
    this.#chunks[0] = head.subarray(piece.length);
    this.#length -= piece.length;
    return piece;
  }

  /** Puts bytes back in front. */
  unshift(bytes: Buffer): void {
    this.#chunks.unshift(bytes);
    this.#length += bytes.length;
  }
}
