/**
 * Makes this child process die as soon as its parent is gone. A parent killed with -9 cannot
 * tell its children, but their IPC channel closes and Node emits 'disconnect' at the child's
 * next turn of the event loop. Tasks therefore must not hold the event loop for long (crew's
 * long tasks yield every ~100 ms). A watcher thread would catch even a task that never
 * yields, but costs each child ~90 ms of CPU to start: too much on every run.
 */
export function guardAgainstOrphaning(): void {
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}
