/**
 * Safe, readable file names. Unicode (Chinese, emoji) is kept; what a file system or a shell
 * would trip on is neutralised; the UTF-8 length is capped without cutting a character; and
 * no name can leave the output directory. Pure.
 */

/** A cap well under the 255-byte limit of common file systems, leaving room for suffixes. */
export const MAX_NAME_BYTES = 200;

const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The file-name stem for a row's name: separators, control and Windows-illegal characters
 * become `_`, leading dots and trailing dots/spaces go, reserved device names get a `_`
 * prefix, and the result fits `maxBytes` of UTF-8 (cut between graphemes). Empty when
 * nothing usable is left.
 */
export function safeStem(name: string, maxBytes = MAX_NAME_BYTES): string {
  let stem = name
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f/\\<>:"|?*\u2028\u2029\ufeff]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  if (RESERVED.test(stem.split('.')[0] ?? '')) stem = `_${stem}`;
  return capBytes(stem, maxBytes);
}

/** The longest prefix of `text` whole graphemes that fits `maxBytes` of UTF-8. */
export function capBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const { segment } of segmenter.segment(text)) {
    const size = Buffer.byteLength(segment);
    if (bytes + size > maxBytes) break;
    out += segment;
    bytes += size;
  }
  return out.replace(/[.\s]+$/, '');
}

/** The stem for a row: its name, else its id, else the last part of its URL, else row-N. */
export function stemFor(job: { name: string; id: string; url: string; row: number }): string {
  const fromUrl = (): string => {
    try {
      const path = new URL(job.url).pathname;
      const last = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
      return last.replace(/\.[a-z0-9]{1,5}$/i, '');
    } catch {
      return '';
    }
  };
  for (const candidate of [job.name, job.id, fromUrl()]) {
    const stem = safeStem(candidate);
    if (stem !== '' && !/^_+$/.test(stem)) return stem;
  }
  return `row-${job.row}`;
}

/**
 * Hands out distinct stems in row order: the first row with a name gets it, later rows with
 * the same name (compared case-insensitively, as on macOS and Windows) get `name-2`, `name-3`.
 * Deterministic, so a re-run of the same CSV gives every row the same file.
 */
export class NameBook {
  readonly #taken = new Set<string>();

  claim(stem: string): string {
    let candidate = stem;
    for (let n = 2; this.#taken.has(candidate.toLowerCase()); n++) {
      const suffix = `-${n}`;
      candidate = capBytes(stem, MAX_NAME_BYTES - suffix.length) + suffix;
    }
    this.#taken.add(candidate.toLowerCase());
    return candidate;
  }
}

/** `stem` + `.ext`, unless the name already ends in that extension (`cat.png` stays). */
export function fileName(stem: string, ext: string): string {
  if (ext === '') return stem;
  return stem.toLowerCase().endsWith(`.${ext.toLowerCase()}`) ? stem : `${stem}.${ext}`;
}
