import { Worker } from 'node:worker_threads';

/**
 * Makes this child process die soon after its parent does. A parent killed with -9 cannot
 * tell its children, and a child whose main thread is busy (a WebAssembly loop, a long
 * synchronous scan) never sees its IPC channel close. So a tiny watcher thread, which a busy
 * main thread cannot starve, polls the parent pid and kills the whole process once the
 * child has been re-parented.
 */
export function guardAgainstOrphaning(intervalMs = 200): void {
  const watcher = new Worker(
    `const { workerData } = require('node:worker_threads');
     setInterval(() => {
       if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL');
     }, workerData.intervalMs);`,
    { eval: true, workerData: { parent: process.ppid, self: process.pid, intervalMs } },
  );
  // The watcher must never be what keeps the child alive.
  watcher.unref();
}
