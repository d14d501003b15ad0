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
  readonly #taken = new Fingerprints();

  claim(stem: string): string {
    let candidate = stem;
    for (let n = 2; !this.#taken.add(candidate.toLowerCase()); n++) {
      const suffix = `-${n}`;
      candidate = capBytes(stem, MAX_NAME_BYTES - suffix.length) + suffix;
    }
    return candidate;
  }
}

const fmix = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/**
 * A set of strings kept as 64-bit fingerprints in typed arrays: 16 bytes a name however long
 * it is, so a million-row CSV costs ~16 MB here rather than a string per row. Two names
 * share a fingerprint with odds of about n^2 / 2^65 (1e-8 for a million names); the cost of
 * that would be one needless `-2` suffix, the same on every run.
 */
export class Fingerprints {
  #high = new Uint32Array(1024);
  #low = new Uint32Array(1024);
  #size = 0;

  /** Adds `text`; false if it was already there. */
  add(text: string): boolean {
    let a = 0x811c9dc5;
    let b = 0x01000193;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    const high = fmix(a) || 1; // 0 marks an empty slot
    const low = fmix(b ^ text.length);
    return this.#insert(high, low);
  }

  #insert(high: number, low: number): boolean {
    const mask = this.#high.length - 1;
    for (let slot = (high ^ low) & mask; ; slot = (slot + 1) & mask) {
      const h = this.#high[slot]!;
      if (h === 0) {
        this.#high[slot] = high;
        this.#low[slot] = low;
        if (++this.#size * 2 > this.#high.length) this.#grow();
        return true;
      }
      if (h === high && this.#low[slot] === low) return false;
    }
  }

  #grow(): void {
    const high = this.#high;
    const low = this.#low;
    this.#high = new Uint32Array(high.length * 2);
    this.#low = new Uint32Array(low.length * 2);
    this.#size = 0;
    for (let i = 0; i < high.length; i++) if (high[i] !== 0) this.#insert(high[i]!, low[i]!);
  }
}

/** `stem` + `.ext`, unless the name already ends in that extension (`cat.png` stays). */
export function fileName(stem: string, ext: string): string {
  if (ext === '') return stem;
  return stem.toLowerCase().endsWith(`.${ext.toLowerCase()}`) ? stem : `${stem}.${ext}`;
}
