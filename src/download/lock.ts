/**
 * The lock that keeps two runs out of one output directory, taken in one atomic step.
 *
 * A run writes its lock aside first (`.crew-lock-<token>`, holding its pid and a random
 * token), complete, and then links it into place: link(2) fails if `.crew-lock` exists, so
 * no run can replace another's lock, and no run ever sees a lock without its pid. (Creating
 * `.crew-lock` and writing the pid afterwards let a second run read it empty in between,
 * remove it and take its own: both runs went on in one directory.)
 *
 * A dead run's lock is taken over by whoever first claims it: the claim is another link,
 * `<lock>~<its token>`, that only one run can create. The claimant checks that the lock is
 * still the dead one and renames its own over it; any other run that read the same dead lock
 * finds the claim taken and waits to see the winner's live lock. A claimant that died
 * mid-way leaves a claim whose process is gone: it is taken over the same way, one level up.
 *
 * A lock also holds when its process started (Linux: /proc/<pid>/stat), so a dead run's pid
 * that the system has since given to another process does not keep the lock alive.
 */
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { copyFile, link, lstat, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, startOf } from '../process-start.ts';

/** The lock file: hidden, so no row's name (names.ts drops leading dots) can be it. */
export const LOCK = '.crew-lock';

/** Files a lock attempt leaves only when its process dies mid-way: its own lock, claims. */
const DEBRIS = /^\.crew-lock(?:-[0-9a-f]+)+$|^\.crew-lock(?:~i?[0-9a-f]+)+$/;

/** Whether `name` is a file a lock attempt leaves behind when its process dies mid-way. */
export const isLockDebris = (name: string): boolean => DEBRIS.test(name);

/** Removes the lock-attempt file at `path` if the process that made it is gone. */
export async function removeIfDead(path: string): Promise<void> {
  const holder = await readHolder(path);
  if (holder && !holderAlive(holder)) await rm(path, { force: true });
}

/** How long a claim or an empty lock (being written by a copy) is waited for, at most. */
const PATIENCE_MS = 5_000;
const POLL_MS = 25;

/** A held lock: whether it was taken over from a run that died, and how to release it. */
export interface Lock {
  /** A dead run held it: that run may have left temp files. */
  readonly tookOver: boolean;
  readonly release: () => Promise<void>;
}

/** What a lock file says: the pid that holds it, and the token that tells locks apart. */
interface Holder {
  readonly pid: number | undefined;
  /** When that process started (clock ticks since boot), if the lock says. */
  readonly started: string | undefined;
  /** The token, or for a lock crew did not write this way, its inode. */
  readonly id: string;
  /** Empty: being written by a copy (a file system without hard links) or not crew's. */
  readonly empty: boolean;
  readonly ageMs: number;
}

/**
 * Takes `out`'s lock for this process: refuses (with the other process's id) while another
 * live crew holds it, and takes over a lock whose process is gone (a run killed with -9).
 */
export async function lockOut(out: string): Promise<Lock> {
  const token = randomBytes(8).toString('hex');
  const mine = join(out, `${LOCK}-${token}`);
  const file = await open(mine, 'wx', 0o644);
  try {
    await file.writeFile(`${process.pid} ${token}${stamp(startOf(process.pid))}\n`);
  } catch (error) {
    await file.close();
    await rm(mine, { force: true }); // a full disk: leave nothing behind
    throw error;
  }
  await file.close();
  const path = join(out, LOCK);
  try {
    const tookOver = await acquire(path, mine, token, 0);
    return { tookOver, release: () => releaseIfMine(path, token) };
  } finally {
    await rm(mine, { force: true });
  }
}

/**
 * Puts the lock `mine` at `target`; resolves to whether a dead holder's lock was replaced.
 * `depth` counts claims on claims (each needs a run that died mid-takeover).
 */
async function acquire(
  target: string,
  mine: string,
  token: string,
  depth: number,
): Promise<boolean> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    if (await place(mine, target)) return false;
    const holder = await readHolder(target);
    if (holder === undefined) continue; // released meanwhile: try again
    const beingWritten = holder.empty && holder.ageMs < PATIENCE_MS;
    if (!beingWritten) {
      if (holderAlive(holder)) throw locked(target, holder.pid);
      const outcome = depth < 8 ? await takeOver(target, holder, mine, token, depth) : 'busy';
      if (outcome === 'replaced') return true;
      if (outcome === 'changed') continue;
    }
    // Another run is taking it over, or writing it: its live lock shows up shortly.
    if (Date.now() > deadline) throw locked(target, undefined);
    await sleep(POLL_MS);
  }
}

/**
 * Replaces the dead lock `holder` at `target` with `mine`, if this run is the first to claim
 * it; 'busy' when another run holds the claim, 'changed' when the lock is no longer that one.
 */
async function takeOver(
  target: string,
  holder: Holder,
  mine: string,
  token: string,
  depth: number,
): Promise<'replaced' | 'busy' | 'changed'> {
  const claim = `${target}~${holder.id}`;
  try {
    await acquire(claim, mine, token, depth + 1);
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOCKED') return 'busy';
    throw error;
  }
  try {
    // Only the claimant of a dead lock replaces it, so it cannot change between this look
    // and the rename.
    if ((await readHolder(target))?.id !== holder.id) return 'changed';
    await replace(mine, target);
    return 'replaced';
  } finally {
    await releaseIfMine(claim, token);
  }
}

/** Links `mine` at `target`; false if something is there already. */
async function place(mine: string, target: string): Promise<boolean> {
  try {
    await link(mine, target);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links (FAT, exFAT): an exclusive copy is the next best,
    // and an empty lock a copy is still writing is waited for (readHolder says how old).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
  }
  try {
    await copyFile(mine, target, constants.COPYFILE_EXCL);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return false;
    throw error;
  }
}

/** Renames a fresh link (or copy) of `mine` over `target`: one atomic step. */
async function replace(mine: string, target: string): Promise<void> {
  const aside = `${mine}-${randomBytes(4).toString('hex')}`;
  if (!(await place(mine, aside))) throw new Error(`${aside} exists`);
  try {
    await rename(aside, target);
  } catch (error) {
    await rm(aside, { force: true });
    throw error;
  }
}

/** Removes the lock at `path` if it is still this run's (nobody else's is ever removed). */
async function releaseIfMine(path: string, token: string): Promise<void> {
  const holder = await readHolder(path);
  if (holder?.id === token) await rm(path, { force: true });
}

/** Who holds the lock at `path`; undefined if there is none. */
async function readHolder(path: string): Promise<Holder | undefined> {
  let text = '';
  let info;
  try {
    info = await lstat(path);
    if (info.isFile()) {
      // No link is followed and a FIFO planted there does not hang the run.
      const file = await open(
        path,
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      );
      try {
        const { buffer, bytesRead } = await file.read(Buffer.alloc(64), 0, 64, 0);
        text = buffer.toString('latin1', 0, bytesRead);
      } finally {
        await file.close();
      }
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  const [pidText, token, started] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  const valid = pidText !== '' && Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid;
  return {
    pid: valid ? pid : undefined,
    started: started !== undefined && /^\d{1,20}$/.test(started) ? started : undefined,
    // A lock of crew's own has a token; any other file is told apart by its inode.
    id: token !== undefined && /^[0-9a-f]{16}$/.test(token) ? token : `i${info.ino}`,
    empty: text === '' && info.isFile(),
    ageMs: Date.now() - info.mtimeMs,
  };
}

function locked(path: string, pid: number | undefined): Error {
  return Object.assign(
    new Error(
      pid === undefined
        ? `another crew is taking over ${path}; try again`
        : `another crew (process ${pid}) is downloading into it; if that process is not crew, remove ${path}`,
    ),
    { code: 'ELOCKED' },
  );
}

/** Whether the process that wrote `holder` is running (and is the one that wrote it). */
function holderAlive(holder: Holder): boolean {
  return holder.pid !== undefined && isRunning(holder.pid, holder.started);
}

/** ` <start>` for a lock's text, or nothing where the system does not say. */
const stamp = (started: string | undefined): string => (started === undefined ? '' : ` ${started}`);
