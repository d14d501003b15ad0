import type { Backend } from './backend.ts';
import { taskTable } from './task-table.ts';

/** Runs tasks in this thread, at most `concurrency` at once: the serial baseline. */
export async function inlineBackend(
  module: URL,
  concurrency: number,
  signal: AbortSignal | undefined,
): Promise<Backend> {
  const tasks = taskTable((await import(module.href)) as Record<string, unknown>);
  let running = 0;
  const waiting: (() => void)[] = [];
  return {
    async run(name, input, stop) {
      const task = tasks[name];
      if (typeof task !== 'function') throw new Error(`no task named "${name}" in ${module.href}`);
      if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
      running++;
      try {
        const both = stop && signal ? AbortSignal.any([signal, stop]) : (stop ?? signal);
        return await (task as (input: unknown, signal?: AbortSignal) => unknown)(input, both);
      } finally {
        running--;
        waiting.shift()?.();
      }
    },
    destroy: () => Promise.resolve(),
  };
}
