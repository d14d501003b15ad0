/**
 * The I/O side of logstats: finding the files, and streaming a file, a byte range of one,
 * a .gz, or stdin through a LineTally.
 */
import { isUtf8 } from 'node:buffer';
import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  open as openFd,
  openSync,
  readSync,
  type Dirent,
  type Stats,
} from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { addAbortSignal, type Readable } from 'node:stream';
import { reasonOf } from '../errors.ts';
import { directivesOf, type LineRules } from './formats/index.ts';
import { MAX_KEPT_LINE } from './carried-line.ts';
import { loadCrawlerCheck } from './crawlers.ts';
import { lineEnd } from './line-end.ts';
import { INPUT_BYTES } from './line-scan.ts';
import { tableBytesInUse } from './scratch.ts';
import { LineTally, type TallyResult } from './tally.ts';
import type { ScanRange } from './split.ts';
import { comparePaths, pathText, type FileName } from './file-names.ts';

/** A log to count: where it is, and the name to report it under. */
export interface LogInput {
  /** A Buffer when the name is not UTF-8: a string would lose its bytes. */
  readonly path: string | Buffer;
  readonly name: string;
}

/** An input that could not even be listed (a missing path, an unreadable directory). */
export interface ListingError {
  readonly name: string;
  readonly error: string;
}

/**
 * Expands the command line into files. A directory means its regular, non-hidden files,
 * sorted by name (descending into subdirectories with `recursive`), reported relative to it
 * when it is the only input; files named one by one keep the path as given. Names are read
 * as bytes, so one that is not UTF-8 is still opened. A directory that cannot be read is
 * reported and the rest still listed. Symbolic links are followed, each file and directory
 * counted once: a link to a file or directory already listed (a loop, `current.log` beside
 * its target) is skipped; a link that leads nowhere is reported.
 */
export async function listInputs(
  paths: readonly (string | Buffer)[],
  recursive: boolean,
  signal?: AbortSignal,
): Promise<{ files: LogInput[]; errors: ListingError[] }> {
  const files: LogInput[] = [];
  const errors: ListingError[] = [];
  for (const path of paths) {
    if (signal?.aborted) break;
    const shown = pathText(path);
    if (path === '-') {
      files.push({ path, name: '-' });
      continue;
    }
    try {
      const info = await stat(path);
      if (!info.isDirectory()) {
        files.push({ path, name: shown });
        continue;
      }
      const found = await walk(path, info, recursive, signal);
      const name = (parts: readonly FileName[]): string => {
        const inside = parts.map(pathText).join('/');
        return parts.length === 0 ? shown : paths.length === 1 ? inside : join(shown, inside);
      };
      for (const { path, parts } of found.files) {
        const text = typeof path === 'string' || !isUtf8(path) ? path : path.toString();
        files.push({ path: text, name: name(parts) });
      }
      for (const e of found.errors) errors.push({ name: name(e.parts), error: e.error });
    } catch (error) {
      errors.push({ name: shown, error: reasonOf(error) });
    }
  }
  return { files, errors };
}

interface Found {
  /** Text when every name on the way is UTF-8; bytes when one is not. */
  readonly path: string | Buffer;
  /** The names from the listed directory down. */
  readonly parts: readonly FileName[];
}

interface Listing {
  readonly recursive: boolean;
  /** A Ctrl-C: the walk stops where it is (the run stops before its scan). */
  readonly signal: AbortSignal | undefined;
  readonly files: Found[];
  readonly errors: (Found & { readonly error: string })[];
  /** Directories walked, by device and inode: none twice, whatever the links. */
  readonly dirs: Set<string>;
  readonly links: Found[];
}

const identity = (info: { dev: number; ino: number }): string => `${info.dev}:${info.ino}`;

/** A path's identity, or undefined if it cannot be stat-ed (reading it will say why). */
const identityOf = (path: string | Buffer): Promise<string | undefined> =>
  stat(path).then(identity, () => undefined);

/**
 * Lists a directory tree. Links wait until every real directory is walked, so a link into
 * the tree finds its target already counted (and under its real name) and is skipped.
 */
async function walk(
  dir: string | Buffer,
  info: { dev: number; ino: number },
  recursive: boolean,
  signal: AbortSignal | undefined,
): Promise<Listing> {
  const listing: Listing = {
    recursive,
    signal,
    files: [],
    errors: [],
    dirs: new Set(),
    links: [],
  };
  listing.dirs.add(identity(info));
  // Without trailing slashes (but "/" stays "/"): listed paths are joined with one.
  let end = dir.length;
  while (end > 1 && dir[end - 1] === (typeof dir === 'string' ? '/' : 0x2f)) end--;
  await walkDir(typeof dir === 'string' ? dir.slice(0, end) : dir.subarray(0, end), [], listing);
  const fileIds = new Set<string>();
  if (listing.links.length > 0) {
    for (const file of listing.files) fileIds.add((await identityOf(file.path)) ?? '');
  }
  // The queue grows as followed links lead to more directories.
  for (let i = 0; i < listing.links.length && !signal?.aborted; i++) {
    const link = listing.links[i]!;
    let target: Awaited<ReturnType<typeof stat>>;
    try {
      target = await stat(link.path);
    } catch (error) {
      listing.errors.push({ ...link, error: `broken link: ${reasonOf(error)}` });
      continue;
    }
    const id = identity(target);
    if (target.isFile() && !fileIds.has(id)) {
      fileIds.add(id);
      listing.files.push(link);
    } else if (target.isDirectory() && recursive && !listing.dirs.has(id)) {
      listing.dirs.add(id);
      await walkDir(link.path, link.parts, listing);
    }
  }
  if (signal?.aborted) return listing; // not worth sorting: nothing will be read
  listing.files.sort((a, b) => comparePaths(a.parts, b.parts));
  listing.errors.sort((a, b) => comparePaths(a.parts, b.parts));
  return listing;
}

const SLASH = Buffer.from('/');

/**
 * `dir/name`: text while both are, else bytes. `dirSlash` is `dir/`, made once for all of a
 * directory's entries: a path is then one string made of two, not two (~32 bytes a file).
 */
const joinName = (dir: string | Buffer, dirSlash: string, name: FileName): string | Buffer =>
  typeof dir === 'string' && typeof name === 'string'
    ? dirSlash + name
    : Buffer.concat([Buffer.from(dir), SLASH, Buffer.from(name)]);

/**
 * A directory's entries, their names as text; as bytes only where one is not UTF-8 (its
 * text would hold U+FFFD in place of the bytes that could not be decoded). Bytes cost a
 * Buffer per name, several times the memory and time of text for 100,000 files.
 */
async function entriesOf(dir: string | Buffer): Promise<Dirent<string>[] | Dirent<Buffer>[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  if (!entries.some((entry) => entry.name.includes('\ufffd'))) return entries;
  return readdir(dir, { withFileTypes: true, encoding: 'buffer' });
}

async function walkDir(
  dir: string | Buffer,
  parts: readonly FileName[],
  listing: Listing,
): Promise<void> {
  let entries: Dirent<string>[] | Dirent<Buffer>[];
  try {
    entries = await entriesOf(dir);
  } catch (error) {
    listing.errors.push({ path: dir, parts, error: reasonOf(error) });
    return;
  }
  const dirSlash = typeof dir === 'string' ? `${dir}/` : '';
  for (const entry of entries) {
    if (listing.signal?.aborted) return;
    const name = entry.name;
    // Hidden: a name starting with '.'.
    if ((typeof name === 'string' ? name.charCodeAt(0) : name[0]) === 0x2e) continue;
    const found = { path: joinName(dir, dirSlash, name), parts: [...parts, name] };
    if (entry.isSymbolicLink()) listing.links.push(found);
    else if (entry.isFile()) listing.files.push(found);
    else if (entry.isDirectory() && listing.recursive) {
      listing.dirs.add((await identityOf(found.path)) ?? '');
      await walkDir(found.path, found.parts, listing);
    }
  }
}

/** Reads between two turns of the event loop (8 MiB). */
const YIELD_EVERY = 16;

/**
 * How much a range's address tables may grow before its scan stops early (scanRange's
 * `budget`): 6 million distinct IPv4 or 1.5 million IPv6 clients. A run of the rest costs the
 * parent a merge; a bigger table costs every worker memory, and misses the cache more.
 */
export const RANGE_TABLE_BUDGET = 32 * 2 ** 20;

/** What a range's scan found; `next` when it stopped early (see scanRange's `budget`). */
export interface RangeResult extends TallyResult {
  /** Where the rest of the range starts (a line start): it is still to be counted. */
  readonly next?: number;
}

/**
 * Counts the lines that start in `[range.start, range.end)`: the range is first widened to
 * line starts (the reader of the previous range finishes a line that crosses the boundary),
 * so ranges cut anywhere still count every line exactly once.
 *
 * The file may change while it is read. Appended to (a live access log), it is counted as it
 * was when the count was planned: the lines that start before `range.end`, whole. Cut shorter
 * (truncated, or rewritten shorter), its counts would match neither version: the scan fails
 * when the file is shorter than its range at the start, at any read, or at the end.
 *
 * `budget`: once the address tables this scan grew take more bytes than that (millions of
 * distinct clients), it stops at the next line start and says where the rest begins, so a
 * worker's memory stays bounded whatever the log; the rest is another task.
 */
export async function scanRange(
  range: ScanRange,
  top: boolean,
  rules?: LineRules,
  signal?: AbortSignal,
  budget = Infinity,
): Promise<RangeResult> {
  if (rules?.filter?.ignoreCrawlers === true) await loadCrawlerCheck();
  if (range.gzip) return scanGzipFile(range.path, top, rules);
  // Synchronous opens and stats, as the reads below: a small file is a few system calls, and
  // each awaited one was a trip through libuv's thread pool that cost more than the scan.
  const fd = openSync(range.path, PLANNED_FILE);
  let before = 0;
  let tally: LineTally | undefined;
  try {
    const end = range.end;
    const room = (): number => budget - (tableBytesInUse() - before);
    if (range.start === 0 && end < INPUT_BYTES) {
      // A small file whole, as most of a batch's are: one read of a byte more than planned
      // says whether it still has the planned size, which two fstats asked before (two of
      // the five system calls each of 100,000 one-line files cost). One read sees one version.
      tally = new LineTally(top, rules, end, room);
      before = tableBytesInUse(); // as below
      const bytesRead = readSync(fd, tally.input, 0, end + 1, 0);
      if (bytesRead === end) {
        if (end > 0) tally.pushInput(end);
        tally.end();
        const result = finish(tally);
        tally = undefined;
        return result;
      }
      // Changed since it was planned: the way below tells grown from cut shorter.
      tally.release();
      tally = undefined;
    }
    const size = fstatSync(fd).size;
    if (size < end) throw truncated(end, size);
    // The search for the first line start stops at the range's end: in a file of one huge
    // line, every range but the first is then empty at the cost of its own bytes, instead of
    // each reading on to the end of the file.
    const from = range.start === 0 ? 0 : lineStartAtOrAfter(fd, range.start, end);
    const to = from >= end ? from : end === size ? size : lineStartAtOrAfter(fd, end);
    tally = new LineTally(top, rules, to - from, room);
    // What the tables grow by: an IPv4 table sized up front for the range's lines is not
    // touched in a log of IPv6 clients, and counted, it stopped them at half their room.
    before = tableBytesInUse();
    const directives = from > 0 && from < to && rules ? directivesOf(rules.format) : [];
    if (directives.length > 0) {
      const header = lastLineStarting(fd, from, directives);
      if (header) tally.header(header);
    }
    const counting = tally;
    const full = (): boolean => room() < 0 || counting.full;
    const stop = await readInto(tally, fd, from, to, full, signal);
    // Cut after the last read: another range of the file may have read the shorter version.
    const now = fstatSync(fd).size;
    if (now < stop) throw truncated(stop, now);
    tally.end();
    const result = finish(tally);
    tally = undefined;
    return stop < to ? { ...result, next: stop } : result;
  } finally {
    tally?.release(); // failed or interrupted: its memory goes to the next scan all the same
    closeSync(fd);
  }
}

/**
 * Reads `[from, to)` of `fd` into `tally`; once `full()`, only on to the next line end.
 * Returns where it stopped: `to`, or the line start after that line end.
 */
async function readInto(
  tally: LineTally,
  fd: number,
  from: number,
  to: number,
  full: () => boolean,
  signal?: AbortSignal,
): Promise<number> {
  // Read straight into the scanner's memory (no copy, no garbage per chunk), and
  // synchronously: an awaited read hands each 512 KiB to libuv's thread pool and back, and
  // two workers' readers then wanted more than the machine's two cores. Reading ahead on
  // that pool while scanning (tried) was slower than this on 1 worker and on 2.
  const input = tally.input;
  let stopping = false;
  for (let position = from, reads = 0; position < to; reads++) {
    const bytesRead = readSync(fd, input, 0, Math.min(INPUT_BYTES, to - position), position);
    // Where it ended: a file's size now, or where its bytes did (sysfs files all say 4096).
    if (bytesRead === 0) throw truncated(to, Math.min(position, fstatSync(fd).size));
    // Stopping: this read up to its first line end finishes the line begun before it (a CR of
    // a CRLF ends it too: the LF left over is an empty line, which counts for nothing).
    const cut = stopping ? lineEnd(input, 0, bytesRead) + 1 : bytesRead + 1;
    if (cut <= bytesRead && position + cut < to) {
      tally.pushInput(cut);
      return position + cut;
    }
    position += bytesRead;
    tally.pushInput(bytesRead);
    stopping ||= full();
    // Now and then let the event loop run: Ctrl-C inline (`signal`), the orphan guard in a
    // child process.
    if (reads % YIELD_EVERY === YIELD_EVERY - 1) {
      await yieldToEventLoop();
      signal?.throwIfAborted();
    }
  }
  return to;
}

/** Why a file's counts are not given: it became shorter than the part being counted. */
function truncated(counting: number, now: number): Error {
  const bytes = (n: number): string => n.toLocaleString('en-US');
  return new Error(
    `truncated while read (it ended at byte ${bytes(now)} of the ${bytes(counting)} being counted)`,
  );
}

/**
 * True for an input only this process can read, to its end, as a stream: one that is not
 * a regular file (a FIFO, a terminal, a device: their size says nothing), or a name for one
 * of this process's own descriptors (/dev/stdin, /dev/fd/3), which a worker would open as
 * its own. Such inputs are read here, like `-`.
 */
export function readHere(path: string | Buffer, info: Stats): boolean {
  if (!info.isFile()) return true;
  if (typeof path !== 'string') return false;
  // Resolving costs more than the rest for a small file: only a path or working directory
  // that mentions one of these names can resolve to one.
  if (!OWN_PARTS.test(path) && !OWN_PARTS.test(process.cwd())) return false;
  return /^\/(dev\/(std(in|out|err)$|fd\/)|proc\/(self|thread-self)\/)/.test(resolve(path));
}

/** What any name for one of this process's own descriptors contains. */
const OWN_PARTS = /std|fd|self/;

/**
 * Counts `-` (stdin) or an input that `readHere` chose, a .gz decompressed on the way.
 * `signal` stops the read at once, whatever the input waits on (see `openHere`).
 */
export async function scanHere(
  input: LogInput,
  top: boolean,
  rules?: LineRules,
  signal?: AbortSignal,
): Promise<TallyResult> {
  if (rules?.filter?.ignoreCrawlers === true) await loadCrawlerCheck();
  const { path } = input;
  // A name for one of our descriptors is read from the descriptor: a socket (what Node
  // gives a child for stdin) cannot be opened by name at all.
  const own =
    typeof path === 'string'
      ? /^\/(?:dev\/(stdin)|dev\/fd\/(\d+)|proc\/(?:self|thread-self)\/fd\/(\d+))$/.exec(
          resolve(path),
        )
      : null;
  const fd = own ? Number(own[2] ?? own[3] ?? 0) : undefined;
  const stream =
    path === '-' || fd === 0
      ? process.stdin
      : fd === undefined
        ? await openHere(path)
        : createReadStream(path, { fd, autoClose: false });
  if (signal) addAbortSignal(signal, stream);
  if (path === '-' || !/\.gz$/i.test(input.name)) return scanStream(stream, top, rules);
  return scanGzipStream(stream, top, rules);
}

/**
 * A stream of a named input that is not a regular file. A FIFO is opened without blocking
 * and read as a pipe (as stdin is): a file stream would wait for its writer, and then for
 * each read, on a thread of libuv's pool where Ctrl-C cannot end it, and destroying the
 * stream waits for that read. Opened so, a FIFO still waits for its first writer (Linux
 * reports its end only once a writer has come and gone) and ends when the last one leaves.
 * A device (/dev/zero) is a file stream: its reads return at once.
 */
async function openHere(path: string | Buffer): Promise<Readable> {
  if (!(await stat(path)).isFIFO()) return createReadStream(path);
  // A bare descriptor, not a FileHandle (which would close it when collected): the socket
  // owns it, and closes it when the stream ends or is destroyed.
  const fd = await promisify(openFd)(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    return new Socket({ fd, readable: true, writable: false });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Counts a .gz file. As gzip(1) does, bytes after the last member that do not start another
 * one ("trailing garbage") end the input with a warning and all before them counts; a member
 * that is corrupt or cut short fails. Node's Gunzip (fast) fails on trailing garbage and
 * drops the end of the data before it, so such a file is read again member by member.
 */
async function scanGzipFile(
  path: string | Buffer,
  top: boolean,
  rules?: LineRules,
): Promise<TallyResult> {
  // Loaded here: most logs are plain text, and zlib costs every worker's start-up.
  const { createGunzip } = await import('node:zlib');
  const tally = new LineTally(top, rules);
  const raw = plannedStream(path);
  try {
    await feed(raw.pipe(createGunzip()), tally);
    return finish(tally);
  } catch (error) {
    // zlib's words for a member header it cannot read, which after a first member that
    // read well (the file starts with gzip's magic) means a header that is not one.
    const message = error instanceof Error ? error.message : '';
    if (message !== 'incorrect header check' || !(await startsWithGzipMagic(path))) throw error;
  } finally {
    raw.destroy();
  }
  return scanGzipStream(plannedStream(path), top, rules);
}

/**
 * How a file planned as a regular one is opened. Non-blocking: a FIFO put in its place since
 * would otherwise hold the open, and so its worker and the whole run, until something opened
 * it to write. Now the open returns, and the first read fails (a FIFO has no positions, and
 * a non-blocking read with nothing written says so), and so does that file.
 */
const PLANNED_FILE = constants.O_RDONLY | constants.O_NONBLOCK;

/** A stream of a file planned as regular, opened as PLANNED_FILE says. */
const plannedStream = (path: string | Buffer): Readable =>
  createReadStream(path, { fd: openSync(path, PLANNED_FILE) });

async function startsWithGzipMagic(path: string | Buffer): Promise<boolean> {
  const handle = await open(path, PLANNED_FILE);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** Counts a gzip stream member by member (see scanGzipFile). */
async function scanGzipStream(
  raw: Readable,
  top: boolean,
  rules?: LineRules,
): Promise<TallyResult> {
  const { gunzipMembers } = await import('./gunzip.ts');
  const tally = new LineTally(top, rules);
  try {
    const members = gunzipMembers(raw as AsyncIterable<Uint8Array>);
    for (;;) {
      const next = await members.next();
      if (next.done) {
        tally.end();
        const result = finish(tally);
        return next.value ? { ...result, warning: 'trailing garbage ignored' } : result;
      }
      tally.push(next.value);
    }
  } finally {
    raw.destroy();
  }
}

/** Counts a stream (stdin: `zcat day.log.gz | crew logstats -` for compressed input). */
export async function scanStream(
  stream: Readable,
  top: boolean,
  rules?: LineRules,
): Promise<TallyResult> {
  if (rules?.filter?.ignoreCrawlers === true) await loadCrawlerCheck();
  const tally = new LineTally(top, rules);
  await feed(stream, tally);
  return finish(tally);
}

function finish(tally: LineTally): TallyResult {
  const result = tally.toResult();
  tally.release();
  return result;
}

async function feed(stream: AsyncIterable<unknown>, tally: LineTally): Promise<void> {
  for await (const chunk of stream) tally.push(chunk as Uint8Array);
  tally.end();
}

/**
 * The first offset in `[offset, limit)` where a line starts (just after a "\n" or "\r"), or
 * `limit` (by default the end of the file) when none does.
 */
function lineStartAtOrAfter(fd: number, offset: number, limit = Infinity): number {
  const buffer = Buffer.allocUnsafe(64 * 1024);
  // A line starts at `offset` exactly when the byte before it ends a line.
  let position = offset - 1;
  while (position + 1 < limit) {
    const want = Math.min(buffer.length, limit - 1 - position);
    const bytesRead = readSync(fd, buffer, 0, want, position);
    if (bytesRead === 0) return position;
    const nl = lineEnd(buffer, 0, bytesRead);
    if (nl < bytesRead) return position + nl + 1;
    position += bytesRead;
  }
  return limit;
}

/** How much of a file is read at a time looking back for a header line. */
const LOOK_BACK_BYTES = 1 << 20;

/**
 * The last line before `before` (a line start) that starts with one of `prefixes` (a W3C
 * `#Fields:`), up to MAX_KEPT_LINE of it; undefined when no line before does. Reads the file
 * backwards from `before` in big pieces until it finds one: as far back as the header in
 * effect, at the speed of reading the file (the search itself is far faster).
 */
export function lastLineStarting(
  fd: number,
  before: number,
  prefixes: readonly string[],
): Uint8Array | undefined {
  const needles = [...new Set(prefixes)].map((prefix) => Buffer.from(prefix));
  const overlap = Math.max(...needles.map((needle) => needle.length)) - 1;
  const buffer = Buffer.allocUnsafe(LOOK_BACK_BYTES + overlap);
  const byte = Buffer.alloc(1);
  for (let hi = before; hi > 0;) {
    const lo = Math.max(0, hi - LOOK_BACK_BYTES);
    // Overlapping the piece after it, so a prefix cut by the pieces' boundary is found.
    const length = readSync(fd, buffer, 0, Math.min(before, hi + overlap) - lo, lo);
    const piece = buffer.subarray(0, length);
    let found = -1;
    for (const needle of needles) {
      // Backwards, a search for one byte runs ~6x faster than for the whole prefix: look for
      // its first byte (a `#`, rare in a log), then compare the rest there.
      const first = needle[0]!;
      for (let at = piece.lastIndexOf(first); at > found; at = piece.lastIndexOf(first, at - 1)) {
        const previous =
          at > 0 ? piece[at - 1] : lo === 0 ? 0x0a : (readSync(fd, byte, 0, 1, lo - 1), byte[0]);
        if ((previous === 0x0a || previous === 0x0d) && startsWithAt(piece, at, needle)) {
          found = at;
          break;
        }
        if (at === 0) break;
      }
    }
    if (found >= 0) return lineAt(fd, lo + found, before);
    hi = lo;
  }
  return undefined;
}

/** Whether `piece` holds `needle` at `at` (whole: a needle cut by the piece's end does not). */
function startsWithAt(piece: Buffer, at: number, needle: Buffer): boolean {
  return (
    at + needle.length <= piece.length &&
    piece.compare(needle, 0, needle.length, at, at + needle.length) === 0
  );
}

/** The line that starts at `start`, read up to its end, `limit`, or MAX_KEPT_LINE. */
function lineAt(fd: number, start: number, limit: number): Uint8Array {
  const line = Buffer.allocUnsafe(Math.min(MAX_KEPT_LINE, limit - start));
  const length = readSync(fd, line, 0, line.length, start);
  return line.subarray(0, lineEnd(line, 0, length));
}
