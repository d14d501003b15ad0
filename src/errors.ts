/**
 * The errors that decide crew's exit code. Commands throw these; only `src/cli.ts`
 * turns them into `process.exitCode` (see `exitCodeFor`).
 */

/** The command line was wrong: exit 2, the message says what is allowed. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The run finished but some items failed: exit 1, after the results were printed. */
export class ItemFailures extends Error {
  override name = 'ItemFailures';
  readonly failed: number;
  constructor(failed: number, message = `${failed} item${failed === 1 ? '' : 's'} failed`) {
    super(message);
    this.failed = failed;
  }
}

/** Ctrl-C or SIGTERM stopped the run: exit 130, after a one-line summary. */
export class Interrupted extends Error {
  override name = 'Interrupted';
  constructor(summary = 'interrupted') {
    super(summary);
  }
}

export const ExitCode = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Maps any thrown value to the exit code a script calling crew can rely on. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return ExitCode.usage;
  if (error instanceof Interrupted) return ExitCode.interrupted;
  return ExitCode.failed;
}

/**
 * An error as a short reason a person reads: the system's words without the stack, common
 * errno codes in plain English, and for a failed pool task, what the task itself threw.
 */
export function reasonOf(error: unknown): string {
  const e = (error instanceof Error && error.name === 'TaskError' ? error.cause : error) as
    NodeJS.ErrnoException | undefined;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'EMFILE':
    case 'ENFILE':
      return TOO_MANY_OPEN_FILES;
    case 'ERR_WORKER_INIT_FAILED':
      // Node's words for a thread that found no descriptor for its event loop.
      if (/\bE[MN]FILE\b/.test(e.message)) return TOO_MANY_OPEN_FILES;
      break;
    case 'Z_BUF_ERROR':
    case 'Z_DATA_ERROR':
      return `corrupt gzip data (${e.message})`;
  }
  return e instanceof Error ? e.message : String(e);
}

const TOO_MANY_OPEN_FILES = 'too many open files: raise ulimit -n, or use fewer workers';

/** What each run that stopped early had done, keyed by the error that stopped it. */
const partials = new WeakMap<object, unknown>();

/**
 * `error`, marked with what its run had done when it stopped (the counts so far): `--json`
 * prints that, with why it stopped, so a run that ends early still prints one document.
 */
export function withPartial<E>(error: E, partial: unknown): E {
  if (typeof error === 'object' && error !== null) partials.set(error, partial);
  return error;
}

/** What the run stopped by `error` (or by an error it wraps, as its cause) had done, if known. */
export function partialOf(error: unknown): unknown {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    if (partials.has(e)) return partials.get(e);
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Why a run stopped, in one word a script can test: as its exit code says. */
export function stopReason(error: unknown): 'interrupted' | 'usage' | 'error' {
  const code = exitCodeFor(error);
  return code === ExitCode.interrupted
    ? 'interrupted'
    : code === ExitCode.usage
      ? 'usage'
      : 'error';
}
