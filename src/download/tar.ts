/**
 * Writing a tar file, as webdataset's readers (and Python's tarfile, GNU tar) read it: a
 * POSIX ustar header per member, its bytes padded to 512, two zero blocks at the end. Only
 * what crew writes: regular files with short ASCII names (a row's key and extension).
 * Synchronous, on one descriptor: the parent appends a whole member at a time, so members
 * never interleave; a member that cannot be written whole (a full disk) is cut off again,
 * so the tar holds only whole members.
 */
import {
  closeSync,
  constants,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
  writevSync,
} from 'node:fs';
import { unwritten } from './store.ts';

export const BLOCK = 512;

/** The largest size the ustar header's 11 octal digits hold; past it, base-256 (as GNU tar). */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

/** Zero bytes that pad a member's data to a whole block. */
export const paddingOf = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

const ZEROS = Buffer.alloc(BLOCK * 2);

function octal(header: Buffer, at: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, width, 'ascii');
}

/** The 512-byte ustar header of a regular file `name` of `size` bytes, modified at `mtime` (s). */
export function tarHeader(name: string, size: number, mtime: number): Buffer {
  if (!/^[\x21-\x7e]{1,100}$/.test(name) || name.includes('..')) {
    throw new Error(`tar member name must be 1-100 printable ASCII bytes: ${JSON.stringify(name)}`);
  }
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`tar member size ${size}`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'ascii');
  octal(header, 100, 8, 0o644);
  octal(header, 108, 8, 0); // uid
  octal(header, 116, 8, 0); // gid
  if (size <= MAX_OCTAL_SIZE) octal(header, 124, 12, size);
  else {
    // Base-256: the first byte's high bit set, the size big-endian in the rest.
    header[124] = 0x80;
    header.writeUIntBE(size, 130, 6);
  }
  octal(header, 136, 12, Math.max(0, Math.floor(mtime)));
  header.fill(0x20, 148, 156); // the checksum counts as spaces while it is summed
  header.write('0', 156, 'ascii'); // a regular file
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

/** Bytes copied from a file into a tar at a time. */
const COPY_BYTES = 1024 * 1024;
let copyBuffer: Buffer | undefined;

/** Where a member's data sits in its tar, to copy it again (a later row with the same URL). */
export interface MemberData {
  readonly offset: number;
  readonly size: number;
}

/** A member to append: its name in the tar and its bytes. */
export interface MemberBytes {
  readonly name: string;
  readonly data: Uint8Array;
}

/** A tar being written, created fresh at `path` ('wx': never through what is there). */
export class TarWriter {
  readonly #fd: number;
  readonly #mtime = Math.floor(Date.now() / 1000);
  #size = 0;
  #closed = false;

  constructor(path: string) {
    this.#fd = openSync(path, 'wx', 0o644);
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends a member holding `data`. */
  add(name: string, data: Uint8Array): MemberData {
    return this.addAll([{ name, data }])[0]!;
  }

  /**
   * Appends `members`, in order, with one write (a row's image, json and txt: one system
   * call, not three); returns where each one's data sits. All of them or none.
   */
  addAll(members: readonly MemberBytes[]): MemberData[] {
    const chunks: Uint8Array[] = [];
    const placed: MemberData[] = [];
    let end = this.#size;
    for (const { name, data } of members) {
      const padding = paddingOf(data.length);
      chunks.push(tarHeader(name, data.length, this.#mtime), data);
      if (padding > 0) chunks.push(ZEROS.subarray(0, padding));
      placed.push({ offset: end + BLOCK, size: data.length });
      end += BLOCK + data.length + padding;
    }
    this.whole(() => this.#write(chunks));
    return placed;
  }

  /**
   * Appends a member holding `size` bytes of the file `source` from `start` (a body's temp
   * file, or a member of another tar). Throws when the file holds fewer.
   */
  addFrom(name: string, source: string, size: number, start = 0): MemberData {
    const header = tarHeader(name, size, this.#mtime);
    const offset = this.#size + BLOCK;
    // Not through a link: a temp file is crew's own, a link there was planted.
    const from = openSync(source, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      this.whole(() => {
        this.#write([header]);
        copyBuffer ??= Buffer.allocUnsafe(COPY_BYTES);
        for (let copied = 0; copied < size;) {
          const want = Math.min(COPY_BYTES, size - copied);
          const read = readSync(from, copyBuffer, 0, want, start + copied);
          if (read === 0) throw new Error(`${size - copied} bytes missing from the body`);
          this.#write([copyBuffer.subarray(0, read)]);
          copied += read;
        }
        this.#write([ZEROS.subarray(0, paddingOf(size))]);
      });
    } finally {
      closeSync(from);
    }
    return { offset, size };
  }

  /** Writes the end of the archive, flushes it to disk and closes: the tar is whole. */
  finish(): number {
    this.#write([ZEROS]);
    fsyncSync(this.#fd);
    this.close();
    return this.#size;
  }

  /** Closes the descriptor (the caller removes an unfinished file). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  /**
   * Runs `append` (members added together, such as an image and its json); if it fails,
   * cuts the tar back to where it was, and rethrows.
   */
  whole(append: () => void): void {
    const before = this.#size;
    try {
      append();
    } catch (error) {
      try {
        ftruncateSync(this.#fd, before);
        this.#size = before;
      } catch {
        // The tar stays torn, in its temp folder: the run stops (a full disk) and removes it.
      }
      throw error;
    }
  }

  /** Writes all of `chunks` at the end of what is written (a short write goes on). */
  #write(chunks: readonly Uint8Array[]): void {
    for (let left = unwritten(chunks, 0); left.length > 0;) {
      const written = writevSync(this.#fd, left, this.#size);
      if (written <= 0) {
        throw Object.assign(new Error('no space left on device (a write stored nothing)'), {
          code: 'ENOSPC',
        });
      }
      this.#size += written;
      left = unwritten(left, written);
    }
  }
}
