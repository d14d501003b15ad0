/**
 * Safe, readable file names. Unicode (Chinese, emoji) is kept; what a file system or a shell
 * would trip on is neutralised; the UTF-8 length is capped without cutting a character; and
 * no name can leave the output directory. Pure.
 */

/** A cap well under the 255-byte limit of common file systems, leaving room for suffixes. */
export const MAX_NAME_BYTES = 200;

const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;
/**
 * Made on first use: making one takes ~15 ms (ICU's break rules load), and every crew
 * process and worker imports this module, most of them never to cut a long name.
 */
let segmenter: Intl.Segmenter | undefined;

/**
 * The file-name stem for a row's name: separators, control and Windows-illegal characters
 * become `_`, leading dots and trailing dots/spaces go, reserved device names get a `_`
 * prefix, and the result fits `maxBytes` of UTF-8 (cut between graphemes). Empty when
 * nothing usable is left.
 */
export function safeStem(name: string, maxBytes = MAX_NAME_BYTES): string {
  // Most names are plain ASCII that the rules leave alone, and one regex can say so: the
  // rules one by one cost a million-row CSV ~2 us and ~1 KB of garbage a row. An empty
  // name (a list without a name or id column: each row asks twice) is the commonest of all.
  if (name === '') return '';
  if (name.length <= maxBytes && PLAIN.test(name) && !RESERVED_START.test(name)) return name;
  return applyRules(name, maxBytes);
}

/**
 * Printable ASCII with none of the characters the rules replace, no space or dot at either
 * end, and no run of spaces: a name `applyRules` returns as it is (unless it is reserved).
 */
const PLAIN =
  // eslint-disable-next-line no-control-regex
  /^[^\x00-\x20\x7f-\uffff/\\<>:"|?*.](?:(?! {2})[^\x00-\x1f\x7f-\uffff/\\<>:"|?*])*(?<![ .])$/;
const RESERVED_START = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

/** The rules of `safeStem` applied one by one; exported so tests can hold the shortcut to them. */
export function applyRules(name: string, maxBytes = MAX_NAME_BYTES): string {
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
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of segmenter.segment(text)) {
    const size = Buffer.byteLength(segment);
    if (bytes + size > maxBytes) break;
    out += segment;
    bytes += size;
  }
  return out.replace(/[.\s]+$/, '');
}

/**
 * The stem for a row: its name, else its id, else the last part of its URL, else row-N.
 * `parsed`: the row's URL as `URL.parse` gives it, when the caller has it already (the URL
 * is parsed only when name and id give nothing, and at most once a row).
 */
export function stemFor(
  job: { name: string; id: string; url: string; row: number },
  parsed?: URL | null,
): string {
  const byName = usable(safeStem(job.name));
  if (byName !== undefined) return byName;
  const byId = usable(safeStem(job.id));
  if (byId !== undefined) return byId;
  return (
    usable(safeStem(lastSegment(parsed === undefined ? URL.parse(job.url) : parsed))) ??
    `row-${job.row}`
  );
}

/** A stem, unless it is empty or nothing but `_` (what was left of a name of separators). */
const usable = (stem: string): string | undefined =>
  stem !== '' && !/^_+$/.test(stem) ? stem : undefined;

/** The last part of a URL's path, decoded, without a short extension; '' when there is none. */
function lastSegment(url: URL | null): string {
  if (url === null) return '';
  const path = url.pathname;
  const last = path.slice(path.lastIndexOf('/') + 1);
  let decoded;
  try {
    // Most parts have no escape: decoding them would give them back, at a row's cost.
    decoded = last.includes('%') ? decodeURIComponent(last) : last;
  } catch {
    return '';
  }
  return withoutExtension(decoded);
}

/**
 * `name` without a short extension: a dot and 1 to 5 ASCII letters or digits at its end
 * (as `/\.[a-z0-9]{1,5}$/i` would cut, without a regular expression's cost on every row).
 */
export function withoutExtension(name: string): string {
  const dot = name.lastIndexOf('.');
  const length = name.length - dot - 1;
  if (dot < 0 || length < 1 || length > 5) return name;
  for (let i = dot + 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const lower = c | 0x20; // an ASCII letter in lower case
    if (!((c >= 0x30 && c <= 0x39) || (lower >= 0x61 && lower <= 0x7a))) return name;
  }
  return name.slice(0, dot);
}

/** What looks like a file extension at the end of a name (what `fileName` may keep). */
const EXT = /\.[a-z0-9]{1,10}$/i;

/**
 * The manifest's name in the output directory. Kept here, not in manifest.ts, so this pure
 * module imports no I/O (and manifest.ts, which needs `fileName`, forms no import cycle).
 */
export const MANIFEST = 'crew-manifest.jsonl';

/** The files crew itself keeps in the output directory under names a row could take. */
export const CREW_FILES: readonly string[] = [MANIFEST];

/**
 * Hands out distinct stems in row order: the first row with a name gets it, later rows with
 * the same name (compared case-insensitively, as on macOS and Windows) get `name-2`, `name-3`
 * (`pic-2.png` for `pic.png`). Deterministic, so a re-run of the same CSV gives every row the
 * same file.
 *
 * A stem's final name is decided later, by `fileName` once the extension is known: `pic`
 * may end as `pic.png`, and `pic.png` stays `pic.png`. So a stem claims both itself and
 * itself without its extension, and no two stems can end as one file whatever their content
 * turns out to be; crew's own files are claimed from the start.
 */
export class NameBook {
  readonly #taken: Fingerprints;
  /** For each stem that had to take a suffix, the next one to try: the N-th repeat is O(1). */
  readonly #next = new Fingerprints({ values: true });
  #tries = 0;

  /** `expected`: names it will likely hand out (a re-run knows how many rows were done). */
  constructor(options: { readonly reserved?: readonly string[]; readonly expected?: number } = {}) {
    this.#taken = new Fingerprints({ values: false, expected: options.expected ?? 0 });
    for (const name of options.reserved ?? CREW_FILES) this.#take(name);
  }

  /** Candidate names tried so far (the work done, for tests). */
  get tries(): number {
    return this.#tries;
  }

  claim(stem: string): string {
    const name = stem.toLowerCase();
    // No stem has needed a suffix yet (the common case): nothing to look up in #next.
    let n = this.#next.size === 0 ? 0 : this.#next.get(name);
    if (n === 0) {
      if (this.#take(stem, name)) return stem;
      n = 2;
    }
    let candidate = suffixed(stem, n);
    while (!this.#take(candidate)) candidate = suffixed(stem, ++n);
    this.#next.set(name, n + 1);
    return candidate;
  }

  /** Takes every name `candidate` could end as; false (taking none) if one is taken. */
  #take(candidate: string, name = candidate.toLowerCase()): boolean {
    this.#tries++;
    const ext = EXT.exec(name);
    // One look-up, not a check and then an add: a set's add says whether it was there.
    if (ext === null) return this.#taken.add(name);
    const bare = name.slice(0, ext.index);
    if (this.#taken.has(name) || this.#taken.has(bare)) return false;
    this.#taken.add(name);
    this.#taken.add(bare);
    return true;
  }
}

/** `stem` with `-n` before its extension, still within the byte cap. */
export function suffixed(stem: string, n: number): string {
  const ext = EXT.exec(stem);
  const root = ext ? stem.slice(0, ext.index) : stem;
  const tail = `-${n}${ext?.[0] ?? ''}`;
  return capBytes(root, MAX_NAME_BYTES - Buffer.byteLength(tail)) + tail;
}

const fmix = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/**
 * Tables a Fingerprints is split into, by the top bits of a fingerprint. Each grows on its
 * own, so a growth holds the old and the new arrays of one table at once, not of all: one
 * table of a million names grew from 8 to 16 MB with both alive until a full collection.
 */
const TABLE_BITS = 6;
const TABLES = 1 << TABLE_BITS;

/** One table of fingerprints: open addressing, linear probing, at most half full. */
interface Table {
  high: Uint32Array;
  low: Uint32Array;
  value: Uint32Array | undefined;
  size: number;
}

/**
 * A set of strings, or a map from strings to small numbers, kept as 64-bit fingerprints in
 * typed arrays: 16 bytes a name however long it is (24 with values), so a million-row CSV
 * costs ~16 MB here rather than a string per row. Two names share a fingerprint with odds of
 * about n^2 / 2^65 (1e-8 for a million names); the cost of that would be one needless `-2`
 * suffix, the same on every run.
 */
export class Fingerprints {
  readonly #tables: Table[];
  /** Only for a map: a set of names needs no value (a third less memory). */
  readonly #values: boolean;
  #size = 0;

  /** `expected`: names it will likely hold, so that it need not grow (copy) on the way. */
  constructor(options: { readonly values: boolean; readonly expected?: number }) {
    const perTable = (options.expected ?? 0) / TABLES;
    const slots = Math.max(16, 2 ** Math.ceil(Math.log2(2 * perTable + 1)));
    this.#values = options.values;
    this.#tables = Array.from({ length: TABLES }, () => ({
      high: new Uint32Array(slots),
      low: new Uint32Array(slots),
      value: options.values ? new Uint32Array(slots) : undefined,
      size: 0,
    }));
  }

  /** How many strings it holds. */
  get size(): number {
    return this.#size;
  }

  /** Adds `text`; false if it was already there. */
  add(text: string): boolean {
    const slot = this.#slot(text);
    if (this.#table.high[slot] !== 0) return false;
    this.#fill(slot, 1);
    return true;
  }

  has(text: string): boolean {
    const slot = this.#slot(text); // first: it picks #table
    return this.#table.high[slot] !== 0;
  }

  /** The number stored for `text`; 0 when none is (always, in a set). */
  get(text: string): number {
    const slot = this.#slot(text);
    return this.#table.value?.[slot] ?? 0;
  }

  set(text: string, value: number): void {
    const slot = this.#slot(text);
    const table = this.#table;
    if (table.high[slot] === 0) this.#fill(slot, value);
    else if (table.value) table.value[slot] = value;
  }

  #hashHigh = 0;
  #hashLow = 0;
  /** The table #slot looked in. */
  #table: Table = undefined as unknown as Table;

  /**
   * Where `text` is, or the empty slot where it would go, in the table its fingerprint picks;
   * leaves the fingerprint in #hash* and the table in #table.
   */
  #slot(text: string): number {
    let a = 0x811c9dc5;
    let b = 0x01000193;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    this.#hashHigh = fmix(a) || 1; // 0 marks an empty slot
    this.#hashLow = fmix(b ^ text.length);
    this.#table = this.#tables[this.#hashHigh >>> (32 - TABLE_BITS)]!;
    return find(this.#table, this.#hashHigh, this.#hashLow);
  }

  /** Stores the fingerprint #slot just computed in the empty `slot` of #table. */
  #fill(slot: number, value: number): void {
    const table = this.#table;
    table.high[slot] = this.#hashHigh;
    table.low[slot] = this.#hashLow;
    if (table.value) table.value[slot] = value;
    this.#size++;
    if (++table.size * 2 > table.high.length) grow(table, this.#values);
  }
}

function find(table: Table, high: number, low: number): number {
  const mask = table.high.length - 1;
  // The top bits chose the table: the low bits of both halves choose the slot.
  for (let slot = (high ^ low) & mask; ; slot = (slot + 1) & mask) {
    const h = table.high[slot]!;
    if (h === 0 || (h === high && table.low[slot] === low)) return slot;
  }
}

function grow(table: Table, values: boolean): void {
  const { high, low, value } = table;
  table.high = new Uint32Array(high.length * 2);
  table.low = new Uint32Array(low.length * 2);
  table.value = values ? new Uint32Array(high.length * 2) : undefined;
  for (let i = 0; i < high.length; i++) {
    if (high[i] === 0) continue;
    const slot = find(table, high[i]!, low[i]!);
    table.high[slot] = high[i]!;
    table.low[slot] = low[i]!;
    if (value) table.value![slot] = value[i]!;
  }
}

/** `stem` + `.ext`, unless the name already ends in that extension (`cat.png` stays). */
export function fileName(stem: string, ext: string): string {
  if (ext === '') return stem;
  return stem.toLowerCase().endsWith(`.${ext.toLowerCase()}`) ? stem : `${stem}.${ext}`;
}
