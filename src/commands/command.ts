/**
 * The one shape every command has. A declaration (options with their defaults, help,
 * examples, `toConfig`, how its progress reads) is cheap and loaded for `--help`; its `run`
 * module is imported only when the command runs. `runCommand` is the one place that shows
 * progress, prints the report as text or JSON, checks for failures and cleans up.
 */
import type { Argv } from 'yargs';
import type { CommonConfig } from '../config.ts';
import { partialOf, reasonOf, stopReason, UsageError } from '../errors.ts';
import type { PoolFactory } from '../pool/pool.ts';
import type { CrewTasks } from '../tasks/registry.ts';
import { jsonText } from '../ui/json-text.ts';
import { printable } from '../ui/printable.ts';
import { createProgress } from '../ui/progress.ts';
import { warmPools, type WarmOptions } from './warm-pool.ts';

/** What a running command gets besides its config. */
export interface RunContext {
  readonly signal: AbortSignal;
  /** Replaces the progress line on stderr (a no-op in pipes and with --quiet). */
  readonly progress: (text: string) => void;
  /**
   * Starts pools of crew's tasks: local workers, or with `--queue` the queue's. A command
   * hands this to its domain, which picks the workers; the domain never knows which.
   */
  readonly pools: PoolFactory<CrewTasks>;
}

/** Where results and diagnostics go: stdout for results, stderr for the rest. */
export interface Io {
  readonly signal: AbortSignal;
  /** Text, or a long text in pieces (a --json document of a million rows): one report. */
  readonly out: (text: string | Iterable<string>) => void;
  readonly err: (text: string) => void;
  /**
   * What to print should crew have to exit at once (a second Ctrl-C) before the command
   * printed its own report; undefined once it has.
   */
  readonly beforeExit?: (last: (() => void) | undefined) => void;
}

/** The part of a command loaded only when it runs. */
export interface CommandRun<C, R> {
  run(config: C, context: RunContext): Promise<R>;
  /** The report for people. */
  format(result: R, config: C): string;
  /** The report for machines (`--json`). */
  json(result: R, config: C): unknown;
  /** Throws ItemFailures (exit 1) after the report when some items failed. */
  check?(result: R): void;
  /** Lines for stderr after the report, e.g. that nothing was found. */
  notes?(result: R, config: C): readonly string[];
  /**
   * The `--json` fields of a run that stopped early, from what it had done (`partial`, as
   * its domain attached it to the error: see withPartial), or from what is known anyway.
   */
  stopped?(partial: unknown, config: C): Record<string, unknown>;
}

export interface CommandSpec<A, C extends CommonConfig, R> {
  /** yargs' command string: the name and its positionals, e.g. `sum [n]`. */
  readonly usage: string;
  /** Other names of the command, each with its positionals (`download <csv>`). */
  readonly aliases?: readonly string[];
  readonly describe: string;
  /** Declares the options, positionals and examples. */
  readonly options: (y: Argv) => Argv;
  /** Validates the parsed arguments (the raw argv too, for what yargs drops); throws UsageError. */
  readonly toConfig: (args: A, argv: readonly string[]) => C;
  /** The first progress line. */
  readonly progress: (config: C) => string;
  readonly load: () => Promise<CommandRun<C, R>>;
  /**
   * A pool the run will surely ask for, started while its code loads (warm-pool.ts); the
   * run gets it by asking for one with these options.
   */
  readonly warmPool?: (config: C) => WarmOptions | undefined;
}

/** A command as cli.ts lists it: its types are checked once, in `defineCommand`. */
export interface Command {
  readonly usage: string;
  readonly aliases?: readonly string[];
  readonly describe: string;
  readonly options: (y: Argv) => Argv;
  readonly handle: (args: unknown, argv: readonly string[], io: Io) => Promise<void>;
}

export function defineCommand<A, C extends CommonConfig, R>(spec: CommandSpec<A, C, R>): Command {
  return {
    usage: spec.usage,
    ...(spec.aliases ? { aliases: spec.aliases } : {}),
    describe: spec.describe,
    options: spec.options,
    handle: async (args, argv, io) => {
      // Words after `--` land in `_` (the command's own name comes first): say so rather than
      // ignore them (`crew sum -- -5` once summed the default range).
      const extra = (args as { _?: unknown[] })._?.slice(1) ?? [];
      if (extra.length > 0) throw new UsageError(`unexpected argument "${String(extra[0])}"`);
      await runCommand(spec, spec.toConfig(args as A, argv), io);
    },
  };
}

/** Runs one command: progress while it works, then its report, then its check. */
export async function runCommand<A, C extends CommonConfig, R>(
  spec: CommandSpec<A, C, R>,
  config: C,
  io: Io,
): Promise<void> {
  const progress = createProgress(config, spec.progress(config));
  // One Ctrl-C must stop a command that waits on stdin (a pipe that never ends, /dev/zero):
  // a reader of stdin then sees the interruption as its stream's error.
  const stopInput = (): void => {
    process.stdin.on('error', () => undefined).destroy(io.signal.reason as Error);
  };
  io.signal.addEventListener('abort', stopInput, { once: true });
  const local: PoolFactory<CrewTasks> = async (options) => {
    // Loaded only when a command starts a pool: `--help` and start-up need none of it.
    const { createTaskPool } = await import('../tasks/pool.ts');
    return createTaskPool(
      { ...options, warn: (text) => progress.say(`crew: ${text}`) },
      config.queue,
    );
  };
  const warm = await warmPools(local, spec.warmPool?.(config), io.signal);
  const { pools } = warm;
  try {
    const command = await spec.load();
    const json = (value: unknown): void => {
      io.beforeExit?.(undefined);
      io.out(jsonText(value));
    };
    // With --json, exactly one document on stdout whatever happens from here on.
    if (config.json) io.beforeExit?.(() => json(stoppedJson(command, io.signal.reason, config)));
    let result: R;
    try {
      result = await command.run(config, {
        signal: io.signal,
        progress: (text) => progress.update(text),
        pools,
      });
    } catch (error) {
      progress.stop();
      if (config.json) json(stoppedJson(command, error, config));
      throw error;
    }
    progress.stop();
    // Notes quote input (file names, a manifest's path): escaped, as every line crew prints.
    for (const note of command.notes?.(result, config) ?? []) io.err(`crew: ${printable(note)}`);
    if (config.json) json(command.json(result, config));
    else io.out(command.format(result, config));
    command.check?.(result);
  } finally {
    io.beforeExit?.(undefined);
    io.signal.removeEventListener('abort', stopInput);
    progress.stop();
    await warm.release();
  }
}

/**
 * The `--json` document of a run that stopped early: what the command knows it had done,
 * and `stopped`: why, as a word (interrupted, usage, error) and the message crew prints.
 */
export function stoppedJson<C, R>(
  command: CommandRun<C, R>,
  error: unknown,
  config: C,
): Record<string, unknown> {
  return {
    ...command.stopped?.(partialOf(error), config),
    stopped: { reason: stopReason(error), message: reasonOf(error) },
  };
}
