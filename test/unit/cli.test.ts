import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildParser, COMMANDS, commandsFor } from '../../src/cli.ts';
import type { Io } from '../../src/commands/command.ts';
import { UsageError } from '../../src/errors.ts';

const samples = new URL('../../samples/logs', import.meta.url).pathname;

const io: Io = {
  signal: new AbortController().signal,
  out: () => undefined,
  err: () => undefined,
};

/** What `crew <argv>` prints for --help, from crew's own parser. */
async function help(argv: readonly string[]): Promise<string> {
  const parser = await buildParser(argv, io);
  return new Promise((resolve, reject) => {
    void parser.parse([...argv], {}, (error, _args, output) =>
      error ? reject(error) : resolve(output),
    );
  });
}

/** The help's sections (`Input:`, `Common options:`...) and the options each lists, in order. */
function sections(text: string): [string, string[]][] {
  const found: [string, string[]][] = [];
  for (const line of text.split('\n')) {
    if (/^\S.*:$/.test(line)) found.push([line, []]);
    const flag = /^ {2}(?:-\w, | {4})?--([\w.-]+)/.exec(line)?.[1];
    const section = found.at(-1);
    // An example that wraps may start a line with a flag too.
    if (flag !== undefined && section?.[0] !== 'Examples:') section?.[1].push(flag);
  }
  return found;
}

const COMMON = ['workers', 'runtime', 'json', 'quiet', 'debug', 'queue', 'task-timeout'];
const common: [string, string[]] = ['Common options:', [...COMMON, 'help', 'version']];

describe('the commands crew loads', () => {
  it('names each command as its declaration does', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      const words = [command.usage, ...(command.aliases ?? [])].map((u) => u.split(' ')[0]);
      expect(entry.names).toEqual(words);
    }
  });

  it.each([
    [['sum', '1e6'], ['sum']],
    [['download', 'list.csv'], ['download-csv']],
    [
      ['logstats', 'sum', '--json'],
      ['sum', 'logstats'],
    ],
    [['--help'], ['sum', 'download-csv', 'logstats', 'worker', 'queue']],
    [['sun'], ['sum', 'download-csv', 'logstats', 'worker', 'queue']],
  ])('crew %j loads %j', async (argv, loaded) => {
    const commands = await commandsFor(argv);
    expect(commands.map((command) => command.usage.split(' ')[0])).toEqual(loaded);
  });

  it('still suggests a command for a typo', async () => {
    await expect(buildParser(['sun'], io).then((p) => p.parseAsync())).rejects.toThrow(
      /Did you mean sum/,
    );
  });
});

describe('crew <command> --help', () => {
  it.each([
    [
      'download-csv',
      [
        ['Positionals:', []],
        [
          'Input:',
          [
            ...['input-format', 'csv-header', 'url-column', 'name-column', 'caption-column'],
            ...['save-columns', 'encoding'],
          ],
        ],
        [
          'Output:',
          [
            ...['out', 'ext', 'any-type', 'force', 'layout', 'shard-size', 'output-format'],
            'dry-run',
          ],
        ],
        [
          'Network:',
          [
            ...['concurrency', 'per-host', 'retries', 'backoff', 'timeout', 'max-time'],
            ...['max-bytes', 'user-agent', 'header', 'opt-out-directives', 'ignore-opt-out'],
            ...['robots-txt', 'location-trusted', 'http1.1', 'http2', 'limit-rate', 'cacert'],
          ],
        ],
        [
          'Images:',
          [
            ...['resize-mode', 'image-size', 'resize-only-if-bigger', 'encode-format'],
            ...['encode-quality', 'skip-reencode', 'keep-metadata', 'min-image-size'],
            ...['max-image-area', 'max-aspect-ratio'],
          ],
        ],
        common,
        ['Examples:', []],
      ],
    ],
    [
      'logstats',
      [
        ['Positionals:', []],
        ['Input:', ['recursive', 'split-size']],
        [
          'Lines:',
          [
            ...['format', 'log-format', 'date-format', 'time-format', 'datetime-format'],
            ...['ip-field', 'time-field'],
          ],
        ],
        ['Filters:', ['since', 'until', 'exclude-ip', 'status', 'ignore-crawlers']],
        ['Output:', ['panels', 'panel-rows', 'top', 'by', 'utc', 'html']],
        common,
        ['Examples:', []],
      ],
    ],
    [
      'sum',
      [
        ['Positionals:', []],
        ['Range:', ['start', 'end']],
        ['Benchmark:', ['bench', 'repeat']],
        common,
        ['Examples:', []],
      ],
    ],
    [
      'worker',
      [['Positionals:', []], ['Scope:', ['allow-dir', 'allow-read']], common, ['Examples:', []]],
    ],
    ['queue', [['Positionals:', []], common, ['Examples:', []]]],
  ] as const)(
    'crew %s --help: its own options in their groups, then the common ones',
    async (command, expected) => {
      expect(sections(await help([command, '--help']))).toEqual(expected);
    },
  );

  it('shows each default as typed, from its option', async () => {
    const text = await help(['download-csv', '--help']);
    expect(text).toMatch(/--out\s+Output directory\s+\[string\] \[default: images\]/);
    expect(text).toMatch(/--max-bytes .*\[default: 50M\]/);
    expect(text).toMatch(/--user-agent .*\[default: a desktop browser\]/);
    expect(text).toMatch(/--task-timeout [^[]*\[string\] \[default: 30\]/);
    // A flag that is off unless given shows no default.
    expect(text).not.toMatch(/\[default: false\]/);
    const sum = await help(['sum', '--help']);
    expect(sum).toMatch(/--repeat .*\[number\] \[default: 5\]/);
    expect(sum).toMatch(/^ {2}n .*\[default: 1e8\]$/m);
  });

  it('crew --help lists the commands, then the common options', async () => {
    const text = await help(['--help']);
    expect(sections(text).map(([name]) => name)).toEqual(['Commands:', 'Common options:']);
    expect(sections(text)[1]).toEqual(common);
  });
});

describe('a flag the config must see given or not reaches it only when given', () => {
  // With a default handed to yargs, --task-timeout (needs --queue), --time-field (needs --by)
  // and N (not with --start/--end) would be present on every run, and these would fail.
  it.each([
    [['sum', '--start', '2', '--end', '5'], /"result": "9"/],
    [['logstats', samples], /"total": 1500,\s+"ip": 296/],
  ])('crew %j', async (argv, report) => {
    const out: string[] = [];
    const parser = await buildParser([...argv, '--runtime', 'inline', '--json', '-q'], {
      ...io,
      out: (text) => out.push(typeof text === 'string' ? text : [...text].join('')),
    });
    await parser.parseAsync();
    expect(out.join('')).toMatch(report);
  });
});

describe('a flag of one value given twice', () => {
  // yargs would hand the config an array of both: once a path the run could not use, or a
  // crash printing the table.
  it.each([
    [['download-csv', 'a.csv', '-o', 'a', '-o', 'b'], 'out'],
    [['download-csv', 'a.csv', '--csv-header', 'yes', '--csv-header', 'no'], 'csv-header'],
    [['logstats', samples, '--by', 'day', '--by', 'hour'], 'by'],
    [['sum', '--runtime', 'thread', '--runtime', 'inline'], 'runtime'],
    [['queue', 'status', '--url', 'postgres://a/b', '--url', 'postgres://c/d'], 'url'],
  ])('crew %j is a usage error', async (argv, flag) => {
    const error: unknown = await (
      await buildParser(argv, io)
    )
      .parseAsync()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(`--${flag} was given more than once`);
  });
});

describe('a repeatable flag takes one value each time', () => {
  // A greedy list took the CSV named after -H as another header: "name the CSV file".
  it('crew download-csv -H a -H b list.csv reads list.csv', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crew-cli-'));
    try {
      writeFileSync(join(dir, 'list.csv'), 'url\nhttp://127.0.0.1:9/a.png\n');
      const argv = ['download-csv', '-H', 'X-A: 1', '-H', 'X-B: 2', join(dir, 'list.csv')];
      const out: string[] = [];
      const parser = await buildParser([...argv, '--dry-run', '--json', '-q'], {
        ...io,
        out: (text) => out.push(typeof text === 'string' ? text : [...text].join('')),
      });
      await parser.parseAsync();
      expect(JSON.parse(out.join(''))).toMatchObject({ dryRun: true, rows: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
