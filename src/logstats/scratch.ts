/**
 * Memory kept for the next scan in this process. Fresh memory costs a page fault per 4 KiB
 * the first time it is touched, and on virtual machines a fault can cost 20 µs: a new 4 MiB
 * table per file was a tenth of the scan. A worker scans file after file, so it keeps its
 * tables, and clearing a table it has already touched is a fast memset.
 *
 * It also counts the big tables out in use, which is what a scan's memory grows with: a
 * range's scan stops early (read.ts) once they pass its budget.
 */

/** Tables given back, by length; at most this many bytes of them are kept. */
const KEEP_BYTES = 64 * 2 ** 20;
/** Tables of at least this many entries count as in use (the small ones are noise). */
const COUNTED_SLOTS = 1 << 16;
const tables = new Map<number, Uint32Array[]>();
/** Kept tables never written to: still zero, and (if never read either) not yet in memory. */
const untouched = new WeakSet<Uint32Array>();
let keptBytes = 0;
let usedBytes = 0;

/** A zeroed table of exactly `slots` entries. */
export function takeTable(slots: number): Uint32Array {
  if (slots >= COUNTED_SLOTS) usedBytes += slots * 4;
  const table = tables.get(slots)?.pop();
  if (!table) return new Uint32Array(slots);
  keptBytes -= table.byteLength;
  // Clearing an untouched table would bring every page of it in: an IPv4 table sized for a
  // big range of IPv6 clients, say.
  if (untouched.delete(table)) return table;
  return table.fill(0);
}

/**
 * Keeps a table that is no longer used for the next `takeTable` of its size; `unwritten`
 * when nothing was ever written to it.
 */
export function giveTable(table: Uint32Array, unwritten = false): void {
  if (table.length >= COUNTED_SLOTS) usedBytes -= table.byteLength;
  if (keptBytes + table.byteLength > KEEP_BYTES) return;
  const free = tables.get(table.length) ?? [];
  free.push(table);
  tables.set(table.length, free);
  keptBytes += table.byteLength;
  if (unwritten) untouched.add(table);
}

/** Bytes of big tables taken and not given back in this thread: the sets' memory. */
export function tableBytesInUse(): number {
  return usedBytes;
}
