import { readdirSync, readFileSync } from 'node:fs';

/**
 * Room for workers under the open-files limit (`ulimit -n`). A worker thread holds its own
 * event loop's descriptors in this process, and a child process holds its stdio and IPC
 * pipes here; past the limit, Node cannot start one and tinypool crashed crew with a
 * TypeError (or an unhandled spawn error) instead of saying why. So the pool counts first.
 */

/** What this process may open and has open, as Linux's /proc says; undefined elsewhere. */
export interface OpenFiles {
  /** The soft limit (`ulimit -n`). */
  readonly limit: number;
  /** Descriptors open now. */
  readonly open: number;
}

/**
 * Descriptors one worker costs this process, measured on Node 24: a thread's event loop
 * (epoll, io_uring, eventfd, a pipe pair), and two for what its tasks open here (a download's
 * socket and body file, a log file): filling the room with threads left a download none;
 * a child's stdin, stdout, stderr and IPC channel (its tasks' files are its own).
 */
const PER_WORKER = { thread: 7, process: 4 } as const;

/**
 * Descriptors needed only while workers start, or kept for the run's own files (a file a
 * task reads, the report): starting a child holds both ends of its pipes and libuv's error
 * pipe at once. A run that opens more than this later still fails with EMFILE, which crew
 * then words as a limit to raise (errors.ts).
 */
const OVERHEAD = { thread: 2, process: 5 } as const;

/** This process's open-files limit and count, or undefined where /proc cannot say. */
export function openFiles(): OpenFiles | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits)?.[1];
    if (soft === undefined || soft === 'unlimited') return undefined;
    // The listing's own descriptor is open while it is read: not one of ours.
    const open = readdirSync('/proc/self/fd').length - 1;
    return { limit: Number(soft), open };
  } catch {
    return undefined;
  }
}

/**
 * How many of `wanted` workers fit under the limit, counting `claimed` descriptors already
 * promised to other pools of this process (their workers may not have started yet). 0 when
 * not even one fits.
 */
export function workersWithin(
  files: OpenFiles,
  runtime: 'thread' | 'process',
  wanted: number,
  claimed: number,
): number {
  const room = files.limit - files.open - claimed - OVERHEAD[runtime];
  return Math.max(0, Math.min(wanted, Math.floor(room / PER_WORKER[runtime])));
}

/** Descriptors `workers` workers of `runtime` hold once started. */
export function descriptorsOf(runtime: 'thread' | 'process', workers: number): number {
  return PER_WORKER[runtime] * workers;
}

/** Why no worker can start: the limit, and the ways out. */
export class TooManyOpenFiles extends Error {
  override name = 'TooManyOpenFiles';
  /** The soft limit (`ulimit -n`) that left no room. */
  readonly limit: number;
  constructor(limit: number, runtime: 'thread' | 'process') {
    super(
      `too many open files for even one worker ${runtime} (ulimit -n ${limit}): ` +
        'raise it (ulimit -n 1024), or run tasks here with --runtime inline',
    );
    this.limit = limit;
  }
}
