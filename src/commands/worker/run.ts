import { Interrupted, reasonOf, withPartial } from '../../errors.ts';
import { MAX_BATCH } from '../../pool/queue/wire.ts';
import { serveQueue, type WorkerEvent } from '../../pool/queue/serve.ts';
import { redactUrl } from '../../pool/queue/url.ts';
import { acceptTask, taskNamed } from '../../tasks/registry.ts';
import type { WorkerScope } from '../../tasks/scope.ts';
import { plural } from '../../ui/format.ts';
import { printable } from '../../ui/printable.ts';
import type { RunContext } from '../command.ts';
import pkg from '../../../package.json' with { type: 'json' };
import type { WorkerConfig } from './options.ts';

export interface WorkerResult {
  readonly tasks: number;
  readonly failed: number;
}

/**
 * Serves the queue on a local pool until Ctrl-C or SIGTERM, then finishes the tasks it
 * holds (a second signal stops at once: those tasks run again elsewhere after their
 * heartbeat timeout). Says on stderr what it does: it is a long-running service.
 */
export async function run(config: WorkerConfig, context: RunContext): Promise<WorkerResult> {
  // Messages can hold a file name or a server's words: escaped, like everything printed.
  const say = (text: string): void => {
    if (!config.quiet) process.stderr.write(`crew worker: ${printable(text)}\n`);
  };
  // No signal for the pool: a stop lets running tasks finish rather than killing them.
  const pool = await context.pools({
    runtime: config.runtime,
    workers: config.workers,
    // One job carries up to MAX_BATCH tasks (downloads); CPU jobs carry one each.
    tasksPerWorker: MAX_BATCH,
  });
  const counts = { tasks: 0, failed: 0, jobs: 0 };
  let running = 0;
  context.signal.addEventListener(
    'abort',
    () =>
      say(
        running > 0
          ? `stopping after the ${plural(running, 'job')} running (Ctrl-C again to stop now; they would run again elsewhere)`
          : 'stopping',
      ),
    { once: true },
  );
  // Off a terminal (a service's log), each job's start and end is a line of its own.
  const tell = (line: string): void => {
    context.progress(line);
    if (!process.stderr.isTTY) say(line);
  };
  const tally = (): string =>
    `${plural(counts.tasks, 'task')} done (${counts.failed} failed) in ${plural(counts.jobs, 'job')}`;
  const onEvent = (event: WorkerEvent): void => {
    switch (event.kind) {
      case 'serving':
        return say(
          `serving ${redactUrl(config.url)} with ${pool.workers} × ${config.runtime}; Ctrl-C to stop`,
        );
      case 'trouble':
        return say(`trouble with the queue (retrying): ${event.error.message}`);
      case 'refused':
        return say(`refused a task ${printable(event.task.slice(0, 40))}: ${event.reason}`);
      case 'dropped':
        return say(`dropped ${plural(event.jobs, 'job')}: ${event.why}`);
      case 'job-started': {
        running++;
        const first = event.tasks[0];
        const current = first
          ? describeTask(first.name, first.input, config.scope)
          : 'an empty job';
        const more = event.tasks.length > 1 ? ` and ${event.tasks.length - 1} more` : '';
        return tell(`running ${current}${more}`);
      }
      case 'job-stopped':
        running--;
        return say(`stopped a job: ${event.why}`);
      case 'job-done':
        running--;
        counts.jobs++;
        counts.tasks += event.tasks;
        counts.failed += event.failed;
        return tell(tally());
    }
  };
  try {
    await serveQueue({
      url: config.url,
      slots: pool.workers,
      version: pkg.version,
      run: (name, input, signal) =>
        pool.run(name as 'sumRange', input as never, { signal }).catch((error: unknown) => {
          // The coordinator names the task itself: send the reason a local run would print.
          throw new Error(reasonOf(error));
        }),
      accept: (name, input) => acceptTask(name, input, config.scope),
      signal: context.signal,
      onEvent,
    });
  } finally {
    await pool.destroy();
  }
  const result: WorkerResult = { tasks: counts.tasks, failed: counts.failed };
  throw withPartial(new Interrupted(`stopped: ${tally()}`), result);
}

/** The task a worker is on, in a few words (its input is not checked yet: it may be anything). */
function describeTask(name: string, input: unknown, scope: WorkerScope): string {
  const task = taskNamed(name);
  return task && acceptTask(name, input, scope) === undefined
    ? task.describe(input)
    : `a refused task (${printable(name.slice(0, 40))})`;
}

export const format = (result: WorkerResult): string =>
  `${plural(result.tasks, 'task')} done (${result.failed} failed)`;
export const json = (result: WorkerResult): unknown => result;
/** A worker always ends stopped: its counts. */
export const stopped = (partial: unknown): Record<string, unknown> => ({
  ...(partial as WorkerResult | undefined),
});
