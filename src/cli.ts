import type { Argv } from 'yargs';
import { exitCodeFor, Interrupted, UsageError } from './errors.ts';
import { MAX_WORKERS, parseWorkers } from './config.ts';
import { runtimes } from './pool/runtime.ts';
import { createProgress } from './ui/progress.ts';
import { printable } from './ui/printable.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_PER_HOST } from './download/defaults.ts';
import pkg from '../package.json' with { type: 'json' };

/** What every command handler gets besides its arguments. */
export interface RunContext {
  readonly signal: AbortSignal;
  /** Results go here (stdout); diagnostics and progress go to stderr. */
  readonly out: (text: string) => void;
}

function commonOptions<T>(y: Argv<T>) {
  return y
    .option('workers', {
      alias: 'w',
      type: 'number',
      describe: `Workers in the pool (1-${MAX_WORKERS}) [default: one per core]`,
      requiresArg: true,
      coerce: parseWorkers,
    })
    .option('runtime', {
      type: 'string',
      choices: runtimes,
      describe: 'Where tasks run: worker threads, child processes, or inline (serial baseline)',
      requiresArg: true,
    })
    .option('json', { type: 'boolean', describe: 'Print one JSON document on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'No progress on stderr' })
    .option('debug', { type: 'boolean', describe: 'Show stack traces for errors' });
}

async function buildParser(argv: readonly string[], context: RunContext) {
  // Loaded here, not at the top: `crew --version` answers without it (start-up time).
  const { default: yargs } = await import('yargs');
  const parser = commonOptions(yargs([...argv]))
    .scriptName('crew')
    .usage('$0 <command> [options]\n\nBulk concurrent jobs on one worker pool.')
    .command(
      'sum [n]',
      'Add every integer in [0, N) over all cores, exactly: a CPU benchmark',
      (y) =>
        y
          .positional('n', {
            type: 'string',
            describe:
              'Count of integers to add, from 0 (100000000, 1e8, 100_000_000) [default: 1e8]',
          })
          .option('start', {
            type: 'string',
            describe: 'First integer (inclusive)',
            requiresArg: true,
          })
          .option('end', {
            type: 'string',
            describe: 'Last integer (exclusive)',
            requiresArg: true,
          })
          .option('bench', {
            type: 'boolean',
            describe: 'Time serial, threads and processes for 1..workers side by side',
          })
          .option('repeat', {
            type: 'number',
            describe: 'Timed runs per configuration with --bench [default: 5]',
            requiresArg: true,
          })
          .example('$0 sum 1e9', 'Sum [0, 1e9) on every core: 499999999500000000')
          .example('$0 sum --start -1000000 --end 1000001', 'Sum a signed range: 0')
          .example('$0 sum 1e9 --runtime process --workers 2', 'Two child processes')
          .example('$0 sum --bench 1e9 --repeat 3', 'Serial vs threads vs processes'),
      async (args) => {
        // Each command loads its code when it runs: `crew --help` need not load them all.
        const {
          benchJson,
          checkSum,
          formatBench,
          formatSum,
          runSum,
          runSumBench,
          sumJson,
          toSumConfig,
        } = await import('./commands/sum.ts');
        const config = toSumConfig(args);
        if (config.repeat !== undefined) {
          const progress = createProgress(config, 'benchmarking');
          try {
            const rows = await runSumBench(config, context.signal, (label) =>
              progress.update(label),
            );
            progress.stop();
            context.out(
              config.json
                ? JSON.stringify(benchJson(config, rows), null, 2)
                : formatBench(config, rows),
            );
            return;
          } finally {
            progress.stop();
          }
        }
        const progress = createProgress(
          config,
          `adding ${config.range.end - config.range.start} integers`,
        );
        try {
          const result = await runSum(config, context.signal, (text) => progress.update(text));
          progress.stop();
          context.out(config.json ? JSON.stringify(sumJson(result), null, 2) : formatSum(result));
          checkSum(result);
        } finally {
          progress.stop();
        }
      },
    )
    .command(
      'download-csv <csv>',
      'Download every image listed in a CSV: retries, resume, safe names, a manifest',
      (y) =>
        y
          .positional('csv', {
            type: 'string',
            describe: 'The CSV file, or - to read it from stdin',
          })
          .option('out', {
            alias: 'o',
            type: 'string',
            describe: 'Output directory [default: images]',
            requiresArg: true,
          })
          .option('csv-header', {
            type: 'string',
            choices: ['yes', 'no', 'auto'],
            describe: 'Is the first row a header? [default: auto]',
            requiresArg: true,
          })
          .option('url-column', {
            type: 'string',
            describe: 'URL column: header name or 1-based index [default: detected]',
            requiresArg: true,
          })
          .option('name-column', {
            type: 'string',
            describe: 'Name column: header name or 1-based index [default: detected]',
            requiresArg: true,
          })
          .option('ext', {
            type: 'string',
            describe: 'Force this extension (e.g. png) [default: from the content]',
            requiresArg: true,
          })
          .option('any-type', { type: 'boolean', describe: 'Accept bodies that are not images' })
          .option('concurrency', {
            alias: 'c',
            type: 'number',
            describe: `Downloads in flight per worker [default: ${DEFAULT_CONCURRENCY}]`,
            requiresArg: true,
          })
          .option('per-host', {
            type: 'number',
            describe: `Connections per origin, all workers together [default: ${DEFAULT_PER_HOST}]`,
            requiresArg: true,
          })
          .option('retries', {
            type: 'number',
            describe: 'Retries for network errors, timeouts, 5xx, 408, 429 [default: 3]',
            requiresArg: true,
          })
          .option('backoff', {
            type: 'number',
            describe: 'First retry delay in seconds, doubling with jitter [default: 0.5]',
            requiresArg: true,
          })
          .option('timeout', {
            type: 'number',
            describe:
              'Seconds allowed to connect, get headers, or between body bytes [default: 30]',
            requiresArg: true,
          })
          .option('max-bytes', {
            type: 'string',
            describe: 'Abort bodies bigger than this [default: 50M]',
            requiresArg: true,
          })
          .option('user-agent', {
            type: 'string',
            describe: 'User-Agent header [default: a desktop browser]',
            requiresArg: true,
          })
          .option('header', {
            alias: 'H',
            type: 'string',
            array: true,
            describe: 'Extra request header "Name: value" (repeatable)',
            requiresArg: true,
          })
          .option('force', {
            type: 'boolean',
            describe: 'Download every row again, even if the manifest says done',
          })
          .example('$0 download-csv mv.csv', 'Every image of mv.csv into images/')
          .example(
            '$0 download-csv list.csv -o pics --ext png',
            'Into pics/, every file named .png',
          )
          .example('scraper | $0 download-csv - --url-column image_url', 'Stream rows from a pipe')
          .example('$0 download-csv big.csv -w 4 -c 32 --per-host 16', 'More in flight'),
      async (args) => {
        const { checkDownload, downloadJson, formatDownload, runDownload, toDownloadConfig } =
          await import('./commands/download-csv.ts');
        // yargs reads a bare "-" as no value: it means stdin here.
        const config = toDownloadConfig({
          ...args,
          csv: args.csv || (argv.includes('-') ? '-' : undefined),
        });
        const progress = createProgress(config, 'reading the CSV');
        try {
          const result = await runDownload(config, context.signal, (p) => {
            const seconds = p.elapsedMs / 1000;
            const eta =
              p.fraction && p.fraction > 0.01 && p.fraction < 1
                ? `, ETA ${Math.round((seconds / p.fraction) * (1 - p.fraction))} s`
                : '';
            progress.update(
              `${p.done} of ${p.fraction === 1 ? p.read : `${p.read}+`} rows, ` +
                `${(p.bytes / 1e6).toFixed(1)} MB (${(p.bytes / 1e6 / Math.max(seconds, 0.001)).toFixed(1)} MB/s), ` +
                `${p.failed} failed${eta}`,
            );
          });
          progress.stop();
          context.out(
            config.json ? JSON.stringify(downloadJson(result), null, 2) : formatDownload(result),
          );
          checkDownload(result);
        } finally {
          progress.stop();
        }
      },
    )
    .command(
      'logstats <paths..>',
      'Count requests and distinct client IPs per access-log file, exactly, on every core',
      (y) =>
        y
          .positional('paths', {
            type: 'string',
            array: true,
            describe: 'Log directories, log files (.gz too), or - for stdin',
          })
          .option('recursive', {
            alias: 'r',
            type: 'boolean',
            describe: 'Descend into subdirectories of a directory',
          })
          .option('top', {
            type: 'number',
            describe: 'Also list the K busiest client IPs per file and overall',
            requiresArg: true,
          })
          .option('split-size', {
            type: 'string',
            describe: 'Cut files bigger than this into byte ranges (e.g. 64M) [default: auto]',
            requiresArg: true,
          })
          .example('$0 logstats files/', 'Every log in files/: requests and distinct IPs')
          .example('$0 logstats access.log.1 access.log.2.gz --top 10', 'Two files, top clients')
          .example('$0 logstats files/ --json', 'The same as one JSON document')
          .example('zcat old.log.gz | $0 logstats -', 'A log from stdin'),
      async (args) => {
        const { checkLogstats, formatLogstats, logstatsJson, runLogstats, toLogstatsConfig } =
          await import('./commands/logstats.ts');
        // yargs drops a bare "-" from variadic positionals: put stdin back from the raw argv.
        const stdin = argv.includes('-') && !args.paths?.includes('-') ? ['-'] : [];
        const config = toLogstatsConfig({ ...args, paths: [...(args.paths ?? []), ...stdin] });
        const progress = createProgress(config, 'counting');
        try {
          const result = await runLogstats(config, context.signal, (p) =>
            progress.update(
              `counting: ${p.files} of ${p.totalFiles} files, ` +
                `${(p.bytes / 1e6).toFixed(0)} of ${(p.totalBytes / 1e6).toFixed(0)} MB`,
            ),
          );
          progress.stop();
          if (result.files.length === 0 && result.failed.length === 0) {
            process.stderr.write(`crew: no log files in ${printable(config.paths.join(', '))}\n`);
          }
          context.out(
            config.json ? JSON.stringify(logstatsJson(result), null, 2) : formatLogstats(result),
          );
          checkLogstats(result);
        } finally {
          progress.stop();
        }
      },
    )
    .completion('completion', 'Print a bash/zsh completion script (crew completion >> ~/.bashrc)')
    .demandCommand(1, 'Name a command: download-csv, logstats or sum (see crew --help)')
    .recommendCommands()
    .strict()
    .version(pkg.version)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
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
  return parser;
}

/** Runs crew with these arguments; resolves to the exit code. The only place that picks one. */
export async function main(argv: readonly string[]): Promise<number> {
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
  const context: RunContext = {
    signal: controller.signal,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  };
  try {
    if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
      context.out(pkg.version);
      return 0;
    }
    await (await buildParser(argv, context)).parseAsync();
    return 0;
  } catch (error) {
    const code = exitCodeFor(error);
    const debug = argv.includes('--debug');
    const text =
      debug && error instanceof Error ? (error.stack ?? error.message) : messageOf(error);
    process.stderr.write(`crew: ${text}\n`);
    if (code === 2 && !debug) process.stderr.write('Run crew --help for usage.\n');
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
