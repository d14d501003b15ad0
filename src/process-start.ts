/**
 * Whether the process that wrote a file is still running, told by its pid and when it
 * started: a pid alone is reused by the system, so a dead run's pid that now names another
 * process must not keep its files alive. Linux's /proc says when a process started; where
 * there is none, start times are unknown and only the pid is checked.
 */
import { readFileSync } from 'node:fs';

/**
 * When process `pid` started, in clock ticks since boot: the 22nd field of /proc/<pid>/stat
 * (Linux); undefined where there is no /proc or the process is gone.
 */
export function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the name's last ")": the state is field 3, so the start time is the 20th here.
    const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return started !== undefined && /^\d{1,20}$/.test(started) ? started : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether process `pid` is running: it answers a signal, it is not a zombie (exited but not
 * reaped), and when `started` is given, it started then (else the pid was reused).
 */
export function isRunning(pid: number, started: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EPERM') return false; // EPERM: another user's
  }
  if (isZombie(pid)) return false;
  const now = started === undefined ? undefined : startOf(pid);
  return now === undefined || now === started;
}

/**
 * A process that has exited but not yet been reaped by its parent still answers kill(pid, 0):
 * right after a kill -9, until whoever started crew waits for it, it looked alive. Its state
 * in /proc (Linux) says it is dead; elsewhere the signal's answer stands.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (name) S ...": the name may hold spaces and parentheses, the state follows the last ")".
    const state = stat[stat.lastIndexOf(')') + 2];
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}
