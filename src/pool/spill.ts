/**
 * A child process's big typed arrays reach the parent through a file, not the IPC channel.
 * Through the channel, the parent copied each answer four times into fresh memory: Node's
 * reads joined into one message, V8's deserializer, then tinypool's hop from the child's
 * channel to the pool's MessagePort (a serialize and a deserialize). Fresh memory costs a
 * page fault each 4 KiB (~12 µs on a virtual machine), and the parent, unlike its children,
 * gets no huge pages: a worker's 16 MB run of IPv6 clients cost the parent ~0.2 s of CPU,
 * on a 2-core machine while the other worker still scanned. Through a file it is one copy.
 *
 * The folder is the parent's own (mkdtemp, mode 0700); a child writes a file there with a
 * new name and leaves a marker in its answer, and the parent reads the file back into an
 * array of the kind and length the marker names, then removes it. Where the file cannot be
 * written (a full disk), the array goes through the channel as before.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { isRunning } from '../process-start.ts';

/** Names, for a pool's child, the folder it may leave big arrays in. */
export const SPILL_DIR_ENV = 'CREW_POOL_SPILL';
/** Arrays at least this big go through a file, which costs an open, a write and a removal. */
export const SPILL_BYTES = 1 << 20;
/** The key of a marker that stands for a spilled array in an answer. */
const MARK = '__crewSpilled';
/** Answers are plain data a few levels deep; nothing deeper is looked at. */
const MAX_DEPTH = 8;

const KINDS = {
  Uint8Array,
  Uint16Array,
  Uint32Array,
  Int32Array,
  Float64Array,
} as const;
type Kind = keyof typeof KINDS;
type Spillable = InstanceType<(typeof KINDS)[Kind]>;

interface Marker {
  readonly [MARK]: string;
  readonly kind: Kind;
  readonly length: number;
}

const NAME = /^[0-9a-f]{32}$/;

const PREFIX = 'crew-pool-';
/** `crew-pool-<pid of the crew that made it>-<random>` */
const FOLDER = /^crew-pool-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * A private folder for a pool's children to leave big arrays in, or undefined if none can be
 * made. A crew killed with -9 leaves its folder behind, with the arrays in it at that moment
 * (clients' addresses): the folders of this user's crews that no longer run are removed first.
 */
export function makeSpillDir(): string | undefined {
  // A relative TMPDIR would put the folder wherever crew runs (the cache ignores one too).
  const parent = isAbsolute(tmpdir()) ? tmpdir() : '/tmp';
  removeLeftFolders(parent);
  try {
    return mkdtempSync(join(parent, `${PREFIX}${process.pid}-`));
  } catch {
    return undefined;
  }
}

export function removeSpillDir(dir: string | undefined): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}

/** Removes the folders in `parent` of this user's crews that have ended. */
export function removeLeftFolders(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent).filter((name) => name.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(FOLDER.exec(name)?.[1] ?? NaN);
    if (!Number.isSafeInteger(pid) || pid <= 0 || isRunning(pid, undefined)) continue;
    const path = join(parent, name);
    try {
      const stat = lstatSync(path);
      // Never a link, and never another user's: the temp folder is shared.
      if (stat.isDirectory() && stat.uid === process.getuid?.()) {
        rmSync(path, { recursive: true, force: true });
      }
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/** The array's kind; not for subclasses (a Buffer crosses the channel as a Buffer). */
function kindOf(value: object): Kind | undefined {
  const prototype: unknown = Object.getPrototypeOf(value);
  return (Object.keys(KINDS) as Kind[]).find((kind) => KINDS[kind].prototype === prototype);
}

/**
 * Whether the walk goes into an array: one whose first item is a value (a panel's million
 * clients, its paths) holds no array, as crew's answers go; walking it item by item cost a
 * child 70-140 ms a million. Both sides skip the same arrays (a marker is an object, as the
 * array it stands for was), and an array the walk misses still crosses the channel.
 */
const holdsObjects = (items: readonly unknown[]): boolean =>
  items.length > 0 && typeof items[0] === 'object' && items[0] !== null;

/**
 * In a child: the answer with each big array written to `dir` and a marker in its place.
 * Objects on the way to one are copied; the rest of the answer is passed on as it is. An
 * array the answer holds twice (a `--by` scan's whole that is its one day's run) is written
 * once, and both places get its marker.
 */
export function spill(answer: unknown, dir: string | undefined): unknown {
  return dir === undefined ? answer : spillIn(answer, dir, 0, new Map());
}

function spillIn(
  answer: unknown,
  dir: string,
  depth: number,
  written: Map<ArrayBufferView, unknown>,
): unknown {
  if (typeof answer !== 'object' || answer === null || depth > MAX_DEPTH) return answer;
  if (ArrayBuffer.isView(answer)) {
    if (answer.byteLength < SPILL_BYTES) return answer;
    let marker = written.get(answer);
    if (marker === undefined) written.set(answer, (marker = toFile(answer, dir)));
    return marker;
  }
  if (Array.isArray(answer)) {
    if (!holdsObjects(answer)) return answer;
    let items: unknown[] | undefined;
    for (let i = 0; i < answer.length; i++) {
      const spilled = spillIn(answer[i], dir, depth + 1, written);
      if (spilled !== answer[i]) (items ??= [...(answer as unknown[])])[i] = spilled;
    }
    return items ?? answer;
  }
  if (Object.getPrototypeOf(answer) !== Object.prototype) return answer;
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(answer)) {
    const spilled = spillIn(value, dir, depth + 1, written);
    if (spilled !== value) (copy ??= { ...answer })[key] = spilled;
  }
  return copy ?? answer;
}

function toFile(array: ArrayBufferView, dir: string): unknown {
  const kind = kindOf(array);
  if (kind === undefined) return array;
  const typed = array as Spillable;
  const name = randomBytes(16).toString('hex');
  const path = join(dir, name);
  try {
    writeFileSync(path, typed, { flag: 'wx', mode: 0o600 });
  } catch {
    // A full disk, say: the channel still works, and what the write left is removed.
    rmSync(path, { force: true });
    return array;
  }
  const marker: Marker = { [MARK]: name, kind, length: typed.length };
  return marker;
}

/**
 * In the parent: the answer with each marker replaced by the array it stands for; markers
 * of one file (an array the child's answer held twice) get the one array, read once.
 */
export function unspill(answer: unknown, dir: string | undefined): unknown {
  return dir === undefined ? answer : unspillIn(answer, dir, 0, new Map());
}

function unspillIn(
  answer: unknown,
  dir: string,
  depth: number,
  read: Map<string, { readonly marker: Marker; readonly array: Spillable }>,
): unknown {
  if (typeof answer !== 'object' || answer === null || depth > MAX_DEPTH) return answer;
  if (ArrayBuffer.isView(answer)) return answer;
  if (Array.isArray(answer)) {
    if (!holdsObjects(answer)) return answer;
    for (let i = 0; i < answer.length; i++) answer[i] = unspillIn(answer[i], dir, depth + 1, read);
    return answer;
  }
  if (Object.hasOwn(answer, MARK)) {
    const marker = answer as Marker;
    const before = read.get(marker[MARK]);
    if (before === undefined) {
      const array = readBack(marker, dir);
      read.set(marker[MARK], { marker, array });
      return array;
    }
    if (before.marker.kind !== marker.kind || before.marker.length !== marker.length) {
      throw new Error('a worker answered with a malformed marker for a spilled array');
    }
    return before.array;
  }
  const record = answer as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = unspillIn(record[key], dir, depth + 1, read);
  return answer;
}

/**
 * What a spilled array is read through, kept for every answer. Read straight into the
 * array's fresh memory, each page was faulted in twice on a virtual machine: by the kernel's
 * copy, then again at the first look from JavaScript (a 16 MB run: 50 ms to read, then 21 ms
 * for the union's first pass). Copied from here, the fault happens once, in the copy, and
 * the first pass takes 0.2 ms.
 */
const readWindow = Buffer.allocUnsafeSlow(256 * 1024);

/** The array a marker stands for, read from its file, which is then removed. */
function readBack(marker: Marker, dir: string): Spillable {
  const { [MARK]: name, kind, length } = marker;
  if (
    typeof name !== 'string' ||
    !NAME.test(name) ||
    typeof kind !== 'string' ||
    !Object.hasOwn(KINDS, kind) ||
    !Number.isSafeInteger(length) ||
    length < 0
  ) {
    throw new Error('a worker answered with a malformed marker for a spilled array');
  }
  const Kind = KINDS[kind];
  const path = join(dir, name);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const bytes = length * Kind.BYTES_PER_ELEMENT;
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size !== bytes) {
      throw new Error(`a worker's spilled array is ${stat.size} bytes, not ${bytes}`);
    }
    const array = new Kind(length);
    const view = new Uint8Array(array.buffer);
    for (let at = 0; at < bytes;) {
      const read = readSync(fd, readWindow, 0, Math.min(readWindow.length, bytes - at), null);
      if (read === 0) throw new Error("a worker's spilled array ended early");
      view.set(read === readWindow.length ? readWindow : readWindow.subarray(0, read), at);
      at += read;
    }
    return array;
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
}
