/**
 * Which text encoding a CSV is in, from its first bytes: a byte-order mark, else UTF-16 told
 * by its zero bytes, else UTF-8 when the bytes are valid UTF-8, else GB18030 (what Excel on a
 * Chinese Windows saves) when they decode cleanly as that, else UTF-8, whose undecodable
 * bytes then show as U+FFFD and fail their rows (rows.ts). Pure.
 */
import { TextDecoder } from 'node:util';

/** What `--encoding` takes by default: detect from the bytes. */
export const AUTO_ENCODING = 'auto';

const BOMS: readonly (readonly [readonly number[], string])[] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

/** The canonical name of an encoding label TextDecoder knows, else undefined. */
export function encodingName(label: string): string | undefined {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return undefined;
  }
}

/**
 * The encoding of a text that starts with `head`; undefined while `head` is too short to
 * tell (a BOM cut short) and more bytes may come (`final` false).
 */
export function detectEncoding(head: Uint8Array, final: boolean): string | undefined {
  for (const [bom, name] of BOMS) {
    if (bom.every((b, i) => head[i] === b)) return name;
    if (!final && head.length < bom.length && head.every((b, i) => bom[i] === b)) return undefined;
  }
  const utf16 = utf16ByZeros(head);
  if (utf16) return utf16;
  if (decodesCleanly('utf-8', head, final)) return 'utf-8';
  if (decodesCleanly('gb18030', head, final)) return 'gb18030';
  return 'utf-8';
}

/** A mostly-ASCII text in UTF-16 has a zero in every other byte, all on one side. */
function utf16ByZeros(head: Uint8Array): string | undefined {
  const pairs = Math.min(head.length >> 1, 4096);
  let even = 0;
  let odd = 0;
  for (let i = 0; i < pairs; i++) {
    if (head[2 * i] === 0) even++;
    if (head[2 * i + 1] === 0) odd++;
  }
  if (pairs < 2) return undefined;
  if (odd >= pairs / 4 && even === 0) return 'utf-16le';
  if (even >= pairs / 4 && odd === 0) return 'utf-16be';
  return undefined;
}

function decodesCleanly(encoding: string, bytes: Uint8Array, final: boolean): boolean {
  try {
    // Streaming, a character cut at the end of `bytes` is not an error: it may end later.
    new TextDecoder(encoding, { fatal: true }).decode(bytes, { stream: !final });
    return true;
  } catch {
    return false;
  }
}
