import { ExitCode, exitCodeFor, Interrupted, reasonOf, UsageError } from './errors.ts';
import { COMMON_GROUP, commonOptions } from './config.ts';
import { declareOptions } from './option-table.ts';
import type { Command, Io } from './commands/command.ts';
import { downloadCommand } from './commands/download-csv/options.ts';
import { logstatsCommand } from './commands/logstats/options.ts';
import { sumCommand } from './commands/sum/options.ts';
import { workerCommand } from './commands/worker/options.ts';
import { queueCommand } from './commands/queue/options.ts';
import pkg from '../package.json' with { type: 'json' };

/** Every command, in the order `crew --help` lists them. */
const commands: readonly Command[] = [
  sumCommand,
  downloadCommand,
  logstatsCommand,
  workerCommand,
  queueCommand,
];

/** `download-csv, logstats, sum, worker or queue`: each command's first word. */
const commandNames = (): string => {
  const names = commands.map((command) => command.usage.split(' ')[0]!);
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
};

/** crew's parser for these arguments: every command, the common options, help and version. */
export async function buildParser(argv: readonly string[], io: Io) {
  // Loaded here, not at the top: `crew --version` answers without it (start-up time).
  const { default: yargs } = await import('yargs');
  let parser = declareOptions(yargs([...argv]), commonOptions)
    .scriptName('crew')
    .usage('$0 <command> [options]\n\nBulk concurrent jobs on one worker pool.');
  for (const command of commands) {
    parser = parser.command(command.usage, command.describe, command.options, (args) =>
      command.handle(args, argv, io),
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
      const text = message ?? error?.message ?? 'invalid command line';
      const typed = argv.find((arg) => !arg.startsWith('-'));
      throw new UsageError(
        text.startsWith('Did you mean') ? `unknown command "${typed}". ${text}` : text,
      );
    });
}

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
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write('crew: interrupted again, exiting now\n');
      process.exit(130);
    }
    controller.abort(new Interrupted(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (const signal of early) onSignal(signal);
  // Kept after main returns: a failed write is reported on a later tick.
  if (!process.stdout.listeners('error').includes(onStdoutError)) {
    process.stdout.on('error', onStdoutError);
  }
  const io: Io = {
    signal: controller.signal,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
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
    process.stderr.write(`crew: ${text}\n`);
    if (code === 2 && !debug) process.stderr.write('Run crew --help for usage.\n');
    // Interrupted: what had to be cleaned up was, in `finally` blocks. A connection still
    // being tried (a queue host that never answers) must not hold the exit for its timeout.
    if (code === ExitCode.interrupted) setTimeout(() => process.exit(code), 1_000).unref();
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
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
