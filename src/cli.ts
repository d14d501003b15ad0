import type { Argv } from 'yargs';
import { ExitCode, exitCodeFor, Interrupted, reasonOf, UsageError } from './errors.ts';
import { COMMON_GROUP, commonOptions } from './config.ts';
import { declareOptions } from './option-table.ts';
import { sizeThreadPool } from './pool/runtime.ts';
import { printable } from './ui/printable.ts';
import { knownOptions, unknownOption, type KnownOptions } from './unknown-option.ts';
import type { Command, Io } from './commands/command.ts';
import pkg from '../package.json' with { type: 'json' };

/** A command as crew knows it before loading it: the words that name it, and its declaration. */
export interface CommandEntry {
  /** Its name and aliases, as its declaration's `usage` and `aliases` begin. */
  readonly names: readonly string[];
  readonly load: () => Promise<Command>;
}

/**
 * Every command, in the order `crew --help` lists them. A declaration imports what checks
 * its options (log formats, list formats, image sizes ...): loaded all together they were a
 * third of `crew sum`'s start-up, so a run loads only the commands its arguments name.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { names: ['sum'], load: async () => (await import('./commands/sum/options.ts')).sumCommand },
  {
    names: ['download-csv', 'download'],
    load: async () => (await import('./commands/download-csv/options.ts')).downloadCommand,
  },
  {
    names: ['logstats'],
    load: async () => (await import('./commands/logstats/options.ts')).logstatsCommand,
  },
  {
    names: ['worker'],
    load: async () => (await import('./commands/worker/options.ts')).workerCommand,
  },
  {
    names: ['queue'],
    load: async () => (await import('./commands/queue/options.ts')).queueCommand,
  },
];

/** `sum, download-csv, logstats, worker or queue`: each command's first word. */
const commandNames = (): string => {
  const names = COMMANDS.map((command) => command.names[0]!);
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
};

/**
 * The commands `argv` may run: those a word of it names (a word that is a file called `sum`
 * only loads one more), or every one when none is named (`crew --help`, a typo that yargs
 * suggests a command for, completion).
 */
export function commandsFor(argv: readonly string[]): Promise<Command[]> {
  const named = COMMANDS.filter((entry) => entry.names.some((name) => argv.includes(name)));
  return Promise.all((named.length > 0 ? named : COMMANDS).map((entry) => entry.load()));
}

/** crew's parser for these arguments: every command, the common options, help and version. */
export async function buildParser(argv: readonly string[], io: Io) {
  // Loaded here, not at the top: `crew --version` answers without it (start-up time).
  const { default: yargs } = await import('yargs');
  const commands = await commandsFor(argv);
  let parser = declareOptions(yargs([...argv]), commonOptions)
    .scriptName('crew')
    .usage('$0 <command> [options]\n\nBulk concurrent jobs on one worker pool.');
  for (const command of commands) {
    parser = parser.command(
      [command.usage, ...(command.aliases ?? [])],
      command.describe,
      command.options,
      (args) => command.handle(args, argv, io),
    );
  }
  return parser
    .completion('completion', 'Print a bash/zsh completion script (crew completion >> ~/.bashrc)')
    .demandCommand(1, `Name a command: ${commandNames()} (see crew --help)`)
    .recommendCommands()
    .strict()
    .version(pkg.version)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .group(['help', 'version'], COMMON_GROUP)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message: string | null, error: Error | undefined) => {
      // yargs' own validation (and our coerce functions, which it wraps) arrives as a YError;
      // anything else was thrown by a command and keeps its own exit code.
      if (error && error.name !== 'YError') throw error;
      // One line: yargs breaks some messages ("Invalid values:\n  Argument: ..."), and what
      // they quote was typed, so a newline in it must not start a line of its own.
      const text = (message ?? error?.message ?? 'invalid command line').replace(/\n\s*/g, ' ');
      const typed = argv.find((arg) => !arg.startsWith('-'));
      if (text.startsWith('Did you mean')) {
        throw new UsageError(`unknown command "${typed}". ${text}`);
      }
      // An unknown option took the positional after it as its value: name the option.
      const unknown = text.startsWith('Not enough non-option arguments')
        ? unknownOption(argv, optionsOf(commandIn(argv, commands)))
        : undefined;
      throw new UsageError(unknown ? `unknown option "${unknown}"` : text);
    });

  /** Every option `command` (or crew itself) takes, in each spelling yargs accepts. */
  function optionsOf(command: Command | undefined): KnownOptions {
    const base: Argv = declareOptions(yargs([]), commonOptions)
      .help()
      .alias('help', 'h')
      .alias('version', 'V');
    // getOptions is yargs' own (untyped) list of what was declared: names and their aliases.
    const declared = (command ? command.options(base) : base) as unknown as {
      getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> };
    };
    const { key, alias } = declared.getOptions();
    return knownOptions([...Object.keys(key), ...Object.values(alias).flat()]);
  }
}

/** The command named in `argv`: the first word that is one's name. */
function commandIn(argv: readonly string[], commands: readonly Command[]): Command | undefined {
  const byName = new Map(commands.map((c) => [c.usage.split(' ')[0]!, c]));
  for (const arg of argv) {
    const command = byName.get(arg);
    if (command) return command;
  }
  return undefined;
}

/**
 * Writes a result to stdout, in slices: a --json document for 100,000 files is ~13 MB, and
 * written whole it was copied once to add the newline and once more into a Buffer (~40 MB
 * more at the run's peak). A slice never ends inside a surrogate pair (its halves would each
 * become U+FFFD); nor does a piece of a report given in pieces (see json-text.ts).
 */
function writeOut(report: string | Iterable<string>): void {
  let last = '';
  for (const text of typeof report === 'string' ? [report] : report) {
    writeSlices(text);
    if (text !== '') last = text;
  }
  if (!last.endsWith('\n')) process.stdout.write('\n');
}

function writeSlices(text: string): void {
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + OUT_SLICE);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last < 0xdc00) end--;
    process.stdout.write(text.slice(start, end));
    start = end;
  }
}

/** Characters of stdout text written at a time. */
const OUT_SLICE = 2 ** 20;

/** The signals that stop a run (exit 130 after what was done); a second one exits at once. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs crew with these arguments; resolves to the exit code. The only place that picks one:
 * the entries (bin/crew.js, sea/main.ts) set the code it returns, and sea/main.ts exits 1
 * itself only when it cannot unpack crew at all.
 * `early`: signals that arrived while crew was still loading (the entry held them).
 */
export async function main(
  argv: readonly string[],
  early: readonly NodeJS.Signals[] = [],
): Promise<number> {
  sizeThreadPool(); // before the first asynchronous file call: nothing before main makes one
  const controller = new AbortController();
  let interrupts = 0;
  // What the running command would print if it had to stop now (its --json document).
  let last: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write('crew: interrupted again, exiting now\n');
      last?.(); // stdout is synchronous on Linux (files, pipes, terminals): it is written
      process.exit(130);
    }
    controller.abort(new Interrupted(`interrupted by ${signal}`));
  };
  // SIGHUP (the terminal closed, or `kill -HUP`) stops a run like SIGTERM: by default it
  // ended crew at once and left --out's lock and temp files behind.
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  for (const signal of early) onSignal(signal);
  // Kept after main returns: a failed write is reported on a later tick.
  if (!process.stdout.listeners('error').includes(onStdoutError)) {
    process.stdout.on('error', onStdoutError);
  }
  const io: Io = {
    signal: controller.signal,
    out: writeOut,
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    beforeExit: (print) => void (last = print),
  };
  try {
    if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
      io.out(pkg.version);
      return ExitCode.ok;
    }
    await (await buildParser(argv, io)).parseAsync();
    return ExitCode.ok;
  } catch (error) {
    const code = exitCodeFor(error);
    const debug = argv.includes('--debug');
    const text = debug && error instanceof Error ? (error.stack ?? error.message) : reasonOf(error);
    // Messages quote input (a CSV's header, a URL, a server's words, an unknown option): its
    // control characters are escaped, so it cannot retitle, clear or rewrite the terminal. A
    // stack keeps its own lines.
    const safe = debug ? text.split('\n').map(printable).join('\n') : printable(text);
    process.stderr.write(`crew: ${safe}\n`);
    if (code === 2 && !debug) process.stderr.write('Run crew --help for usage.\n');
    // Interrupted: what had to be cleaned up was, in `finally` blocks. A connection still
    // being tried (a queue host that never answers) must not hold the exit for its timeout.
    if (code === ExitCode.interrupted) setTimeout(() => process.exit(code), 1_000).unref();
    return code;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}

/**
 * The reader went away (`crew logstats --json | head -1`): stop quietly with 0, as ripgrep
 * does. Any other failure to print results (a full disk) is an error worth one line.
 */
function onStdoutError(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(0);
  process.stderr.write(`crew: cannot write the results: ${reasonOf(error)}\n`);
  process.exit(1);
}
