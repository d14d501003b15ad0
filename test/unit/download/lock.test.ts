import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { lockOut, LOCK } from '../../../src/download/lock.ts';
import { removeLeftovers } from '../../../src/download/store.ts';

let dir: string;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-lock-'));
  out = join(dir, 'out');
  await mkdir(out);
  return () => rm(dir, { recursive: true, force: true });
});

/** The id of a process that has exited (as a run killed with -9 leaves in its lock). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid!;
}

/** A live process that is not this one, and how to end it. */
function liveProcess(): ChildProcess {
  return spawn('sleep', ['30']);
}

const ownLock = new RegExp(`^${process.pid} [0-9a-f]{16} \\d+\n$`);

/** When process `pid` started, as its lock says it (field 22 of /proc/<pid>/stat). */
async function startOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe('lockOut', () => {
  it('writes its pid and token, complete, and leaves nothing else behind', async () => {
    const lock = await lockOut(out);
    expect(lock.tookOver).toBe(false);
    expect(await readdir(out)).toEqual([LOCK]);
    expect(await readFile(join(out, LOCK), 'utf8')).toMatch(ownLock);
    await lock.release();
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses while a live process holds it; takes over once that process is gone', async () => {
    const other = liveProcess();
    // As an older crew wrote it (a pid alone) and as this one does (pid and token).
    for (const text of [`${other.pid}\n`, `${other.pid} 0123456789abcdef\n`]) {
      await writeFile(join(out, LOCK), text);
      await expect(lockOut(out)).rejects.toThrow(`another crew (process ${other.pid})`);
      expect(await readFile(join(out, LOCK), 'utf8')).toBe(text);
    }
    other.kill('SIGKILL');
    await once(other, 'exit');
    const lock = await lockOut(out);
    expect(lock.tookOver).toBe(true);
    expect(await readFile(join(out, LOCK), 'utf8')).toMatch(ownLock);
    await lock.release();
    expect(await readdir(out)).toEqual([]);
    // A lock released by its run is no takeover: that run left nothing to search for.
    const fresh = await lockOut(out);
    expect(fresh.tookOver).toBe(false);
    await fresh.release();
  });

  it('takes over a lock whose pid now belongs to a process that started later', async () => {
    const other = liveProcess();
    try {
      const started = await startOf(other.pid!);
      // The pid's own start: the holder is alive.
      await writeFile(join(out, LOCK), `${other.pid} 0123456789abcdef ${started}\n`);
      await expect(lockOut(out)).rejects.toThrow(`another crew (process ${other.pid})`);
      // Another start: that run died and its pid was given to this process since.
      await writeFile(join(out, LOCK), `${other.pid} 0123456789abcdef ${Number(started) - 1}\n`);
      const lock = await lockOut(out);
      expect(lock.tookOver).toBe(true);
      expect(await readFile(join(out, LOCK), 'utf8')).toMatch(ownLock);
      await lock.release();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over the lock of a run that exited but was not reaped yet (a zombie)', async () => {
    // sh starts a child that exits after 0.2 s, by when sh is a sleep that never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 30']);
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const zombie = Number(line.toString().trim());
      const state = async () => {
        const stat = await readFile(`/proc/${zombie}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      };
      for (let i = 0; i < 100 && (await state()) !== 'Z'; i++) await sleep(20);
      expect(await state()).toBe('Z');
      expect(() => process.kill(zombie, 0)).not.toThrow(); // it still answers a signal
      await writeFile(join(out, LOCK), `${zombie}\n`);
      const lock = await lockOut(out);
      expect(lock.tookOver).toBe(true);
      await lock.release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('waits for a run that claimed a dead lock, then refuses: its lock is live', async () => {
    const dead = `${await deadPid()} 00000000000000aa\n`;
    await writeFile(join(out, LOCK), dead);
    const claimant = liveProcess();
    try {
      const claim = `${claimant.pid} 00000000000000bb\n`;
      await writeFile(join(out, `${LOCK}~00000000000000aa`), claim);
      const taking = lockOut(out);
      await sleep(300);
      // The claimant puts its lock in place (and drops its claim), as lockOut does.
      await writeFile(join(out, `${LOCK}.next`), claim);
      await import('node:fs/promises').then(({ rename }) =>
        rename(join(out, `${LOCK}.next`), join(out, LOCK)),
      );
      await rm(join(out, `${LOCK}~00000000000000aa`));
      await expect(taking).rejects.toThrow(`another crew (process ${claimant.pid})`);
      expect(await readFile(join(out, LOCK), 'utf8')).toBe(claim);
    } finally {
      claimant.kill('SIGKILL');
    }
  });

  it('takes over a dead lock whose claimant died mid-way, and clears what they left', async () => {
    await writeFile(join(out, LOCK), `${await deadPid()} 00000000000000aa\n`);
    const gone = `${await deadPid()} 00000000000000bb\n`;
    await writeFile(join(out, `${LOCK}~00000000000000aa`), gone);
    await writeFile(join(out, `${LOCK}-00000000000000bb`), gone);
    // A run that is starting right now: its file is kept.
    const starting = liveProcess();
    try {
      const live = `${starting.pid} 00000000000000cc\n`;
      await writeFile(join(out, `${LOCK}-00000000000000cc`), live);
      const lock = await lockOut(out);
      expect(lock.tookOver).toBe(true);
      expect(await readFile(join(out, LOCK), 'utf8')).toMatch(ownLock);
      expect((await removeLeftovers(out)).removed).toBe(0);
      expect((await readdir(out)).sort()).toEqual([LOCK, `${LOCK}-00000000000000cc`]);
      await lock.release();
    } finally {
      starting.kill('SIGKILL');
    }
  });

  it('waits for an empty lock being written, and takes over one that stays empty', async () => {
    await writeFile(join(out, LOCK), '');
    const began = Date.now();
    const lock = await lockOut(out);
    expect(Date.now() - began).toBeGreaterThanOrEqual(4_000);
    expect(lock.tookOver).toBe(true);
    await lock.release();
  }, 15_000);

  // Natural timing rarely hits the narrow windows (the strace test in download-lock.test.ts
  // forces them); this checks the claims work between real processes.
  it('one of several runs racing for a dead lock gets it, in every round', async () => {
    const script = fileURLToPath(new URL('../../fixtures/lock-once.ts', import.meta.url));
    for (let round = 0; round < 2; round++) {
      await writeFile(join(out, LOCK), `${await deadPid()}\n`);
      const runs = Array.from({ length: 4 }, () =>
        spawn(process.execPath, [script, out], { stdio: ['ignore', 'pipe', 'inherit'] }),
      );
      const said = await Promise.all(
        runs.map(async (run) => {
          let text = '';
          run.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          // 'close', not 'exit': at 'exit' the last of stdout may still be unread (a run
          // that printed "refused" read as "" once in CI).
          await once(run, 'close');
          return text.trim();
        }),
      );
      expect(said.filter((s) => s === 'locked').length, said.join(', ')).toBe(1);
      expect(said.filter((s) => s === 'refused').length).toBe(3);
      expect(await readdir(out)).toEqual([]);
    }
  }, 60_000);
});
