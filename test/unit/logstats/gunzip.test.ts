import { Readable } from 'node:stream';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipMembers } from '../../../src/logstats/gunzip.ts';

/** Runs the reader over `bytes` cut into `chunk`-byte pieces (or at the given offsets). */
async function gunzip(
  bytes: Buffer,
  cuts: number | readonly number[] = 1 << 16,
): Promise<{ text: string; garbage: boolean }> {
  const offsets = typeof cuts === 'number' ? [] : [...cuts, bytes.length];
  if (typeof cuts === 'number') for (let at = cuts; at < bytes.length; at += cuts) offsets.push(at);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const to of [...offsets, bytes.length]) {
    if (to > from) pieces.push(bytes.subarray(from, to));
    from = Math.max(from, to);
  }
  const members = gunzipMembers(Readable.from(pieces));
  const out: Uint8Array[] = [];
  for (;;) {
    const next = await members.next();
    if (next.done) return { text: Buffer.concat(out).toString(), garbage: next.value };
    out.push(next.value);
  }
}

/** A gzip member written by hand, with the optional header fields gzip(1) may write. */
function member(
  text: string,
  flags: { name?: string; comment?: string; extra?: Buffer; hcrc?: boolean },
) {
  const data = Buffer.from(text);
  const fields: Buffer[] = [];
  let flag = 0;
  if (flags.extra) {
    flag |= 4;
    const length = Buffer.alloc(2);
    length.writeUInt16LE(flags.extra.length);
    fields.push(length, flags.extra);
  }
  if (flags.name !== undefined) {
    flag |= 8;
    fields.push(Buffer.from(`${flags.name}\0`, 'latin1'));
  }
  if (flags.comment !== undefined) {
    flag |= 16;
    fields.push(Buffer.from(`${flags.comment}\0`, 'latin1'));
  }
  const header = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, flag | (flags.hcrc ? 2 : 0), 0, 0, 0, 0, 0, 3]),
    ...fields,
  ]);
  const headerCrc = Buffer.alloc(flags.hcrc ? 2 : 0);
  if (flags.hcrc) headerCrc.writeUInt16LE(crc32(header) & 0xffff);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, headerCrc, deflateRawSync(data), trailer]);
}

const lines = Array.from(
  { length: 3000 },
  (_, i) => `10.0.${i % 256}.${i % 200} - - [x] ${'y'.repeat(i % 50)}\n`,
).join('');

describe('gunzipMembers', () => {
  it.each([1, 7, 4096, 1 << 16])('reads one member whatever the read size (%d)', async (chunk) => {
    // Byte by byte is slow (a zlib call each): a short text for the small sizes.
    const text = chunk < 100 ? lines.slice(0, 3000) : lines;
    expect(await gunzip(gzipSync(text), chunk)).toEqual({ text, garbage: false });
  });

  it('reads members one after another, and header fields gzip may write', async () => {
    const bytes = Buffer.concat([
      gzipSync('one\n'),
      member('two\n', {
        name: 'day.log',
        comment: 'rotated',
        extra: Buffer.from('xy'),
        hcrc: true,
      }),
      gzipSync(''),
      gzipSync('three\n'),
    ]);
    for (const chunk of [1, 3, 1 << 16]) {
      expect(await gunzip(bytes, chunk)).toEqual({ text: 'one\ntwo\nthree\n', garbage: false });
    }
  });

  it.each([
    ['a line of text', Buffer.from('1.2.3.4 - - [x]\n')],
    ['a second, broken header', Buffer.from([0x1f, 0x8c, 8, 0, 0, 0])],
    ['a single byte', Buffer.from([0x41])],
  ])('keeps what came before trailing garbage: %s', async (_what, garbage) => {
    const big = Buffer.concat([gzipSync('one\n'), gzipSync(lines), garbage]);
    expect(await gunzip(big, 1 << 16)).toEqual({ text: `one\n${lines}`, garbage: true });
    const small = Buffer.concat([gzipSync('one\n'), gzipSync('two\n'), garbage]);
    for (const chunk of [1, 5]) {
      expect(await gunzip(small, chunk)).toEqual({ text: 'one\ntwo\n', garbage: true });
    }
  });

  it('finds the end of the data when it falls exactly on a read boundary', async () => {
    const first = gzipSync(lines);
    const dataEnd = first.length - 8; // the trailer follows the deflate data
    const bytes = Buffer.concat([first, Buffer.from('garbage\n')]);
    for (const cut of [dataEnd, dataEnd - 1, dataEnd + 1, first.length, 10]) {
      expect(await gunzip(bytes, [cut])).toEqual({ text: lines, garbage: true });
    }
  });

  it('ignores zero padding after the last member', async () => {
    const bytes = Buffer.concat([gzipSync(lines), Buffer.alloc(4096)]);
    expect(await gunzip(bytes, 1000)).toEqual({ text: lines, garbage: false });
  });

  it.each([
    ['not gzip at all', Buffer.from('1.2.3.4 - - [x]\n'), /incorrect header check/],
    ['empty', Buffer.alloc(0), /unexpected end of file/],
    ['cut in its data', gzipSync(lines).subarray(0, 500), /unexpected end of file/],
    ['cut in its trailer', gzipSync(lines).subarray(0, -3), /unexpected end of file/],
    [
      'a wrong checksum',
      (() => {
        const bytes = gzipSync(lines);
        bytes[bytes.length - 8] = bytes[bytes.length - 8]! ^ 1;
        return bytes;
      })(),
      /incorrect data check/,
    ],
    [
      'a wrong length',
      (() => {
        const bytes = gzipSync(lines);
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
        return bytes;
      })(),
      /incorrect length check/,
    ],
  ])('fails on a member that is %s', async (_what, bytes, message) => {
    await expect(gunzip(bytes, 100)).rejects.toThrow(message);
  });
});
